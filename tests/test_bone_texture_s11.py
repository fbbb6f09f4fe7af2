"""Session 11 (bone11): cancellous texture, subchondral plates and diaphyseal medulla.

Blind readers saw "one uniform cartoon crazy-paving / wire-mesh trabecular network, equally coarse
in condyles, tibia, patella and carpals", "random medullary blotches", "shafts two bright lines
around an empty grey medulla" and "no subchondral plate". These tests measure physical maps (path
lengths in mm, the texture field that scales the trabecular bone), not the display.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from calcifications import phantom as ph

KNEE_PX = 0.41  # the knee films' pixel (mm)


def _bones(site: str) -> dict[str, ph.Solid]:
    return {b.id: b for b in ph.load_site(site).bones()}


def _power(tex: np.ndarray, px: float) -> tuple[np.ndarray, np.ndarray]:
    """Power spectrum of ``tex`` (mean removed) and the radial frequency (cycles/mm) of each entry."""
    f = np.abs(np.fft.fft2(tex - tex.mean())) ** 2
    fy = np.fft.fftfreq(tex.shape[0], d=px)[:, None]
    fx = np.fft.fftfreq(tex.shape[1], d=px)[None, :]
    return f, np.hypot(fx, fy)


def _fine_share(tex: np.ndarray, px: float) -> float:
    """Share of the texture's power at periods below 1.7 mm among periods below 10 mm."""
    f, r = _power(tex, px)
    return float(f[r > 0.6].sum() / f[r > 0.1].sum())


def _mean_texture(bone: ph.Solid, fn, seeds=range(4)) -> float:
    return float(np.mean([fn(ph.bone_texture((160, 160), KNEE_PX, bone.texture_mm, 90.0, (), s)[0]) for s in seeds]))


def test_patella_grain_is_finer_than_the_femoral_metaphysis():
    """The patella's cancellous bone reads finer than the femoral metaphysis' (a uniform mesh of one
    scale everywhere was the complaint): at the knee films' pixel its texture holds about twice the
    share of fine (< 1.7 mm) power. Engine 12 with the session-10 data: 1.3 ×."""
    knee = _bones("site_knee")
    patella = _mean_texture(knee["patella"], lambda t: _fine_share(t, KNEE_PX))
    femur = _mean_texture(knee["femur"], lambda t: _fine_share(t, KNEE_PX))
    assert patella > 1.7 * femur, (patella, femur)


def test_texture_has_no_blotches():
    """The texture is high-passed: power at periods above 6 mm (medullary "blotches", the mesh's
    large cells) is a small share of the whole. Engine 12: about 30 %."""

    def low_share(t: np.ndarray) -> float:
        f, r = _power(t, KNEE_PX)
        return float(f[(r > 0) & (r < 1 / 6)].sum() / f.sum())

    for bone in _bones("site_knee").values():
        assert _mean_texture(bone, low_share) < 0.2, bone.id


@pytest.mark.parametrize("site", ["site_knee", "site_hip_pelvis", "site_ankle_foot", "site_hand", "site_shoulder"])
def test_texture_is_a_modest_modulation_of_the_trabecular_bone(site):
    """The pattern modulates the trabecular bone by at most 10 % rms (visible but subtle as on films;
    engine 12 had 12 % in the knee, 24 % in the proximal femur, 18 % in the calcaneus)."""
    for bone in _bones(site).values():
        tex, _ = ph.bone_texture((128, 128), 0.4, bone.texture_mm, 90.0, (), 1)
        assert float(tex.std()) * bone.texture_contrast <= 0.1, bone.id


def _shaft(**kw) -> ph.Solid:
    shaft = ph.SweepPart(((0.0, -70.0, 0.0), (0.0, 0.0, 0.0), (0.0, 70.0, 0.0)), ((12.0, 12.0),) * 3)
    return ph.Solid(
        "shaft",
        "bone",
        (shaft,),
        material="cortical_bone",
        axis=((0.0, -70.0, 0.0), (0.0, 70.0, 0.0)),
        cortex_mm=((0.0, 1.0), (0.3, 4.0), (0.7, 4.0), (1.0, 1.0)),
        trabecular_fraction=((0.0, 0.2), (0.25, 0.1), (0.35, 0.0), (0.65, 0.0), (0.75, 0.1), (1.0, 0.2)),
        **kw,
    )


VIEW = ph.View("frontal", (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 0.0), 160.0)


