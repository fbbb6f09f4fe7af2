"""Upper-limb anatomy from data (hand, elbow, shoulder, forearm, arm): relative bone sizes and
positions against the references cited in each site file, joint spaces open but congruent,
and the soft-tissue compartments where the anatomy puts them."""

from functools import cache

import numpy as np
import pytest

from calcifications import anatomy as an
from calcifications import phantom as ph

STEP = 0.7  # mm: sampling step of the bone solids


def _grid(lo, hi, step):
    axes = [np.arange(lo[i], hi[i] + step, step) for i in range(3)]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3).astype(np.float32)


@cache
def bones(site: str) -> dict[str, ph.Solid]:
    return {b.id: b for b in ph.load_site(site).bones()}


@cache
def voxels(site: str, bone: str, step: float = STEP) -> np.ndarray:
    """Points (mm, body frame) inside the bone, as the engine sees it (joint clearance applied)."""
    solid = bones(site)[bone]
    lo, hi = solid.bounds()
    pts = _grid(lo, hi, step)
    return pts[solid.sdf(pts) < 0]


def extent(site: str, bone: str, axis: int, band=None) -> tuple[float, float]:
    """Smallest and largest coordinate along ``axis``; ``band`` = (other axis, value, half-width)."""
    v = voxels(site, bone)
    if band is not None:
        other, value, half = band
        v = v[np.abs(v[:, other] - value) < half]
    assert len(v), (site, bone, band)
    return float(v[:, axis].min()), float(v[:, axis].max())


def length_along(site: str, bone: str) -> float:
    """Length of the bone along its own axis (mm)."""
    a, b = (np.asarray(p, float) for p in bones(site)[bone].axis)
    u = (b - a) / np.linalg.norm(b - a)
    s = voxels(site, bone) @ u
    return float(s.max() - s.min())


def volume(site: str, bone: str) -> float:
    return len(voxels(site, bone)) * STEP**3


def gap(site: str, a: str, b: str, step: float = 0.5) -> float:
    """About the smallest distance between two bones (mm); < 0 if they overlap."""
    sa, sb = bones(site)[a], bones(site)[b]
    lo = np.maximum(sa.bounds()[0], sb.bounds()[0]) - 3
    hi = np.minimum(sa.bounds()[1], sb.bounds()[1]) + 3
    if np.any(hi <= lo):
        return np.inf
    pts = _grid(lo, hi, step)
    return 2.0 * float(np.min(np.maximum(sa.sdf(pts), sb.sdf(pts))))


def centroid(site: str, bone: str) -> np.ndarray:
    return voxels(site, bone).mean(axis=0)


# ----------------------------------------------------------------- hand ----


def test_hand_metacarpal_and_phalangeal_proportions():
    mc = [length_along("site_hand", f"metacarpal_{i}") for i in range(1, 6)]
    # abjs2024metacarpal: index 67.7 > long 66.1 > ring 58.0 > small 52.3 mm; the thumb's the shortest
    assert mc[1] >= mc[2] - 1.5 and mc[2] > mc[3] > mc[4] > mc[0]
    assert 60 <= mc[2] <= 72 and 48 <= mc[4] <= 58
    for finger in (2, 3, 4, 5):
        p, m, d = (length_along("site_hand", f"phalanx_{finger}_{k}") for k in ("proximal", "middle", "distal"))
        assert p > m > d > 10, finger  # each finger's phalanges shorten distally
        assert 0.45 <= m / p <= 0.75 and 0.5 <= d / m <= 0.9, finger
    assert length_along("site_hand", "phalanx_3_proximal") > length_along("site_hand", "phalanx_5_proximal")


def test_hand_carpus_in_two_rows_with_the_right_neighbours():
    c = {
        b: centroid("site_hand", b)
        for b in ("scaphoid", "lunate", "triquetrum", "pisiform", "trapezium", "trapezoid", "capitate", "hamate")
    }
    proximal_row = max(c[b][1] for b in ("scaphoid", "lunate", "triquetrum"))
    distal_row = min(c[b][1] for b in ("trapezium", "trapezoid", "capitate", "hamate"))
    assert distal_row > proximal_row + 5  # y grows distally: the distal row lies beyond the proximal
    # radial to ulnar (x grows towards the little finger on this right hand)
    assert c["scaphoid"][0] < c["lunate"][0] < c["triquetrum"][0]
    assert c["trapezium"][0] < c["trapezoid"][0] < c["capitate"][0] < c["hamate"][0]
    assert c["pisiform"][2] > c["triquetrum"][2] + 5  # palmar to the triquetrum
    assert abs(c["pisiform"][0] - c["triquetrum"][0]) < 6  # and over it on the PA film
    # patterson1995carpal: the capitate is the largest carpal bone, the pisiform the smallest
    vol = {b: volume("site_hand", b) for b in c}
    assert max(vol, key=vol.get) == "capitate" and min(vol, key=vol.get) == "pisiform"
    assert 20 <= length_along("site_hand", "capitate") <= 28  # about 23 mm long


def test_hand_joint_spaces_are_open_and_congruent():
    pairs = [
        ("radius", "scaphoid"),
        ("radius", "lunate"),
        ("lunate", "capitate"),
        ("scaphoid", "capitate"),
        ("scaphoid", "lunate"),
        ("lunate", "triquetrum"),
        ("triquetrum", "hamate"),
        ("capitate", "hamate"),
        ("capitate", "metacarpal_3"),
        ("trapezium", "metacarpal_1"),
        ("metacarpal_3", "phalanx_3_proximal"),
        ("phalanx_3_proximal", "phalanx_3_middle"),
        ("phalanx_3_middle", "phalanx_3_distal"),
        ("metacarpal_1", "phalanx_1_proximal"),
    ]
    for a, b in pairs:
        g = gap("site_hand", a, b)
        assert 1.0 <= g <= 4.0, (a, b, g)  # open, yet the bones face each other across a joint


