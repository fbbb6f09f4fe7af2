"""Materials: compositions load and validate, attenuation matches the reference table."""

import math

import pytest

from calcifications import materials as m

# NIST XCOM / Hubbell & Seltzer total μ/ρ with coherent scattering (cm²/g), as in the physics guide.
REFERENCE_CM2_G = {
    ("adipose", 30): 0.306,
    ("muscle", 30): 0.378,
    ("cortical_bone", 30): 1.331,
    ("fluid", 30): 0.376,
    ("adipose", 50): 0.212,
    ("muscle", 50): 0.226,
    ("cortical_bone", 50): 0.424,
    ("fluid", 50): 0.227,
    ("hydroxyapatite_crystal", 30): 2.099,
    ("hydroxyapatite_crystal", 50): 0.587,
    ("cppd_crystal", 30): 1.683,
    ("cppd_crystal", 50): 0.497,
    ("msu_crystal", 30): 0.361,
    ("msu_crystal", 50): 0.212,
}


@pytest.mark.parametrize(("material", "energy"), sorted(REFERENCE_CM2_G))
def test_mass_attenuation_matches_reference_table(material, energy):
    value = m.mass_attenuation_cm2_g(material, energy)
    assert value == pytest.approx(REFERENCE_CM2_G[(material, energy)], rel=0.01)


def test_icru44_densities():
    expected = {
        "adipose": 0.95,
        "muscle": 1.05,
        "skin": 1.09,
        "cortical_bone": 1.92,
        "fluid": 1.00,
        "yellow_marrow": 0.98,
        "red_marrow": 1.03,
    }
    for material, density in expected.items():
        assert m.get_material(material).density_g_cm3 == pytest.approx(density)


def test_all_materials_have_normalised_fractions_and_sources():
    for material in m.load_materials().values():
        assert math.isclose(sum(w for _, w in material.mass_fractions), 1.0, rel_tol=1e-9)
        assert material.source
        assert material.density_g_cm3 > 0


def test_linear_attenuation_is_mass_attenuation_times_density_per_mm():
    mu = m.linear_attenuation_per_mm("cortical_bone", 30.0)
    assert mu == pytest.approx(1.331 * 1.92 / 10, rel=0.01)


def test_fat_attenuates_less_than_muscle_less_than_deposit_less_than_bone_at_30_kev():
    mu = {
        k: m.linear_attenuation_per_mm(k, 30.0)
        for k in ("adipose", "muscle", "hydroxyapatite_deposit", "cortical_bone")
    }
    assert mu["adipose"] < mu["muscle"] < mu["hydroxyapatite_deposit"] < mu["cortical_bone"]


def test_mineral_mixture_is_linear_in_concentration_and_below_crystal():
    ha, host = m.get_material("hydroxyapatite_crystal"), m.get_material("soft_tissue")
    mus = [m.linear_attenuation_per_mm(m.mineral_mixture(ha, host, c), 30.0) for c in (0.2, 0.4, 0.6)]
    assert mus[1] - mus[0] == pytest.approx(mus[2] - mus[1], rel=1e-9)
    deposit = m.mineral_mixture(ha, host, 0.8)
    assert host.density_g_cm3 < deposit.density_g_cm3 < ha.density_g_cm3


@pytest.mark.parametrize("bad", [0.0, -0.1, float("nan"), 5.0])
def test_mineral_mixture_rejects_bad_concentrations(bad):
    with pytest.raises(ValueError, match="mineral_g_cm3"):
        m.mineral_mixture(m.get_material("hydroxyapatite_crystal"), m.get_material("soft_tissue"), bad)


def test_unknown_material_and_bad_energy_raise():
    with pytest.raises(ValueError, match="unknown material"):
        m.get_material("unobtainium")
    with pytest.raises(ValueError, match="energy_kev"):
        m.linear_attenuation_per_mm("muscle", float("nan"))
    with pytest.raises(ValueError, match="energy_kev"):
        m.linear_attenuation_per_mm("muscle", -30.0)


@pytest.mark.parametrize(
    "mutation, message",
    [
        (lambda t: t["materials"]["muscle"].update(density_g_cm3=-1), "density_g_cm3"),
        (lambda t: t["materials"]["muscle"]["composition"].update(H=0.5), "sum to"),
        (lambda t: t["materials"]["muscle"]["composition"].update(Xx=0.0), "unknown element"),
        (lambda t: t["materials"]["muscle"].pop("source"), "source"),
        (lambda t: t["materials"]["hydroxyapatite_deposit"]["mixture"].update(host="nothing"), "unknown material"),
    ],
)
def test_bad_table_raises_clear_error(mutation, message):
    import copy
    from importlib import resources

    import yaml

    table = yaml.safe_load(resources.files("calcifications").joinpath("data/materials.yml").read_text("utf-8"))
    table = copy.deepcopy(table)
    mutation(table)
    with pytest.raises(ValueError, match=message):
        m._build(table)


def test_sources_are_keys_in_references_bib():
    import re
    from pathlib import Path

    bib = (Path(__file__).resolve().parents[1] / "references.bib").read_text(encoding="utf-8")
    keys = set(re.findall(r"@\w+\{([^,\s]+),", bib))
    for material in m.load_materials().values():
        assert material.source in keys, material.id