def test_diaphyseal_medulla_carries_some_bone():
    """A diaphysis whose profile says no trabeculae still holds sparse trabecular bone in its yellow
    marrow (MEDULLARY_FLOOR of the medulla): the mid-shaft canal carries a non-zero trabecular path,
    about 1.5 % of its chord, far less than a metaphysis'. Engine 12: exactly zero."""
    m = ph.rasterise_bone(_shaft(), VIEW, 1.5, 0.6, "test")
    mid = (256, 256)  # image (row, column) of the shaft's middle, on its axis
    chord = float(m.medulla[mid])
    assert chord > 10
    share = float(m.trabecular[mid]) / chord
    assert 0.008 < share < 0.03, share
    end = (256 - int(round(60 / VIEW.pixel_mm)), 256)  # 60 mm up: the metaphysis (fraction about 0.15)
    assert m.trabecular[end] / m.medulla[end] > 4 * share


def _tibia_column(with_plates: bool) -> tuple[np.ndarray, np.ndarray, float]:
    """Projected cortex and trabecular paths (mm) down the image column through the medial tibial
    plateau's plate, from 4 mm above it, and the plate centre's image row: on the knee frontal with
    the beam tilted 8° (a 'plateau view'), along the plateau's 8° posterior slope (knee11), as the
    plate is edge-on only along it."""
    site = ph.load_site("site_knee")
    view = dataclasses.replace(ph.get_view(site, "frontal"), tilt_deg=-8.0)
    tibia = {b.id: b for b in ph.posed(site, view).bones()}["tibia"]
    plate = tibia.subchondral[0]
    if not with_plates:
        tibia = dataclasses.replace(tibia, subchondral=())
    m = ph.rasterise_bone(tibia, view, 1.0, site.bone_voxel_mm, "site_knee")
    x, y = ph.project_point(view, plate.at)
    col, row = int(x / view.pixel_mm), y / view.pixel_mm
    r0 = int(row - 4 / view.pixel_mm)
    return m.cortex[r0:, col], m.trabecular[r0:, col], row - r0


@pytest.fixture(scope="module")
def tibia_columns():
    return _tibia_column(True), _tibia_column(False)


def test_subchondral_plate_under_the_tibial_plateau(tibia_columns):
    """Under the medial plateau the projected bone (cortex + trabecular path) peaks in a thin band
    (the subchondral plate, seen edge-on along the beam) above the cancellous bone 3 mm below;
    the plate is compact bone: without the ``subchondral`` key (engine 12: a porous 1.5 mm shell)
    that band holds clearly less cortex. Session 11 integration: 1.3 × (was 1.5 × on the flat
    plateau of engine 12; measured 1.34 along the sloped plateau, whose densest cancellous bone lies
    just under it), and 2.0 × the cortex without plates (measured)."""
    (cortex, trab, at), (cortex0, _, _) = tibia_columns
    px = 0.41
    total = cortex + trab
    top = int(np.argmax(cortex > 0.5))  # the plateau's surface row
    band = slice(top, top + int(round(2.0 / px)) + 1)
    below = top + int(round(4.0 / px))  # 3 mm under the band's lower edge (about 2 mm deep)
    assert abs(top - at) < 6 / px  # the plate's centre lies at the surface found
    assert float(total[band].max()) > 1.3 * float(total[below : below + 3].mean())
    assert float(cortex[band].max()) > 1.6 * float(cortex0[band].max())


def test_subchondral_is_validated():
    """Bad ``subchondral`` entries are clear ValueErrors naming the key."""
    text = (ph.anatomy_dir() / "site_knee.yml").read_text()
    first = '      - {at: [21, -0.4, -6], radius_mm: 16, mm: 1.5, note: "medial condyle: weight-bearing surface"}'
    assert first in text
    for bad in (
        "      - {at: [21, -0.4, -6]}",
        "      - {at: [21, -0.4, -6], radius_mm: 16}",
        "      - {at: [21, -0.4, -6], radius_mm: 16, mm: 9}",
        "      - {at: [21, -0.4], radius_mm: 16, mm: 1.5}",
        "      - {at: [21, -0.4, -6], radius_mm: -16, mm: 1.5}",
        "      - {at: [21, -0.4, -6], radius_mm: 16, mm: 1.5, gain: 2}",
        "      - 3",
    ):
        with pytest.raises(ValueError, match="subchondral"):
            ph.parse_site([text.replace(first, bad)])
    not_a_list = re.sub(r"    subchondral:\n(      - .*\n)+", "    subchondral: 3\n", text, count=1)
    assert not_a_list != text
    with pytest.raises(ValueError, match="subchondral"):
        ph.parse_site([not_a_list])


def test_leg_repeats_the_knee_plates():
    """site_leg.yml repeats the knee's femur and patella: the same subchondral plates (the patella's
    articular back is its cortex_sides, knee11: no plate in either file)."""
    knee, leg = _bones("site_knee"), _bones("site_leg")
    assert knee["femur"].subchondral
    for bone in ("femur", "patella"):
        assert knee[bone].subchondral == leg[bone].subchondral, bone