def test_hand_distal_radius_and_ulna():
    styloid_tip = extent("site_hand", "radius", 1)[1]
    ulnar_corner = extent("site_hand", "radius", 1, band=(0, 4.0, 1.5))[1]
    x_styloid = voxels("site_hand", "radius")[np.argmax(voxels("site_hand", "radius")[:, 1])][0]
    inclination = np.degrees(np.arctan2(styloid_tip - ulnar_corner, 4.0 - x_styloid))
    # hadi2013distalradius: radial inclination 24.0 +- 3.8 degrees, radial height 11.3 +- 1.7 mm,
    # ulnar variance -0.5 +- 2.0 mm on normal wrist films
    assert 17 <= inclination <= 30, inclination
    assert 8 <= styloid_tip - ulnar_corner <= 16, styloid_tip - ulnar_corner
    assert x_styloid < extent("site_hand", "scaphoid", 0)[0] + 8  # the styloid is on the radial side
    ulna_top = extent("site_hand", "ulna", 1, band=(0, 13.0, 3.0))[1]  # the head's dome, not the styloid
    assert extent("site_hand", "ulna", 1)[1] > ulna_top + 2  # the ulnar styloid points distally
    assert abs(ulna_top - ulnar_corner) <= 3.0  # about neutral ulnar variance
    assert ulna_top < extent("site_hand", "triquetrum", 1)[0] - 2  # room for the TFCC
    ulna_x = extent("site_hand", "ulna", 0)
    assert ulna_x[0] > extent("site_hand", "radius", 0, band=(1, -120.0, 2.0))[1]  # ulna medial to radius


# ---------------------------------------------------------------- elbow ----


def test_elbow_distal_humerus_dimensions():
    lo, hi = extent("site_elbow", "humerus", 0, band=(1, -18.0, 4.0))
    assert 54 <= hi - lo <= 64  # epicondylar width about 59 mm (bmc2024distalhumerus)
    lo, hi = extent("site_elbow", "humerus", 0, band=(1, -4.0, 1.5))
    assert 38 <= hi - lo <= 50  # articular width about 44 mm
    head_lo, head_hi = extent("site_elbow", "radius", 0, band=(1, 9.0, 1.0))
    assert 19 <= head_hi - head_lo <= 23  # radial head about 20.5 mm across (shetty2024radius)
    shaft = extent("site_elbow", "humerus", 0, band=(1, -150.0, 2.0))
    assert 19 <= shaft[1] - shaft[0] <= 26
    # olecranon and coronoid fossae leave a thin septum above the trochlea (a lucency on the AP film)
    hum = bones("site_elbow")["humerus"]
    z = np.arange(-20, 20, 0.25, dtype=np.float32)
    septum = min(
        (hum.sdf(np.stack([np.full_like(z, 4), np.full_like(z, y), z], 1)) < 0).sum() * 0.25 for y in range(-34, -19)
    )
    column = (hum.sdf(np.stack([np.full_like(z, 4), np.full_like(z, -60), z], 1)) < 0).sum() * 0.25
    assert 1.0 <= septum <= 4.0 and column > 12, (septum, column)


def test_elbow_bones_in_place():
    cap = extent("site_elbow", "humerus", 1, band=(0, -11.0, 2.0))[1]  # lowest point of the capitellum
    medial_trochlea = extent("site_elbow", "humerus", 1, band=(0, 19.0, 2.0))[1]
    assert medial_trochlea > cap + 1  # the medial trochlear lip hangs lower (carrying angle)
    head_top = extent("site_elbow", "radius", 1, band=(0, -11.0, 3.0))[0]
    assert 2.0 <= head_top - cap <= 5.0  # radial head under the capitellum, radiocapitellar space open
    radius_x, ulna_x = centroid("site_elbow", "radius")[0], centroid("site_elbow", "ulna")[0]
    assert radius_x < 0 < ulna_x  # radius lateral (−x), ulna medial on this right elbow
    # the olecranon: posterior, its beak up in the olecranon fossa above the trochlea
    ol = voxels("site_elbow", "ulna")
    tip = ol[np.argmin(ol[:, 1])]
    assert tip[1] < -15 and tip[2] < -3
    shaft_back = extent("site_elbow", "humerus", 2, band=(1, -120.0, 2.0))[0]
    assert extent("site_elbow", "ulna", 2, band=(1, -5.0, 2.0))[0] < shaft_back - 3  # behind the humerus
    # the coronoid: anterior, in front of the trochlea's lowest point
    assert extent("site_elbow", "ulna", 2, band=(1, 3.0, 2.0))[1] > 10
    # the radial tuberosity bulges medially below the neck
    neck = extent("site_elbow", "radius", 0, band=(1, 19.0, 1.0))
    tub = extent("site_elbow", "radius", 0, band=(1, 34.0, 1.5))
    assert tub[1] > neck[1] + 3 and neck[1] - neck[0] < 15  # neck narrower than the 21 mm head


def test_elbow_joint_spaces_are_open():
    for a, b, lo, hi in (("humerus", "ulna", 2.0, 5.0), ("humerus", "radius", 2.0, 5.0), ("radius", "ulna", 1.5, 5.0)):
        g = gap("site_elbow", a, b)
        assert lo <= g <= hi, (a, b, g)


def test_elbow_fat_pads_lie_against_the_fossae():
    data = ph.load_site("site_elbow")
    pads = {s.id: s for s in data.solids if s.kind == "fat_pad"}
    hum = bones("site_elbow")["humerus"]
    for pad, side in (("anterior_fat_pad", 1), ("posterior_fat_pad", -1)):
        c = np.asarray(pads[pad].parts[0].center, np.float32)
        assert np.sign(c[2] - (-2.0)) == side  # in front of / behind the humeral shaft axis
        d = float(hum.sdf(c[None])[0])
        assert 0 < d < 8, (pad, d)  # outside the bone, close to the fossa floor


def _elbow_text_with_pose(step: str) -> list[str]:
    text = ph.site_files("site_elbow")[0].read_text(encoding="utf-8")
    head, _, _ = text.partition("    pose:\n")
    return [head + "    pose:\n" + step]


