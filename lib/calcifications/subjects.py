"""Patient and positioning variation of a figure: one site's anatomy made to look like another film.

Every figure of a site and view is projected from the same 3-D anatomy (``data/anatomy``);
without variation, figures of one site share one background. A :class:`Subject` varies the
patient and the film without a new 3-D build (it works on the projected maps, so it costs
milliseconds and no cache entry):

- ``scale``: overall size of the patient (bones and soft tissue, in the image plane and
  along the beam), 0.9–1.1;
- ``width``: stretch across the image x axis (for a limb running down the image: a
  broader or slimmer limb, bones included), 0.92–1.08;
- ``fat`` and ``muscle``: factors on the path lengths through adipose tissue and through
  muscle (a thinner or fatter subcutaneous layer, more or less muscle bulk), 0.6–1.6 and
  0.8–1.25;
- ``tilt_deg``: in-plane rotation of the limb on the detector (degrees, positive clockwise
  as seen), −8…8;
- ``shift_mm``: [dx, dy] displacement of the part in the field (mm), each within ±25;
- ``fluence``: factor on the exposure's fluence (a different exposure and noise level),
  0.5–2.

Where the body reaches the edge of the field (a limb cut by it), a tilt, shift or small scale
would bring the end of the projected maps into view; :func:`fitted` then magnifies the film
just enough (``zoom``) to keep the field filled, as a tighter collimation would.

Named subjects (body habitus: ``scale``, ``width``, ``fat``, ``muscle``) live in
``data/subjects.yml``; a figure spec's ``subject`` is a name, or a mapping of the keys
above with an optional ``patient: <name>`` whose values it starts from. Out-of-range
values, NaN, booleans and unknown keys or names raise ValueError.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any

import numpy as np
import yaml
from scipy import ndimage

from .anatomy import Anatomy

# (low, high) of each numeric key; shift_mm is checked per component.
RANGES: Mapping[str, tuple[float, float]] = MappingProxyType(
    {
        "scale": (0.9, 1.1),
        "width": (0.92, 1.08),
        "fat": (0.6, 1.6),
        "muscle": (0.8, 1.25),
        "tilt_deg": (-8.0, 8.0),
        "shift_mm": (-25.0, 25.0),
        "fluence": (0.5, 2.0),
    }
)
HABITUS_KEYS: tuple[str, ...] = ("scale", "width", "fat", "muscle")
FAT_MATERIALS: tuple[str, ...] = ("adipose",)
MUSCLE_MATERIALS: tuple[str, ...] = ("muscle",)


@dataclass(frozen=True)
class Subject:
    """Patient habitus, positioning and exposure factor of one film (see the module doc for units/ranges)."""

    scale: float = 1.0
    width: float = 1.0
    fat: float = 1.0
    muscle: float = 1.0
    tilt_deg: float = 0.0
    shift_mm: tuple[float, float] = (0.0, 0.0)
    fluence: float = 1.0
    zoom: float = 1.0  # set by :func:`fitted`, not by specs: magnification that keeps the field filled

    @property
    def is_identity(self) -> bool:
        """Whether the subject leaves the anatomy and exposure unchanged."""
        return self == Subject()


IDENTITY = Subject()
KEYS: tuple[str, ...] = tuple(f.name for f in fields(Subject) if f.name != "zoom")


def _number(key: str, value: Any, where: str) -> float:
    lo, hi = RANGES[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where}: subject {key} must be a number within {lo:g}–{hi:g}, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or not lo <= v <= hi:
        raise ValueError(f"{where}: subject {key} must be within {lo:g}–{hi:g}, got {value!r}")
    return v


def _values(raw: Mapping[str, Any], where: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    bad = sorted(set(raw) - set(allowed))
    if bad:
        raise ValueError(f"{where}: unknown subject key(s) {bad}; valid: {sorted(allowed)}")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "shift_mm":
            if not isinstance(value, (list, tuple)) or len(value) != 2:
                raise ValueError(f"{where}: subject shift_mm must be [dx, dy] mm, got {value!r}")
            out[key] = tuple(_number(key, v, where) for v in value)
        else:
            out[key] = _number(key, value, where)
    return out


@lru_cache(maxsize=1)
def patients() -> Mapping[str, Mapping[str, float]]:
    """The named subjects (body habitus) of ``data/subjects.yml``, validated."""
    text = resources.files("calcifications").joinpath("data/subjects.yml").read_text("utf-8")
    table = (yaml.safe_load(text) or {}).get("patients") or {}
    if not isinstance(table, dict):
        raise ValueError("subjects.yml: 'patients' must be a mapping of names to habitus")
    out = {}
    for name, raw in table.items():
        if not isinstance(raw, dict):
            raise ValueError(f"subjects.yml: patient {name!r} must be a mapping")
        values = {k: v for k, v in raw.items() if k != "note"}
        out[str(name)] = MappingProxyType(_values(values, f"subjects.yml: {name}", HABITUS_KEYS))
    return MappingProxyType(out)


def raw_values(raw: Any, where: str) -> dict[str, Any]:
    """The checked subject values of a spec's ``subject`` entry (a patient name or a mapping)."""
    if raw is None:
        return {}
    if isinstance(raw, str):
        raw = {"patient": raw}
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: subject must be a patient name or a mapping, got {raw!r}")
    raw = dict(raw)
    base: dict[str, Any] = {}
    if "patient" in raw:
        name = raw.pop("patient")
        known = patients()
        if name not in known:
            raise ValueError(f"{where}: unknown patient {name!r}; known: {', '.join(known)}")
        base = dict(known[name])
    return {**base, **_values(raw, where, KEYS)}


