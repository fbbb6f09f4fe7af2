"""3-D anatomy from data: site files parse, bones sit inside the skin with open joints, views project,
compartment masks match the tissues, the cache is keyed by content, bad input is refused."""

import itertools

import numpy as np
import pytest

from calcifications import anatomy as an
from calcifications import phantom as ph

SITES = ph.available_sites()


def test_the_knee_and_foot_files_exist_and_name_vocabulary_sites():
    assert {"site_knee", "site_ankle_foot"} <= set(SITES)
    for site in SITES:
        assert site in an.SITES


def _grid_points(lo, hi, step):
    axes = [np.arange(lo[i], hi[i] + step, step) for i in range(3)]
    g = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    return g.astype(np.float32)


def min_gap_mm(a: ph.Solid, b: ph.Solid, step: float = 1.0) -> float:
    """Twice the smallest max(sdf_a, sdf_b): about the gap between the solids (< 0 means they overlap)."""
    lo = np.maximum(a.bounds()[0], b.bounds()[0]) - 3
    hi = np.minimum(a.bounds()[1], b.bounds()[1]) + 3
    if np.any(hi <= lo):
        return np.inf
    pts = _grid_points(lo, hi, step)
    return 2.0 * float(np.min(np.maximum(a.sdf(pts), b.sdf(pts))))


@pytest.mark.parametrize("site", SITES)
def test_bones_do_not_overlap(site):
    bones = ph.load_site(site).bones()
    for a, b in itertools.combinations(bones, 2):
        assert min_gap_mm(a, b) > 0.0, (a.id, b.id)


@pytest.mark.parametrize(
    "site, a, b, gap",
    [
        ("site_knee", "femur", "tibia", 1.4),
        ("site_knee", "femur", "patella", 2.5),
        ("site_ankle_foot", "metatarsal_1", "phalanx_1_proximal", 1.0),
        ("site_ankle_foot", "metatarsal_2", "phalanx_2_proximal", 1.0),
    ],
)
def test_joint_spaces_are_open(site, a, b, gap):
    solids = {s.id: s for s in ph.load_site(site).bones()}
    assert min_gap_mm(solids[a], solids[b], 0.7) >= gap


def _in_some_field(data: ph.Site, pts: np.ndarray) -> np.ndarray:
    """Points that some view of the site shows (inside its field of view)."""
    seen = np.zeros(len(pts), bool)
    for view in data.views.values():
        q = (pts - np.asarray(view.center)) @ view.rotation().T
        seen |= (np.abs(q[:, 0]) < view.field_mm / 2) & (np.abs(q[:, 1]) < view.field_mm / 2)
    return seen


@pytest.mark.parametrize("site", SITES)
def test_every_bone_lies_inside_the_skin(site):
    data = ph.load_site(site)
    outside = []
    for bone in data.bones():
        lo, hi = bone.bounds()
        pts = _grid_points(lo, hi, 2.0)
        inside = pts[(bone.sdf(pts) < -0.5)]
        inside = inside[_in_some_field(data, inside)]
        if len(inside) and (-data.envelope.sdf(inside)).min() <= 0:
            outside.append(bone.id)
    assert not outside, f"bones poking through the skin where a view shows them: {outside}"


def test_knee_anatomy_relations():
    bones = {b.id: b for b in ph.load_site("site_knee").bones()}

    def extent(solid, axis, x_band=None):
        lo, hi = solid.bounds()
        pts = _grid_points(lo, hi, 1.0)
        inside = pts[solid.sdf(pts) < 0]
        if x_band is not None:
            inside = inside[np.abs(inside[:, 0] - x_band) < 3]
        return inside[:, axis].min(), inside[:, axis].max()

    for condyle in (-20, 20):  # medial and lateral compartments stay open (smallest 3-D gap, at the
        # posterior slope; the space seen on the AP film, through the middle of the plateau, is wider)
        gap = extent(bones["tibia"], 1, condyle)[0] - extent(bones["femur"], 1, condyle)[1]
        assert 0.9 <= gap <= 7, (condyle, gap)  # ≥ the 1.5 mm clearance, sampled at 1 mm
    plateau = extent(bones["tibia"], 1, -30)[0]
    fib_top = extent(bones["fibula"], 1)[0]
    pat_lo, pat_hi = extent(bones["patella"], 1)
    assert fib_top > plateau + 5  # fibular head below the plateau
    assert pat_hi < plateau and pat_lo < -50  # patella in front of the distal femur, above the joint
    width = np.subtract(*extent(bones["femur"], 0)[::-1])
    assert 70 <= width <= 82  # distal femur width (Hussain 2013: 74.9 ± 3.5 mm)
    tw = np.subtract(*extent(bones["tibia"], 0)[::-1])
    assert 68 <= tw <= 82
    fx = extent(bones["fibula"], 0)
    assert fx[1] < 0  # the fibula is lateral (−x on a right knee)