def test_elbow_lateral_is_flexed_90_degrees_and_the_horizontal_beam_follows():
    data = ph.load_site("site_elbow")
    lateral = ph.get_view(data, "lateral")
    assert lateral.pose and data.views["horizontal_beam"].pose == lateral.pose
    frontal = ph.get_view(data, "frontal").pose
    assert len(frontal) == 1 and tuple(frontal[0].axis) == (0.0, 0.0, 1.0)  # the AP stays extended (valgus only)
    posed = ph.posed(data, lateral)
    radius = {s.id: s for s in posed.solids}["radius"]
    a, b = (np.asarray(p) for p in radius.axis)
    d = (b - a) / np.linalg.norm(b - a)
    assert d[2] > 0.95  # the forearm now points anteriorly (+z), at right angles to the humerus
    humerus = {s.id: s for s in posed.solids}["humerus"]
    assert humerus == {s.id: s for s in data.solids}["humerus"]  # the arm does not move
    assert posed.digest != data.digest
    # on the film: the forearm runs across the image (anterior to the left), the humerus down it
    marks = ph.landmarks(data, "lateral")
    xs = [p[0] for p in marks["radial_artery"]]
    ys = [p[1] for p in marks["radial_artery"]]
    assert xs[0] - xs[-1] > 100 and abs(ys[-1] - ys[0]) < 30
    # the olecranon lies behind (image right of) the trochlea, the radial head in front of it
    assert marks["olecranon"][0] > marks["trochlea_center"][0] > marks["radial_head"][0]


def test_elbow_ap_shows_the_carrying_angle():
    """Extended and supinated, the forearm deviates laterally from the arm by about 10 degrees
    (zampagni2008carrying 12.4 +- 4.1; acikgoz2018carrying 9.8 in men)."""
    data = ph.load_site("site_elbow")
    posed = {s.id: s for s in ph.posed(data, ph.get_view(data, "frontal")).solids}
    h0, h1 = (np.asarray(p, float) for p in posed["humerus"].axis)
    arm = (h0 - h1) / np.linalg.norm(h0 - h1)  # proximal to distal
    for bone in ("radius", "ulna"):
        a, b = (np.asarray(p, float) for p in posed[bone].axis)
        fore = (b - a) / np.linalg.norm(b - a)
        # + = distal end lateral (-x): valgus
        angle = np.degrees(np.arctan2(-fore[0], fore[1]) - np.arctan2(-arm[0], arm[1]))
        assert 5.0 <= angle <= 16.0, (bone, angle)


def test_elbow_articular_block_lies_in_front_of_the_humeral_shaft():
    """The trochlea and capitellum sit in front of the shaft axis (the articular block is angled
    anteriorly, aofoundation2020distalhumerus), not at the end of a straight tube."""
    hum = bones("site_elbow")["humerus"]
    z = np.arange(-30, 30, 0.2, dtype=np.float32)
    for y in (-120.0, -90.0):
        inside = z[hum.sdf(np.stack([np.zeros_like(z), np.full_like(z, y), z], 1)) < 0]
        mid = (inside.min() + inside.max()) / 2
        assert 4.0 - mid >= 9.0, (y, mid)  # flexion axis at z = 4 mm, about half a shaft depth in front


def test_elbow_olecranon_is_a_solid_process():
    """The olecranon is about 18 mm deep from the trochlear notch to its back (erdem_proximalulna:
    17.8 mm at mid-olecranon), a solid block behind the trochlea, not a thin shell."""
    v = voxels("site_elbow", "ulna")
    for y in (-14.0, -10.0):
        s = v[(np.abs(v[:, 1] - y) < 0.5) & (np.abs(v[:, 0] - 12) < 1.0)]
        depth = float(s[:, 2].max() - s[:, 2].min())
        assert 15.0 <= depth <= 21.0, (y, depth)
        assert s[:, 2].min() < -23.0  # its back well behind the humeral shaft


def test_elbow_pose_keeps_the_joint_congruent():
    data = ph.load_site("site_elbow")
    posed = {s.id: s for s in ph.posed(data, ph.get_view(data, "lateral")).solids}
    hum = posed["humerus"]
    for bone in ("ulna", "radius"):
        solid = posed[bone]
        lo, hi = solid.bounds()
        lo, hi = np.maximum(lo, [-30, -40, -30]), np.minimum(hi, [30, 30, 40])
        pts = _grid(lo, hi, 0.8)
        inside = pts[solid.sdf(pts) < 0]
        gap = float(hum.sdf(inside).min())
        assert 1.0 <= gap <= 6.0, (bone, gap)  # no overlap, no dislocation


def test_flexed_elbow_bones_stay_inside_the_skin():
    data = ph.load_site("site_elbow")
    view = ph.get_view(data, "lateral")
    posed = ph.posed(data, view)
    rot, centre = view.rotation(), np.asarray(view.center)
    for bone in posed.bones():
        lo, hi = bone.bounds()
        pts = _grid(lo, hi, 2.0)
        pts = pts[bone.sdf(pts) < -0.5]
        q = (pts - centre) @ rot.T
        pts = pts[(np.abs(q[:, 0]) < view.field_mm / 2) & (np.abs(q[:, 1]) < view.field_mm / 2)]
        depth = -posed.envelope.sdf(pts.astype(np.float32))
        assert depth.min() > 1.0, (bone.id, float(depth.min()))  # the turned forearm envelope covers the olecranon


def test_elbow_fat_pads_on_the_flexed_lateral():
    data = ph.load_site("site_elbow")
    ant = ph.solid_path_mm(data, "lateral", "anterior_fat_pad")
    post = ph.solid_path_mm(data, "lateral", "posterior_fat_pad")
    assert ant.max() > 15 and post.max() > 10  # seen edge-on: a fat stripe along the beam
    a = an.build("site_elbow", "lateral")
    r, c = np.unravel_index(np.argmax(ant), ant.shape)
    assert a.thickness_mm["adipose"][r, c] > 10  # still fat where it projects (not displaced by the joint)


