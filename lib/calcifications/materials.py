"""Materials and their X-ray attenuation (compositions, densities, μ at an energy).

Compositions (elemental mass fractions) and densities (g/cm³) live in
``data/materials.yml`` and are validated once at load. Mass attenuation
coefficients (cm²/g, total with coherent scattering) come from ``xraydb``
(Elam et al. 2002 tables); a material's linear attenuation coefficient is
``μ = (μ/ρ) · ρ``. Results are cached per (material, energy) so a render never
queries ``xraydb``.

Calcified deposits are not crystal: :func:`mineral_mixture` builds a deposit
from a mineral at a stated concentration (g of mineral per cm³ of deposit) in a
host tissue, the mineral displacing its own crystal volume of host.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import xraydb
import yaml

DEFAULT_ENERGY_KEV: float = 30.0
_FRACTION_TOLERANCE = 0.005


@dataclass(frozen=True)
class Material:
    """A material: id, label, density (g/cm³), elemental mass fractions, source key."""

    id: str
    label: str
    density_g_cm3: float
    mass_fractions: tuple[tuple[str, float], ...]
    source: str


def _check_positive(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return value


@lru_cache(maxsize=1)
def _element_symbols() -> frozenset[str]:
    return frozenset(xraydb.atomic_symbol(z) for z in range(1, 93))


def _normalise(fractions: dict[str, float], where: str) -> tuple[tuple[str, float], ...]:
    known = _element_symbols()
    total = 0.0
    for element, fraction in fractions.items():
        if element not in known:
            raise ValueError(f"{where}: unknown element {element!r}")
        if not math.isfinite(float(fraction)) or float(fraction) < 0:
            raise ValueError(f"{where}: mass fraction of {element} must be ≥ 0, got {fraction!r}")
        total += float(fraction)
    if abs(total - 1.0) > _FRACTION_TOLERANCE:
        raise ValueError(f"{where}: mass fractions sum to {total:.4f}, not 1")
    return tuple(sorted((el, float(w) / total) for el, w in fractions.items()))


def _formula_fractions(formula: str) -> dict[str, float]:
    atoms = xraydb.chemparse(formula)
    masses = {el: n * xraydb.atomic_mass(el) for el, n in atoms.items()}
    total = sum(masses.values())
    return {el: m / total for el, m in masses.items()}


def mineral_mixture(
    mineral: Material, host: Material, mineral_g_cm3: float, id: str | None = None, label: str | None = None
) -> Material:
    """Deposit of ``mineral`` at ``mineral_g_cm3`` (g per cm³ of deposit) dispersed in ``host``.

    The mineral occupies ``mineral_g_cm3 / ρ_crystal`` of the volume; the rest is host
    tissue at its own density. Raises ValueError if the concentration is not in
    (0, ρ_crystal].
    """
    c = _check_positive("mineral_g_cm3", mineral_g_cm3)
    if c > mineral.density_g_cm3:
        raise ValueError(
            f"mineral_g_cm3={c} exceeds the crystal density of {mineral.id} ({mineral.density_g_cm3} g/cm³)"
        )
    host_g_cm3 = host.density_g_cm3 * (1.0 - c / mineral.density_g_cm3)
    density = c + host_g_cm3
    fractions: dict[str, float] = {}
    for el, w in mineral.mass_fractions:
        fractions[el] = fractions.get(el, 0.0) + w * c / density
    for el, w in host.mass_fractions:
        fractions[el] = fractions.get(el, 0.0) + w * host_g_cm3 / density
    return Material(
        id=id or f"{mineral.id}@{c:g}g/cm3_in_{host.id}",
        label=label or f"{mineral.label} at {c:g} g/cm³ in {host.label.lower()}",
        density_g_cm3=density,
        mass_fractions=tuple(sorted(fractions.items())),
        source=host.source,
    )


def _build(table: dict[str, Any]) -> dict[str, Material]:
    if not isinstance(table, dict) or "materials" not in table:
        raise ValueError("materials.yml: expected a mapping with a 'materials' key")
    raw: dict[str, Any] = table["materials"]
    built: dict[str, Material] = {}
    # Plain materials first, mixtures after (they refer to plain ones).
    for mid, spec in sorted(raw.items(), key=lambda kv: "mixture" in kv[1]):
        where = f"materials.yml: {mid}"
        for key in ("label", "source"):
            if key not in spec:
                raise ValueError(f"{where}: missing {key!r}")
        kinds = [k for k in ("composition", "formula", "mixture") if k in spec]
        if len(kinds) != 1:
            raise ValueError(f"{where}: give exactly one of composition, formula, mixture")
        if kinds[0] == "mixture":
            mix = spec["mixture"]
            for ref in (mix["mineral"], mix["host"]):
                if ref not in built:
                    raise ValueError(f"{where}: mixture refers to unknown material {ref!r}")
            built[mid] = mineral_mixture(
                built[mix["mineral"]], built[mix["host"]], mix["mineral_g_cm3"], id=mid, label=spec["label"]
            )
            continue
        density = _check_positive(f"{where}: density_g_cm3", spec.get("density_g_cm3", float("nan")))
        fractions = spec["composition"] if kinds[0] == "composition" else _formula_fractions(spec["formula"])
        built[mid] = Material(mid, spec["label"], density, _normalise(fractions, where), spec["source"])
    return built


@lru_cache(maxsize=1)
def load_materials() -> dict[str, Material]:
    """All materials of ``data/materials.yml``, validated, keyed by id."""
    text = resources.files("calcifications").joinpath("data/materials.yml").read_text(encoding="utf-8")
    return _build(yaml.safe_load(text))


def get_material(material_id: str) -> Material:
    """The material with this id; ValueError listing the known ids if unknown."""
    table = load_materials()
    if material_id not in table:
        raise ValueError(f"unknown material {material_id!r}; known: {', '.join(sorted(table))}")
    return table[material_id]


def _check_energy(energy_kev: float) -> float:
    e = _check_positive("energy_kev", energy_kev)
    if not 1.0 <= e <= 500.0:
        raise ValueError(f"energy_kev must be within 1–500 keV, got {e}")
    return e


@lru_cache(maxsize=4096)
def mass_attenuation_cm2_g(material: Material | str, energy_kev: float = DEFAULT_ENERGY_KEV) -> float:
    """Total mass attenuation coefficient μ/ρ (cm²/g) at ``energy_kev`` (keV)."""
    m = get_material(material) if isinstance(material, str) else material
    e_ev = _check_energy(energy_kev) * 1000.0
    return float(sum(w * xraydb.mu_elam(el, e_ev) for el, w in m.mass_fractions))


@lru_cache(maxsize=4096)
def linear_attenuation_per_mm(material: Material | str, energy_kev: float = DEFAULT_ENERGY_KEV) -> float:
    """Linear attenuation coefficient μ (1/mm) at ``energy_kev`` (keV): (μ/ρ)·ρ / 10."""
    m = get_material(material) if isinstance(material, str) else material
    return mass_attenuation_cm2_g(m, energy_kev) * m.density_g_cm3 / 10.0