def test_sesamoids_lie_under_the_first_metatarsal_head():
    data = ph.load_site("site_ankle_foot")
    bones = {b.id: b for b in data.bones()}
    mtp = np.asarray(data.landmarks["hallux_mtp"], float)
    head = np.asarray(data.landmarks["first_metatarsal_head"], float)
    for name in ("medial_sesamoid", "lateral_sesamoid"):
        c = np.asarray(bones[name].parts[0].center)
        assert c[1] > head[1] + 5  # plantar to the head (y grows towards the sole)
        assert c[2] < mtp[2]  # proximal to the joint: under the head, not the phalanx
        assert abs(c[2] - head[2]) < 8  # under the head, not the neck
    first = data.landmarks["hallux_mtp"]
    assert first is not None


@pytest.mark.parametrize("site", SITES)
def test_each_view_projects_with_consistent_masks(site):
    data = ph.load_site(site)
    for view in data.views:
        a = an.build(site, view)
        body = a.body_mask
        assert a.bone_mask.any() and (a.bone_mask & ~body).sum() == 0
        th = a.thickness_mm
        for name, mask in a.masks.items():
            assert mask.dtype == bool and not (mask & ~body).any(), name
        # where a mask says muscle, the beam crosses muscle (bone may displace some of it)
        assert (th["muscle"][a.masks["muscle"]] > 0).mean() > 0.8
        assert ((th["adipose"] + th["skin"])[a.masks["subcutaneous"]] > 0).mean() > 0.95
        if "vascular" in a.masks:
            assert (th["blood"][a.masks["vascular"]] > 0).mean() > 0.4
        # fat and muscle differ: the subcutaneous rim holds more fat per mm than the muscle region
        assert a.masks["fascial"].any() and a.masks["muscle"].any() and a.masks["subcutaneous"].any()


def test_projection_is_cached_by_content(tmp_path, monkeypatch):
    monkeypatch.setenv("CALCIFICATIONS_CACHE", str(tmp_path))
    text = (ph.anatomy_dir() / "site_ankle_foot.yml").read_text()
    site = ph.parse_site([text])
    first = ph.project(site, "forefoot")
    files = list((tmp_path / "anatomy").glob("*.npz"))
    assert len(files) == 1
    again = ph.project(site, "forefoot")
    for k in first.thickness_mm:
        np.testing.assert_array_equal(first.thickness_mm[k], again.thickness_mm[k])
    edited = ph.parse_site([text.replace("skin_mm: 1.6", "skin_mm: 1.7")])
    assert edited.digest != site.digest


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda t: t.replace("site: site_knee", "site: site_nose"), "unknown site"),
        (
            lambda t: t.replace("  - id: femur\n    kind: bone", "  - id: femur\n    kind: bone\n    colour: red"),
            r"unknown key\(s\) \['colour'\]",
        ),
        (lambda t: t.replace("kind: tendon", "kind: tendom", 1), "unknown kind 'tendom'"),
        (lambda t: t.replace("radii: [22.5, 20, 11.5]", "radii: [-22.5, 20, 11.5]"), "must be > 0"),
        (lambda t: t.replace("center: [1, -44, 46]", "center: [1, .nan, 46]"), "finite"),
        (
            lambda t: t.replace(
                "    marrow: red_marrow\n    axis: [[0, -4, -4]", "    marrow: pink\n    axis: [[0, -4, -4]"
            ),
            "marrow must be",
        ),
    ],
)
def test_bad_site_files_are_refused_with_a_clear_message(edit, message):
    text = (ph.anatomy_dir() / "site_knee.yml").read_text()
    with pytest.raises(ValueError, match=message):
        ph.parse_site([edit(text)])


def test_unknown_view_is_refused():
    with pytest.raises(ValueError, match="no view 'oblique'"):
        ph.project(ph.load_site("site_knee"), "oblique")
    with pytest.raises(ValueError, match="unknown projection 'oblique'"):
        an.build("site_knee", "oblique")