@pytest.mark.parametrize(
    "step, bad",
    [
        ("      - {solids: [radius, kneecap], about: [0, 0, 0], axis: [1, 0, 0], angle_deg: 90}\n", "kneecap"),
        (
            "      - {solids: [radius], landmarks: [nowhere], about: [0, 0, 0], axis: [1, 0, 0], angle_deg: 90}\n",
            "nowhere",
        ),
        (
            "      - {solids: [radius], envelope_groups: [leg], about: [0, 0, 0], axis: [1, 0, 0], angle_deg: 90}\n",
            "leg",
        ),
        ("      - {solids: [radius], about: [0, 0, 0], axis: [0, 0, 0], angle_deg: 90}\n", "axis"),
        ("      - {solids: [radius], about: [0, 0, 0], axis: [1, 0, 0], angle_deg: .nan}\n", "angle_deg"),
        ("      - {solids: [radius], about: [0, 0, 0], axis: [1, 0, 0]}\n", "angle_deg"),
        ("      - {solids: [radius], about: [0, 0, 0], axis: [1, 0, 0], angle_deg: 9, spin: 1}\n", "spin"),
    ],
)
def test_pose_bad_input_names_the_culprit(step, bad):
    with pytest.raises(ValueError, match=bad):
        ph.parse_site(_elbow_text_with_pose(step), where="test")


def test_pose_turns_ellipsoids_and_sweeps_rigidly():
    step = ph.PoseStep(("x",), (1.0, 2.0, 3.0), (0.3, 1.0, 0.2), 37.0)
    rot, about = step.matrix(), np.asarray(step.about)
    e = ph.EllipsoidPart((5.0, -4.0, 9.0), (6.0, 3.0, 2.0), (10.0, 20.0, 30.0))
    s = ph.SweepPart(((0.0, 0.0, 0.0), (0.0, 20.0, 2.0), (3.0, 40.0, 0.0)), ((4, 3), (5, 3), (3, 2)))
    rng = np.random.default_rng(4)
    for part in (e, s):
        moved = ph._turned_part(part, rot, about)
        lo, hi = part.bounds()
        pts = rng.uniform(lo - 2, hi + 2, (3000, 3)).astype(np.float32)
        pts = pts[np.abs(part.sdf(pts)) < 3][:300]  # near the surface (the k-d query is approximate far out)
        assert len(pts) > 50
        turned = ((pts - about) @ rot.T + about).astype(np.float32)
        err = np.abs(part.sdf(pts) - moved.sdf(turned))
        assert np.mean(err < 0.05) > 0.95 and err.max() < 0.5, err.max()  # rigid (up to the approximate k-d query)


# ------------------------------------------------------------- shoulder ----


def test_shoulder_humeral_head_glenoid_and_acromion():
    s = "site_shoulder"
    top = extent(s, "humerus", 1)[0]  # y grows downwards: the top of the head is the smallest y
    head = extent(s, "humerus", 0, band=(1, 0.0, 1.0))
    assert 44 <= head[1] - head[0] + 0 <= 62  # head (49 mm, uwo2016humeralhead) with the greater tuberosity
    gt_top = extent(s, "humerus", 1, band=(0, -27.0, 2.0))[0]
    assert 6 <= gt_top - top <= 12, gt_top - top  # greater tuberosity 8-10 mm below the head (eorif_humeral_head)
    acro_under = extent(s, "scapula", 1, band=(0, -10.0, 3.0))[1]
    assert 6 <= top - acro_under <= 14, top - acro_under  # acromiohumeral distance
    glen = extent(s, "scapula", 0, band=(1, 0.0, 2.0))[0]
    assert glen < head[1]  # on the AP the glenoid rim overlaps the medial humeral head
    assert gap(s, "humerus", "scapula") >= 1.5
    ac = gap(s, "scapula", "clavicle")
    assert 1.0 <= ac <= 6.0, ac  # acromioclavicular joint open
    neck = extent(s, "humerus", 0, band=(1, 40.0, 1.0))
    assert neck[1] - neck[0] < 0.65 * (head[1] - head[0])  # surgical neck narrower than the head


def _ribs():
    return [b for b in ph.load_site("site_shoulder").bones() if b.id.startswith("rib_")]


def _slope_deg(p, q) -> float:
    """Angle below the horizontal of the segment p -> q seen on the AP view (x, y), degrees."""
    return float(np.degrees(np.arctan2(abs(q[1] - p[1]), abs(q[0] - p[0]))))


def test_shoulder_ribs_are_narrow_filled_bone():
    """Posterior ribs 10-12 mm tall near the spine, thinner laterally, a thin cortex over a filled
    medulla (trabecular bone, not a hollow 'glass' tube); the anterior ends thinner and fainter."""
    ribs = _ribs()
    assert len(ribs) >= 8
    for rib in ribs:
        sweep = rib.parts[0]
        heights = [2 * sec[0] for sec in sweep.sections]  # first semi-axis along y (section_axis)
        thick = [2 * sec[1] for sec in sweep.sections]
        assert sweep.section_axis == (0.0, 1.0, 0.0), rib.id
        posterior, lateral = max(heights[1:4]), min(heights[4:7])
        assert 9.5 <= posterior <= 13.5, (rib.id, posterior)
        assert lateral < posterior, rib.id
        assert max(thick) <= 7.5, rib.id  # flat: thinner than tall
        if rib.id != "rib_1":  # the first rib is short, broad and flat throughout
            assert max(thick[-3:]) < 0.7 * max(thick[1:4]), rib.id  # anterior rib thinner than posterior
        cortex = dict(rib.cortex_mm)
        # cortex about 1 mm (holcombe2019rib: average 1.4 mm at its thickest, on the pleural aspect),
        # thinner anteriorly; a rib is less dense than the humerus, its anterior end fading out
        assert max(cortex.values()) <= 1.0 and cortex[1] < cortex[0], rib.id
        trab = dict(rib.trabecular_fraction)
        humerus_head = dict(bones("site_shoulder")["humerus"].trabecular_fraction)[0]
        assert 0.15 <= trab[0] <= humerus_head and min(trab.values()) >= 0.05 and trab[1] < 0.5 * trab[0], rib.id


