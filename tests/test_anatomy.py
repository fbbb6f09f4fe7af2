"""Anatomy of every site and view (projected 3-D data): thickness maps, masks, options, physical sense."""

import numpy as np
import pytest

from calcifications import anatomy as an
from calcifications import radiograph as rg

SHAPE = (128, 128)  # small grids keep the suite fast; pixel size scales to the same field of view


@pytest.fixture(
    scope="module", params=[(s, p) for s in an.SITES for p in an.views(s)], ids=lambda sp: f"{sp[0]}-{sp[1]}"
)
def view_anatomy(request):
    site, projection = request.param
    return an.build(site, projection, SHAPE)


def test_thickness_maps_are_finite_non_negative_and_include_core_tissues(view_anatomy):
    for material, t in view_anatomy.thickness_mm.items():
        assert t.shape == SHAPE
        assert np.all(np.isfinite(t)) and t.min() >= 0, material
    for material in ("skin", "adipose", "cortical_bone"):
        assert view_anatomy.thickness_mm[material].max() > 0, material
    assert view_anatomy.bone_mask.any() and view_anatomy.body_mask.any()


def test_masks_are_boolean_inside_the_body_and_include_site_compartments(view_anatomy):
    assert {"subcutaneous", "fascial", "muscle"} <= set(view_anatomy.masks)
    for name, mask in view_anatomy.masks.items():
        assert mask.dtype == bool and mask.shape == SHAPE
        assert mask.any(), name
        assert not (mask & ~view_anatomy.body_mask).any(), name
    if view_anatomy.site in (
        "site_knee",
        "site_elbow",
        "site_shoulder",
        "site_hip_pelvis",
        "site_ankle_foot",
        "site_hand",
    ):
        assert {"periarticular", "intraarticular"} <= set(view_anatomy.masks)


def test_total_thickness_is_sensible(view_anatomy):
    total = sum(view_anatomy.thickness_mm.values())
    # mm: from fingers to the thorax and pelvis; the laterals of the hip and buttock cross the
    # whole pelvis (the cross-table lateral at 45°, and the horizontal beams derived from them): about 420–430 mm
    wide = view_anatomy.site in ("site_hip_pelvis", "site_buttock") and view_anatomy.projection in (
        "lateral",
        "horizontal_beam",
    )
    assert 10 < total.max() < (480 if wide else 320)


def test_limb_segment_has_cylinder_chords():
    a = an.build("site_thigh", "frontal", (256, 256))
    outer = sum(a.thickness_mm.values())
    row = outer[128]
    centre = int(np.argmax(row))
    # depth of the thigh at mid-height: about 148 mm (site_thigh.yml envelope)
    assert 130 < row[centre] < 165
    assert row[0] == 0 and row[-1] == 0
    # chord falls off towards the edge like 2·sqrt(r² − x²): steepest at the skin
    inside = np.nonzero(row > 0)[0]
    assert row[inside[0]] < 0.4 * row[centre]