def make_subject(values: Mapping[str, Any], where: str = "subject") -> Subject:
    """A :class:`Subject` from checked values (see :func:`raw_values`)."""
    return Subject(**_values(dict(values), where, KEYS))


# ------------------------------------------------------------- transform ----


def _matrix(subject: Subject) -> np.ndarray:
    """2 × 2 forward matrix in image (x, y) mm: rotation after scaling."""
    t = math.radians(subject.tilt_deg)
    rotation = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    return rotation @ np.diag([subject.scale * subject.width, subject.scale]) * subject.zoom


def fitted(subject: Subject, anatomy: Anatomy) -> Subject:
    """``subject`` with the least magnification (``zoom`` ≥ 1) that keeps the field filled where the
    body reaches the field's edge: a tilt, shift or small scale must not bring the end of the
    projected maps (a limb cut by the field's edge) into view. Edges with air only need nothing."""
    if replace(subject, fluence=1.0) == IDENTITY:
        return subject
    body = anatomy.body_mask
    touches = {"left": body[:, 0].any(), "right": body[:, -1].any(), "top": body[0].any(), "bottom": body[-1].any()}
    half = np.array(anatomy.grid.size_mm, float) / 2.0
    inverse = np.linalg.inv(_matrix(replace(subject, zoom=1.0)))
    shift = np.asarray(subject.shift_mm, float)
    zoom = 1.0
    for corner in ((-1, -1), (-1, 1), (1, -1), (1, 1)):
        q = inverse @ (np.asarray(corner) * half - shift)  # where the output corner samples, from the centre
        for value, low, high, h in ((q[0], "left", "right", half[0]), (q[1], "top", "bottom", half[1])):
            side = low if value < 0 else high
            if touches[side]:
                zoom = max(zoom, abs(value) / h)
    return replace(subject, zoom=float(zoom))


def forward_point(subject: Subject, point: tuple[float, float], size_mm: tuple[float, float]) -> tuple[float, float]:
    """Where the image point ``point`` (x, y mm) of a field ``size_mm`` (width, height) goes."""
    c = np.array(size_mm, float) / 2.0
    p = c + _matrix(subject) @ (np.asarray(point, float) - c) + np.asarray(subject.shift_mm, float)
    return float(p[0]), float(p[1])


def _landmark(subject: Subject, key: str, value: Any, size_mm: tuple[float, float]) -> Any:
    if isinstance(value, dict):
        return {k: _landmark(subject, key, v, size_mm) for k, v in value.items()}
    if key.endswith("angle_deg") and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) + subject.tilt_deg
    if key.endswith("_mm") and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) * subject.scale
    if (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    ):
        return forward_point(subject, (float(value[0]), float(value[1])), size_mm)
    if isinstance(value, (tuple, list)):
        return tuple(_landmark(subject, key, v, size_mm) for v in value)
    return value


def _warp(array: np.ndarray, subject: Subject, pixel_mm: float, order: int) -> np.ndarray:
    """``array`` resampled so that its content moves as :func:`forward_point` says (edges extended)."""
    inverse = np.linalg.inv(_matrix(subject))
    swap = np.array([[0.0, 1.0], [1.0, 0.0]])  # (x, y) ↔ (row, column)
    matrix = swap @ inverse @ swap
    centre = np.array([array.shape[0] / 2.0 - 0.5, array.shape[1] / 2.0 - 0.5])
    shift = np.array([subject.shift_mm[1], subject.shift_mm[0]]) / pixel_mm
    offset = centre - matrix @ (centre + shift)
    source = array.astype(np.float64) if array.dtype == bool else array
    out = ndimage.affine_transform(source, matrix, offset=offset, order=order, mode="nearest")
    return out > 0.5 if array.dtype == bool else out


def apply(anatomy: Anatomy, subject: Subject) -> Anatomy:
    """The anatomy as ``subject`` would show it: maps warped in plane (bilinear; masks nearest),
    path lengths scaled by ``scale`` (fat and muscle also by their own factors), landmarks moved.

    The identity subject returns ``anatomy`` itself.
    """
    if replace(subject, fluence=1.0) == IDENTITY:  # nothing to change but (perhaps) the exposure
        return anatomy
    px = anatomy.grid.pixel_mm
    moved = (
        subject.tilt_deg
        or subject.shift_mm != (0.0, 0.0)
        or subject.scale != 1.0
        or subject.width != 1.0
        or subject.zoom != 1.0
    )
    thickness = {}
    for material, th in anatomy.thickness_mm.items():
        factor = subject.scale
        if material in FAT_MATERIALS:
            factor *= subject.fat
        if material in MUSCLE_MATERIALS:
            factor *= subject.muscle
        warped = np.clip(_warp(th, subject, px, 1), 0.0, None) if moved else np.array(th, dtype=np.float64)
        thickness[material] = warped * factor
    masks = {k: _warp(v, subject, px, 0) if moved else v for k, v in anatomy.masks.items()}
    size = anatomy.grid.size_mm
    return replace(
        anatomy,
        thickness_mm=MappingProxyType(thickness),
        masks=MappingProxyType(masks),
        bone_mask=_warp(anatomy.bone_mask, subject, px, 0) if moved else anatomy.bone_mask,
        body_mask=_warp(anatomy.body_mask, subject, px, 0) if moved else anatomy.body_mask,
        landmarks=MappingProxyType(
            {k: _landmark(subject, k, v, size) if moved else v for k, v in anatomy.landmarks.items()}
        ),
    )