def test_shoulder_posterior_ribs_flatter_than_anterior_and_end_at_the_costochondral_junction():
    """On the AP the posterior arc slopes gently down laterally, the anterior arc more steeply down
    medially; the bony rib stops at the costochondral junction, about the midclavicular line."""
    clav = bones("site_shoulder")["clavicle"].parts[0].path
    midclavicular = 0.5 * (clav[0][0] + clav[-1][0])
    for rib in _ribs():
        path = rib.parts[0].path
        angle, lateral_pt = path[2], min(path, key=lambda p: p[0])
        back = _slope_deg(path[1], path[3])
        front = _slope_deg(path[-3], path[-1])
        assert path[3][1] > path[1][1] and path[3][0] < path[1][0], rib.id  # down and lateral
        assert back < (25 if rib.id == "rib_1" else 20), (rib.id, back)  # the first rib arches most
        assert front > back + (4 if rib.id == "rib_1" else 8), (rib.id, back, front)
        assert path[-1][1] > path[-3][1] and path[-1][0] > path[-3][0], rib.id  # down and medial
        if rib.id != "rib_1":  # the first costal cartilage is short: rib 1 ends near the manubrium
            assert abs(path[-1][0] - midclavicular) < 35, (rib.id, path[-1][0], midclavicular)
        assert angle[2] < -45 and path[-1][2] > 25, rib.id  # posterior arc behind, anterior end in front
        assert lateral_pt[0] < angle[0] - 30, rib.id  # the rib curves round the lateral chest wall
    heads = [r.parts[0].path[0][1] for r in _ribs()]
    gaps = np.diff(heads)
    assert (gaps > 18).all() and (gaps < 30).all(), gaps  # one rib per thoracic segment


def test_shoulder_glenoid_seen_obliquely_overlaps_the_head_a_little():
    """True AP of the body: the glenoid rim projects over the medial humeral head by a few mm
    only (its posterior rim lateral to the anterior rim), the coracoid in front of it."""
    s = "site_shoulder"
    head_medial = extent(s, "humerus", 0, band=(1, 0.0, 1.0))[1]
    v = voxels(s, "scapula")
    r = np.linalg.norm(v, axis=1)
    glen = v[(r < 34) & (np.abs(v[:, 1] - 2) < 18)]
    overlap = head_medial - glen[:, 0].min()
    assert 3 <= overlap <= 15, overlap  # about a quarter of the 49 mm head, not half
    assert glen[:, 0].max() > head_medial + 3  # the anterior rim projects beyond the head
    coracoid = v[(v[:, 2] > 18) & (v[:, 1] < -20)]
    assert len(coracoid) and coracoid[:, 2].max() > 25  # the coracoid hooks forwards


def test_shoulder_glenoid_is_a_plate_not_a_ring():
    """The glenoid is a shallow concave plate: no closed tube (a ring that projects as a bright
    circle over the humeral head) among the scapula's parts, and on the AP the bone path through
    the glenoid where it overlaps the head stays under that of the head itself (a subtle crescent
    of double density, not a bright ring)."""
    site = ph.load_site("site_shoulder")
    scap = bones("site_shoulder")["scapula"]
    for part in scap.parts:
        path = getattr(part, "path", None)
        if path is not None:
            assert np.linalg.norm(np.subtract(path[0], path[-1])) > 5, "closed rim tube in the scapula"
    view = ph.get_view(site, "frontal")
    glen = ph.solid_path_mm(site, "frontal", "scapula")
    head = ph.solid_path_mm(site, "frontal", "humerus")
    hx, hy = (int(v / view.pixel_mm) for v in ph.project_point(view, (0.0, 0.0, 0.0)))
    band = (slice(hy - 10, hy + 10), slice(hx, hx + int(26 / view.pixel_mm)))
    overlap = (glen[band] > 0.5) & (head[band] > 0.5)
    assert overlap.any()
    assert np.percentile(glen[band][overlap], 90) < 0.6 * head[hy, hx], (glen[band][overlap].max(), head[hy, hx])


def test_shoulder_acromion_is_continuous_with_the_scapular_spine():
    """One connected scapula: glenoid, body, spine and acromion, with the acromion reaching over
    the humeral head laterally (not a floating plate)."""
    from scipy import ndimage

    solid = bones("site_shoulder")["scapula"]
    lo, hi = solid.bounds()
    step = 1.0
    axes = [np.arange(lo[i], hi[i] + step, step) for i in range(3)]
    pts = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1)
    inside = (solid.sdf(pts.reshape(-1, 3).astype(np.float32)) < 0).reshape(pts.shape[:3])
    labels, n = ndimage.label(inside)
    sizes = ndimage.sum(inside, labels, range(1, n + 1))
    main = 1 + int(np.argmax(sizes))
    assert sizes.max() > 0.97 * inside.sum()  # essentially one piece

    def label_at(p):
        idx = tuple(int(round((p[i] - lo[i]) / step)) for i in range(3))
        return labels[idx]

    acromion = [p for p in voxels("site_shoulder", "scapula") if p[0] < -15 and p[1] < -30]
    assert acromion, "no acromion lateral to the head"
    assert label_at(acromion[0]) == main
    assert max(-p[0] for p in acromion) > 25  # the acromion reaches the lateral edge of the head


def test_shoulder_scapular_y_view():
    """The shoulder lateral is a scapular Y view: the body of the scapula seen edge-on as a narrow
    stem, the humeral head centred over the glenoid, coracoid in front and acromion behind."""
    site = ph.load_site("site_shoulder")
    view = ph.get_view(site, "lateral")
    lm = site.landmarks
    head = ph.project_point(view, lm["humeral_head"])
    glen = ph.project_point(view, lm["glenoid"])
    assert abs(head[0] - glen[0]) < 6
    # a right shoulder seen from the front-lateral side: the arm on the image left, the chest on the right
    assert ph.project_point(view, lm["coracoid"])[0] > glen[0] + 10  # anterior: image right
    assert ph.project_point(view, lm["acromion"])[0] < glen[0] - 10  # posterior: image left
    assert ph.project_point(view, site.lungs.hilum)[0] > head[0] + 30  # the thorax on the image right
    # the shaft projects under the head (arm internally rotated, as the Y view is taken), so the
    # head bulges on both sides of the neck instead of a flat-topped tube
    posed = ph.posed(site, view)
    hum = next(b for b in posed.bones() if b.id == "humerus")
    shaft = ph.project_point(view, hum.axis[1])
    assert abs(shaft[0] - head[0]) < 5, (shaft, head)
    path = ph.solid_path_mm(site, "lateral", "scapula")
    px = view.pixel_mm
    row = int((ph.project_point(view, (60.0, 60.0, -60.0))[1]) / px)  # through the body, below the glenoid
    cols = np.nonzero(path[row] > 1.0)[0]
    assert len(cols) and (cols[-1] - cols[0]) * px < 22, (cols[-1] - cols[0]) * px
    front = ph.solid_path_mm(site, "frontal", "scapula")
    fview = ph.get_view(site, "frontal")
    frow = int(ph.project_point(fview, (60.0, 60.0, -60.0))[1] / fview.pixel_mm)
    fcols = np.nonzero(front[frow] > 1.0)[0]
    assert (fcols[-1] - fcols[0]) * fview.pixel_mm > 35  # ... and a broad plate on the AP