def test_radiograph_contrast_fat_darker_than_muscle_cortex_brightest():
    a = an.build("site_thigh", "frontal", (256, 256))
    scene = rg.make_scene(a.thickness_mm, a.grid.pixel_mm)
    log = rg.render_log(scene, rg.Exposure(energy_kev=40, fluence_photons_per_mm2=None, blur_fwhm_mm=0))
    mu = {m: rg.linear_attenuation_per_mm(m, 40) for m in ("adipose", "muscle", "cortical_bone", "yellow_marrow")}
    assert mu["adipose"] < mu["muscle"] < mu["cortical_bone"]
    row = log[128]
    bone_cols = np.nonzero(a.bone_mask[128])[0]
    # cortex (edge of the bone shadow) brighter than the medulla (its middle)
    # (the tangential cortex peaks a cortical thickness, about 6 mm, inside the bone's edge)
    middle = bone_cols[len(bone_cols) // 2]
    assert row[bone_cols[: len(bone_cols) // 4]].max() > row[middle] + 0.05
    # soft tissue next to the bone is less attenuating than the bone
    assert row[bone_cols[0] - 3] < row[middle]


def test_pixel_size_scales_the_same_anatomy():
    small = an.build("site_knee", "frontal", (64, 64))
    large = an.build("site_knee", "frontal", (256, 256))
    assert small.grid.size_mm == pytest.approx(large.grid.size_mm)

    def bone(a):
        return sum(
            a.thickness_mm[m].mean() for m in ("cortical_bone", "red_marrow", "yellow_marrow") if m in a.thickness_mm
        )

    assert bone(small) == pytest.approx(bone(large), rel=0.05)


def test_shoulder_head_elevation_moves_the_head_up():
    low = an.build("site_shoulder", "frontal", SHAPE)
    high = an.build("site_shoulder", "frontal", SHAPE, head_elevation_mm=15)
    assert high.landmarks["humeral_head"][1] == pytest.approx(low.landmarks["humeral_head"][1] - 15)


def test_options_apply_to_their_site_only_and_change_the_data():
    low = an.site_with_options("site_shoulder", {})
    high = an.site_with_options("site_shoulder", {"head_elevation_mm": 15})
    assert high.digest != low.digest
    hum_low = {s.id: s for s in low.solids}["humerus"]
    hum_high = {s.id: s for s in high.solids}["humerus"]
    assert hum_high.axis[0][1] == pytest.approx(hum_low.axis[0][1] - 15)
    scap = {s.id: s for s in high.solids}["scapula"]
    assert all(o.id != "humerus" or o == hum_high for o in scap.avoid)


def test_every_figure_site_and_view_is_3d():
    for site in an.SITES:
        assert an.views(site)
        for view in an.views(site):
            assert an.uses_3d(site, view)
            assert an.field_of_view_mm(site, view) > 0 and an.side_marker(site, view) in {"R", "L"}


def test_build_is_deterministic():
    a = an.build("site_hand", "frontal", SHAPE, seed=3)
    b = an.build("site_hand", "frontal", SHAPE, seed=3)
    for k in a.thickness_mm:
        np.testing.assert_array_equal(a.thickness_mm[k], b.thickness_mm[k])


def test_mirror_and_side_by_side():
    a = an.build("site_hand", "frontal", (64, 32), pixel_mm=1.0)
    m = an.mirrored(a)
    np.testing.assert_array_equal(m.thickness_mm["cortical_bone"], a.thickness_mm["cortical_bone"][:, ::-1])
    both = an.side_by_side(m, a)
    assert both.grid.shape == (64, 64)
    assert both.masks["subcutaneous"].shape == (64, 64)
    assert "left_fingertips" in both.landmarks and "right_fingertips" in both.landmarks


def test_eroded_chord_of_a_sphere_is_the_smaller_sphere():
    grid = an.Grid((101, 101), 0.5)
    outer = an.Ellipsoid((25.25, 25.25), 20, 20, 20).chord(grid)
    inner = an.eroded_chord(outer, 4.0, 0.5)
    expected = an.Ellipsoid((25.25, 25.25), 16, 16, 16).chord(grid)
    assert np.abs(inner - expected).mean() < 0.2  # mm; larger only at the silhouette, where chords are steep
    assert inner[50, 50] == pytest.approx(32.0, abs=0.3)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"site": "site_nose"}, "unknown site"),
        ({"site": "site_knee", "projection": "oblique"}, "projection"),
        ({"site": "site_knee", "pixel_mm": -1.0}, "pixel_mm"),
        ({"site": "site_knee", "pixel_mm": float("nan")}, "pixel_mm"),
        ({"site": "site_knee", "head_elevation_mm": 5}, "does not apply"),
        ({"site": "site_hip_pelvis", "projection": "oblique"}, "projection"),
        ({"site": "site_shoulder", "neck_length_mm": 5}, "does not apply"),
        ({"site": "site_shoulder", "head_elevation_mm": 40}, "head_elevation_mm"),
        ({"site": "site_shoulder", "head_elevation_mm": "high"}, "head_elevation_mm"),
        ({"site": "site_shoulder", "head_elevation_mm": float("nan")}, "head_elevation_mm"),
    ],
)
def test_bad_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        an.build(shape=(32, 32), **kwargs)