def test_shoulder_lung_is_air_with_branching_vessels():
    a = an.build("site_shoulder", "frontal")
    th = a.thickness_mm
    lung = th["lung"] > 60  # mm of aerated lung along the beam
    assert lung.mean() > 0.1
    blood = th["blood"][lung]
    assert blood.max() > 3  # vessels a few mm across near the hilum (image right)
    assert (blood > 0.5).mean() > 0.05  # markings, not a flat grey field
    assert (blood > 0.5).mean() < 0.6  # ... with aerated lung between them
    cols = np.nonzero(lung.any(axis=0))[0]
    mid = (cols[0] + cols[-1]) // 2
    # below the axillary vessels (image rows under 30 mm below the head centre), lung vessels only
    low = np.zeros_like(lung)
    low[int((30 + 96) / 240 * lung.shape[0]) :, :] = True
    medial = th["blood"][:, mid:][(lung & low)[:, mid:]].mean()
    lateral = th["blood"][:, :mid][(lung & low)[:, :mid]].mean()
    assert medial > lateral  # the vessels taper towards the periphery
    # ... and the lateral third of the lung, row by row, is nearly clear (normal_pulmonary_anatomy)
    seen = hit = 0
    for r in range(lung.shape[0]):
        cs = np.nonzero(lung[r])[0]
        if len(cs) < 30:
            continue
        outer = slice(cs[0], cs[0] + (cs[-1] - cs[0]) // 3)
        b = th["blood"][r, outer][lung[r, outer]]
        seen, hit = seen + b.size, hit + int((b > 0.3).sum())
    assert hit < 0.2 * seen, hit / seen


def test_lung_vessels_are_deterministic():
    site = ph.load_site("site_shoulder")
    view = ph.get_view(site, "frontal")
    lung = np.full((ph.IMAGE_PIXELS, ph.IMAGE_PIXELS), 100.0, np.float32)
    v1 = ph.lung_vessels_mm(view, (195, 45, -15), lung, 7)
    v2 = ph.lung_vessels_mm(view, (195, 45, -15), lung, 7)
    assert np.array_equal(v1, v2)
    assert not np.array_equal(v1, ph.lung_vessels_mm(view, (195, 45, -15), lung, 8))
    assert (v1 <= 50.0).all()  # never more than half the lung path


def test_lung_vessels_can_be_fewer_and_straighter_and_refuse_bad_values():
    site = ph.load_site("site_shoulder")
    view = ph.get_view(site, "frontal")
    lung = np.full((ph.IMAGE_PIXELS, ph.IMAGE_PIXELS), 100.0, np.float32)
    lace = ph.lung_vessels_mm(view, (120, 45, -10), lung, 7)
    few = ph.lung_vessels_mm(view, (120, 45, -10), lung, 7, ph.VesselTree(min_radius_mm=1.2, wander_deg=3.0))
    assert 0 < (few > 0.2).sum() < 0.7 * (lace > 0.2).sum()
    for bad in (
        {"min_radius_mm": 0.0},
        {"min_radius_mm": float("nan")},
        {"wander_deg": -1.0},
        {"taper": 1.2},
        {"min_radius_mm": 2.0, "trunk_radius_mm": 1.5},
        {"trees": 0},
    ):
        with pytest.raises(ValueError, match="lung vessels"):
            ph.VesselTree(**bad)
    thin = ph.lung_vessels_mm(view, (120, 45, -10), lung, 7, ph.VesselTree(trunk_radius_mm=2.5))
    assert thin.max() < 0.8 * lace.max()  # thinner trunks at the hilum
    short = ph.lung_vessels_mm(view, (120, 45, -10), lung, 7, ph.VesselTree(taper=0.88))
    assert 0 < (short > 0.2).sum() < 0.7 * (lace > 0.2).sum()  # a stronger taper: shorter vessels
    lungs = site.lungs
    assert lungs is not None and lungs.vessel_min_radius_mm > ph.LUNG_MIN_RADIUS_MM  # the shoulder asks for fewer
    assert lungs.vessel_taper < ph.LUNG_TAPER and lungs.vessel_trunk_radius_mm < ph.LUNG_TRUNK_RADIUS_MM
    assert not any(k.startswith("lung") for k in site.landmarks)  # tuning is in lungs:, not landmarks


_LUNGS_OK = "lungs:\n  hilum: [120, 45, -10]\n"


@pytest.mark.parametrize(
    "section, match",
    [
        ("lungs: [1, 2]\n", "expected a mapping"),
        ("lungs:\n  vessel_taper: 0.9\n", "needs hilum"),
        ("lungs:\n  hilum: [1, 2]\n", "lungs.hilum"),
        (_LUNGS_OK + "  vessel_min_radius_mm: 0\n", "vessel_min_radius_mm"),
        (_LUNGS_OK + "  vessel_wander_deg: -3\n", "vessel_wander_deg"),
        (_LUNGS_OK + "  vessel_taper: 1.5\n", "vessel_taper"),
        (_LUNGS_OK + "  vessel_taper: abc\n", "vessel_taper"),
        (_LUNGS_OK + "  trunks: 9\n", "unknown key"),
        (_LUNGS_OK + "  vessel_trunk_radius_mm: -1\n", "vessel_trunk_radius_mm"),
        (_LUNGS_OK + "  vessel_trunk_radius_mm: 1.0\n  vessel_min_radius_mm: 1.5\n", "smaller than"),
    ],
)
def test_site_lungs_section_refuses_bad_values(section, match):
    text = ph.site_files("site_shoulder")[0].read_text(encoding="utf-8")
    start = text.index("\nlungs:\n") + 1
    end = text.index("\nviews:\n", start) + 1
    with pytest.raises(ValueError, match=match):
        ph.parse_site([text[:start] + section + text[end:]], where="test")
    parsed = ph.parse_site([text[:start] + _LUNGS_OK + text[end:]], where="test").lungs
    assert parsed == ph.Lungs((120.0, 45.0, -10.0))  # defaults for what is left out


# --------------------------------------------------- compartments (views) ----


@pytest.mark.parametrize("site", ["site_hand", "site_elbow", "site_shoulder"])
def test_upper_limb_masks_hold_their_tissues(site):
    a = an.build(site, "frontal")
    th = a.thickness_mm
    assert (th["muscle"][a.masks["muscle"]] > 1).mean() > 0.75  # bone displaces some of it
    sub = a.masks["subcutaneous"]
    assert (th["adipose"][sub] > th["muscle"][sub]).mean() > 0.8  # the rim beyond the muscles is fat
    assert a.masks["fascial"].sum() > 0.01 * a.body_mask.sum()  # fat planes exist between the groups


def test_fingertip_pulp_is_fat_beyond_the_tuft():
    a = an.build("site_hand", "frontal")
    view = ph.get_view(ph.load_site("site_hand"), "frontal")
    px = a.grid.pixel_mm
    for finger in (2, 3, 4, 5):
        name = f"phalanx_{finger}_distal"
        (p0, p1) = (np.asarray(q, float) for q in bones("site_hand")[name].axis)
        u = (p1 - p0) / np.linalg.norm(p1 - p0)
        tip = voxels("site_hand", name)[np.argmax(voxels("site_hand", name) @ u)]
        x, y = ph.project_point(view, tip + 2.5 * u)  # 2.5 mm beyond the tuft
        r, c = int(y / px), int(x / px)
        assert a.body_mask[r, c] and not a.bone_mask[r, c], finger
        assert a.thickness_mm["adipose"][r, c] > 3, finger  # pulp fat in front of the tuft


# ----------------------------------------------------- elbow lateral film (issue 8, session 5) ----


@cache
def _elbow_lateral_bones() -> dict[str, ph.BoneMaps]:
    data = ph.load_site("site_elbow")
    view = ph.get_view(data, "lateral")
    posed = ph.posed(data, view)
    return {
        b.id: ph.rasterise_bone(b, view, ph.bone_eval_mm(b, posed.eval_mm, view.pixel_mm), posed.bone_voxel_mm, "t")
        for b in posed.bones()
    }


def _image_col(view: ph.View, p) -> tuple[int, int]:
    x, y = ph.project_point(view, p)
    return int(y / view.pixel_mm), int(x / view.pixel_mm)


def test_elbow_lateral_shows_both_forearm_bones_with_cortex_and_medulla():
    data = ph.load_site("site_elbow")
    view = ph.get_view(data, "lateral")
    maps = _elbow_lateral_bones()
    # a column across the forearm 60 mm in front of the elbow (forearm to the image left)
    _, col = _image_col(view, [0, -8, 64])
    rows = {}
    for bone in ("radius", "ulna"):
        cortex, medulla = maps[bone].cortex[:, col], maps[bone].medulla[:, col]
        inside = (cortex + medulla) > 1.0
        assert inside.sum() * view.pixel_mm > 8, bone  # a bone of its own, not a sliver
        assert medulla[inside].max() > 3 and cortex[inside].max() > 2, bone  # a cortex and a medulla
        rows[bone] = set(np.nonzero(inside)[0])
    overlap = len(rows["radius"] & rows["ulna"]) / min(len(rows["radius"]), len(rows["ulna"]))
    assert overlap < 0.5, overlap  # they overlap a little at most: two bones on the film
    # the radius in front (above on the film: the forearm points to the left, anterior up)
    assert np.mean(sorted(rows["radius"])) < np.mean(sorted(rows["ulna"]))


def test_elbow_lateral_bones_are_denser_than_the_soft_tissue_around_them():
    from calcifications import radiograph as rg

    data = ph.load_site("site_elbow")
    view = ph.get_view(data, "lateral")
    proj = ph.project(data, "lateral")
    line = rg.line_integral(rg.make_scene(dict(proj.thickness_mm), proj.pixel_mm))
    maps = _elbow_lateral_bones()
    px = view.pixel_mm
    # forearm: the ulna above the soft tissue just behind it (below it on the film)
    _, col = _image_col(view, [0, -8, 64])
    ulna = (maps["ulna"].cortex[:, col] + maps["ulna"].medulla[:, col]) > 1.0
    bone_any = proj.bone_mm[:, col] > 0.3
    below = np.nonzero(ulna)[0].max()
    soft = [r for r in range(below + 1, below + int(6 / px)) if not bone_any[r] and proj.body_mm[r, col] > 20]
    assert soft and line[ulna, col].mean() > line[soft, col].mean() + 0.3
    # humeral shaft (70 mm above the joint): every pixel of the shaft above the soft tissue beside it
    row, _ = _image_col(view, [0, -78, 0])
    shaft = (maps["humerus"].cortex[row] + maps["humerus"].medulla[row]) > 2.0
    cols = np.nonzero(shaft)[0]
    near = (*range(cols.min() - int(8 / px), cols.min() - 2), *range(cols.max() + 3, cols.max() + int(8 / px)))
    side = [c for c in near if proj.bone_mm[row, c] < 0.3]
    inner = cols[1:-1]  # the outermost pixel on each side straddles the edge (partial volume)
    assert side and line[row, inner].min() > max(line[row, side]) + 0.2


def test_elbow_trochlea_and_capitellum_are_concentric_circles_of_different_size():
    hum = bones("site_elbow")["humerus"]
    centre = np.array([-8.0, 4.0])  # (y, z) of the flexion axis

    def radii(x: float) -> np.ndarray:
        """Surface distance from the axis along rays from anterior (0°) round to distal (120°)."""
        out = []
        for a in np.radians(np.arange(0, 121, 15)):
            d = np.array([np.sin(a), np.cos(a)])  # (y, z): 0° anterior, 90° distal
            t = np.arange(2.0, 20.0, 0.1, dtype=np.float32)
            pts = np.stack([np.full_like(t, x), centre[0] + t * d[0], centre[1] + t * d[1]], 1)
            outside = np.nonzero(hum.sdf(pts) > 0)[0]
            out.append(t[outside[0]])
        return np.asarray(out)

    cap, medial_lip = radii(-12.0), radii(19.0)
    assert cap.std() < 1.2 and medial_lip.std() < 1.2, (cap, medial_lip)  # circles round the axis
    assert abs(cap.mean() - medial_lip.mean()) > 0.8, (cap.mean(), medial_lip.mean())  # of different size
    assert 10.0 <= cap.mean() <= 13.0  # capitellar sagittal radius about 11.6 mm (jse2011capitellum)


def test_elbow_anterior_humeral_and_radiocapitellar_lines():
    data = ph.load_site("site_elbow")
    hum = bones("site_elbow")["humerus"]
    z = np.arange(-20, 25, 0.1, dtype=np.float32)

    def front(y: float) -> float:
        pts = np.stack([np.zeros_like(z), np.full_like(z, y), z], 1)
        return float(z[np.nonzero(hum.sdf(pts) < 0)[0].max()])

    # anterior humeral line: along the anterior cortex of the distal shaft, carried down to the axis
    y0, y1 = -90.0, -60.0
    z0, z1 = front(y0), front(y1)
    z_at_axis = z1 + (z1 - z0) * (-8.0 - y1) / (y1 - y0)
    c, r = 4.0, 11.6
    assert c - r / 3 <= z_at_axis <= c + r, z_at_axis  # through the middle or anterior third of the capitellum
    # radiocapitellar line: the proximal radial axis passes through the capitellum's centre,
    # extended and flexed
    for view in ("frontal", "lateral"):
        posed = {s.id: s for s in ph.posed(data, ph.get_view(data, view)).solids}
        a, b = (np.asarray(p, float) for p in posed["radius"].axis)
        u = (b - a) / np.linalg.norm(b - a)
        centre = np.array([-11.0, -8.0, 4.0])
        dist = np.linalg.norm(np.cross(centre - a, u))
        assert dist < 3.0, (view, dist)


def test_forearm_frontal_has_two_bones():
    data = ph.load_site("site_forearm")
    proj = ph.project(data, "frontal")
    view = ph.get_view(data, "frontal")
    for y in (100.0, 150.0, 200.0):
        row, _ = _image_col(view, [0, y, 0])
        runs = np.diff(np.concatenate([[0], (proj.bone_mm[row] > 1.0).astype(int), [0]]))
        assert (runs == 1).sum() == 2, y  # radius and ulna, no third bone


@pytest.mark.parametrize("finger", [1, 2, 3, 4, 5])
def test_distal_phalanx_tuft_is_dense_not_a_ring(finger):
    data = ph.load_site("site_hand")
    view = ph.get_view(data, "frontal")
    bone = bones("site_hand")[f"phalanx_{finger}_distal"]
    maps = ph.rasterise_bone(bone, view, ph.bone_eval_mm(bone, data.eval_mm, view.pixel_mm), data.bone_voxel_mm, "t")
    tuft = next(p for p in bone.parts if isinstance(p, ph.EllipsoidPart))
    row, col = _image_col(view, tuft.center)
    cortex = maps.cortex[row]
    # projected cortical bone across the tuft: the centre as dense as the rim, within 12 % (a ring is paler in the middle)
    assert cortex[col] > 0.88 * cortex.max(), (cortex[col], cortex.max())


@pytest.mark.parametrize("site", ["site_elbow", "site_hand", "site_forearm"])
def test_site_references_are_in_references_bib(site):
    import re
    from pathlib import Path

    import yaml

    bib = (Path(__file__).resolve().parents[1] / "references.bib").read_text(encoding="utf-8")
    keys = set(re.findall(r"^@\w+\{([^,\s]+),", bib, re.M))
    refs = yaml.safe_load(ph.site_files(site)[0].read_text(encoding="utf-8"))["references"]
    assert refs and set(refs) <= keys, sorted(set(refs) - keys)


def test_flexed_elbow_film_shows_the_ulna_brighter_than_the_muscle_beside_it():
    """With the window of the elbow's lateral figures (the case deck takes the first elbow figure's),
    the displayed ulna is brighter than the soft tissue just behind it, not inverted."""
    from calcifications import figures
    from calcifications import radiograph as rg

    spec = next(s for s in figures.load_specs() if s.site == "site_elbow")
    data = ph.load_site("site_elbow")
    view = ph.get_view(data, "lateral")
    proj = ph.project(data, "lateral")
    scene = rg.make_scene(dict(proj.thickness_mm), proj.pixel_mm)
    log = rg.render_log(scene, rg.Exposure(energy_kev=30, fluence_photons_per_mm2=None, blur_fwhm_mm=0.35))
    img = rg.apply_window(log, spec.window, proj.pixel_mm, proj.bone_mm > 0.5)
    maps = _elbow_lateral_bones()
    _, col = _image_col(view, [0, -8, 64])
    ulna = (maps["ulna"].cortex[:, col] + maps["ulna"].medulla[:, col]) > 1.0
    below = np.nonzero(ulna)[0].max()
    rows = np.nonzero(ulna)[0]
    middle = rows[len(rows) // 3 : 2 * len(rows) // 3]  # the medullary part, between the cortices
    soft = [r for r in range(below + 3, below + int(8 / view.pixel_mm)) if proj.bone_mm[r, col] < 0.3]
    # 0.02: engine 11's tone curve keeps the soft-tissue top anchor, so muscle next to bone is a little brighter
    assert soft and img[middle, col].mean() > img[soft, col].max() + 0.02, (img[middle, col], img[soft, col])
