"""Anatomical sanity of the knee, leg, ankle and foot site files (data/anatomy/site_knee.yml,
site_leg.yml, site_ankle_foot*.yml): relative sizes and positions from the references in their
headers, open joint spaces, landmarks inside the tissues they name, consistent projected masks."""

import numpy as np
import pytest

from calcifications import anatomy as an
from calcifications import phantom as ph


def _points(lo, hi, step):
    # offset off the round numbers of the data: the engine's ellipse distance is 0 exactly on a centreline
    axes = [np.arange(lo[i] + 0.137, hi[i] + step, step) for i in range(3)]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3).astype(np.float32)


def _inside(solid: ph.Solid, step: float = 1.0, lo=None, hi=None) -> np.ndarray:
    """Grid points (mm) inside the solid, optionally only within the box lo–hi."""
    blo, bhi = solid.bounds()
    lo = blo if lo is None else np.maximum(blo, lo)
    hi = bhi if hi is None else np.minimum(bhi, hi)
    pts = _points(lo, hi, step)
    return pts[solid.sdf(pts) < 0]


def _sdf(solid: ph.Solid, p) -> float:
    return float(solid.sdf(np.asarray([p], np.float32))[0])


@pytest.fixture(scope="module")
def knee():
    data = ph.load_site("site_knee")
    return data, {s.id: s for s in data.solids}


@pytest.fixture(scope="module")
def foot():
    data = ph.load_site("site_ankle_foot")
    return data, {s.id: s for s in data.solids}


# ----------------------------------------------------------------------------- knee ----


def test_fibular_head_is_posterolateral_and_below_the_plateau(knee):
    _, s = knee
    tib = _inside(s["tibia"], 1.0, (-60, -10, -60), (60, 60, 60))
    fib = _inside(s["fibula"], 1.0, (-60, -10, -60), (0, 60, 0))
    plateau_top = tib[np.abs(tib[:, 0] + 25) < 3][:, 1].min()  # lateral plateau (−x on a right knee)
    head = fib[fib[:, 1] < 40]
    assert head[:, 1].min() >= plateau_top + 5  # apex below the plateau (about 1 cm)
    assert head[:, 1].min() <= plateau_top + 15
    tib_level = tib[np.abs(tib[:, 1] - 24) < 2]
    centre = head.mean(axis=0)
    assert centre[0] < tib_level[:, 0].mean() - 25  # lateral
    assert centre[2] < tib_level[:, 2].mean() - 10  # posterior
    # overlaps: lateral tibial condyle on the AP (x ranges), posterior tibia on the lateral (z ranges)
    top = head[:, 1].min()
    condyle = tib[(tib[:, 1] > top) & (tib[:, 1] < top + 12)]
    assert head[:, 0].max() > condyle[:, 0].min() + 3
    assert head[:, 2].max() > condyle[:, 2].min() + 3


def test_patella_is_anterior_to_the_trochlea_with_normal_height(knee):
    data, s = knee
    pat = _inside(s["patella"])
    fem = _inside(s["femur"], 1.0, (-15, -70, -50), (15, 0, 60))
    y0, y1 = pat[:, 1].min(), pat[:, 1].max()
    band = fem[(fem[:, 1] > y0) & (fem[:, 1] < y1) & (np.abs(fem[:, 0]) < 12)]
    back = pat[np.abs(pat[:, 0]) < 12][:, 2].min()
    assert back > band[:, 2].max() + 1  # in front of the trochlear groove, not in it
    assert back < band[:, 2].max() + 8  # seated: patellofemoral space a few mm, not floating
    length = y1 - y0
    assert 35 <= length <= 46  # flores2022knee: 42 mm
    tendon = np.asarray(s["patellar_tendon"].parts[0].path, float)
    lower_pole = pat[np.argmax(pat[:, 1])]
    insertion = tendon[-1]
    ratio = np.linalg.norm(insertion - lower_pole) / length
    assert 0.8 <= ratio <= 1.3  # Insall-Salvati about 1 (upadhyay2013patella)
    assert y1 < -8  # lower pole above the joint line with the knee extended


def test_medial_condyle_is_larger_and_notch_is_open(knee):
    _, s = knee
    med = _inside(s["femur"], 0.8, (14, -30, -50), (26, 0, 30))
    lat = _inside(s["femur"], 0.8, (-26, -30, -50), (-14, 0, 30))
    assert med[:, 2].min() < lat[:, 2].min() - 1  # medial reaching further back: offset outlines on the lateral
    assert med[:, 1].max() >= lat[:, 1].max()  # and at least as low
    # intercondylar notch: no bone in the midline just above the joint posteriorly (below the
    # Blumensaat line, which slopes up posteriorly)
    notch = _points((-5, -10, -30), (5, -4, -10), 1.0)
    assert (s["femur"].sdf(notch) > 0).all()
    # but bone in the midline in front of it (trochlea)
    assert _sdf(s["femur"], (0, -30, 10)) < 0


def test_tibial_plateau_slopes_down_posteriorly(knee):
    _, s = knee
    tib = _inside(s["tibia"], 0.8, (14, -10, -40), (26, 14, 40))
    rim = tib[(np.abs(tib[:, 0] - 20) < 3) & (tib[:, 1] < 12)]
    front = rim[rim[:, 2] > 10][:, 1].min()
    back = rim[rim[:, 2] < -14][:, 1].min()
    assert back - front > 1.5  # posterior rim lower: the double plateau line (haddad2012slope, about 6°)


def test_knee_joint_space_holds_the_cartilage_and_menisci(knee):
    data, s = knee
    fem, tib = s["femur"], s["tibia"]
    for x in (-20, 20):
        ys = np.arange(-15, 10, 0.25)
        p = np.stack([np.full_like(ys, x), ys, np.full_like(ys, -5)], 1).astype(np.float32)
        gap = ys[tib.sdf(p) < 0].min() - ys[fem.sdf(p) < 0].max()
        assert 3.5 <= gap <= 8, (x, gap)  # radiographic joint space of a normal adult knee
    lines = data.landmarks["cartilage_lines"]
    pts = [p for line in lines for p in line] + list(data.landmarks["menisci"])
    for p in pts:
        assert _sdf(fem, p) > 0 and _sdf(tib, p) > 0, p  # in the joint space, not in bone
        d = np.arange(0, 20, 0.5)
        up = np.asarray([[p[0], p[1] - t, p[2]] for t in d], np.float32)
        down = np.asarray([[p[0], p[1] + t, p[2]] for t in d], np.float32)
        above, below = d[fem.sdf(up) < 0], d[tib.sdf(down) < 0]
        assert len(above) and len(below), p  # femur above, tibia below
        assert min(above.min(), below.min()) <= 3, p  # on a cartilage surface, not floating in the space


def test_knee_soft_tissue_landmarks_lie_in_their_tissues(knee):
    data, s = knee
    lm = data.landmarks
    assert _sdf(s["hoffa_fat_pad"], lm["hoffa_fat_pad"]) < 0
    for b in ("femur", "tibia", "patella"):
        assert _sdf(s[b], lm["hoffa_fat_pad"]) > 0
    # Hoffa's pad is behind the patellar tendon
    path = np.asarray(s["patellar_tendon"].parts[0].path)
    assert lm["hoffa_fat_pad"][2] < np.interp(lm["hoffa_fat_pad"][1], path[:, 1], path[:, 2]) - 3
    # the popliteal artery runs behind the femur and the tibia
    fem = _inside(s["femur"], 1.5, (-50, -120, -60), (50, 10, 60))
    tib = _inside(s["tibia"], 1.5, (-50, -10, -60), (50, 120, 60))
    for p in lm["artery"]:
        y = p[1]
        for bone in (fem, tib):
            level = bone[np.abs(bone[:, 1] - y) < 2]
            if len(level):
                assert p[2] < level[:, 2].min() - 3, p
    assert _sdf(s["popliteal_fat"], lm["popliteal_fossa"]) < 0


def test_every_knee_and_foot_bone_is_covered_by_soft_tissue():
    from test_phantom import _in_some_field

    for site in ("site_knee", "site_leg", "site_ankle_foot"):
        data = ph.load_site(site)
        for bone in data.bones():
            pts = _inside(bone, 2.0)
            pts = pts[_in_some_field(data, pts)]
            depth = -data.envelope.sdf(pts)
            assert depth.min() > 1.0, (site, bone.id, float(depth.min()))


# ----------------------------------------------------------------------------- foot ----


def _length_and_width(solid: ph.Solid) -> tuple[float, float]:
    pts = _inside(solid, 0.6)
    a, b = np.asarray(solid.axis[0]), np.asarray(solid.axis[1])
    u = (b - a) / np.linalg.norm(b - a)
    along = pts @ u
    across = pts[:, 0]
    return float(np.ptp(along)), float(np.ptp(across))


def test_metatarsal_and_phalangeal_proportions(foot):
    _, s = foot
    mt = {k: _length_and_width(s[f"metatarsal_{k}"]) for k in range(1, 6)}
    # patil2017forefoot: first metatarsal the shortest and the widest, second the longest
    assert mt[1][0] == min(v[0] for v in mt.values())
    assert mt[1][1] == max(v[1] for v in mt.values())
    assert mt[1][1] > 1.4 * mt[2][1]  # the first much stouter
    assert mt[2][0] == max(v[0] for v in mt.values())
    assert 50 <= mt[1][0] <= 66
    p1 = _length_and_width(s["phalanx_1_proximal"])[0]
    assert all(p1 > _length_and_width(s[f"phalanx_{k}_proximal"])[0] for k in range(2, 6))
    # lesser toes short: the proximal phalanx under half its metatarsal
    for k in range(2, 6):
        assert _length_and_width(s[f"phalanx_{k}_proximal"])[0] < 0.5 * mt[k][0]


def test_sesamoids_under_the_head_in_the_dorsoplantar_view(foot):
    data, s = foot
    view = data.views["frontal"]
    head = s["metatarsal_1"].parts[1]
    c = np.asarray(head.center)
    hp = ph.project_point(view, c)
    mtp = ph.project_point(view, data.landmarks["hallux_mtp"])
    for name in ("medial_sesamoid", "lateral_sesamoid"):
        sc = np.asarray(s[name].parts[0].center)
        assert sc[1] > c[1] + 5  # plantar to the head
        p = ph.project_point(view, sc)
        assert abs(p[1] - hp[1]) < 6  # at the level of the head, not the neck
        assert p[1] > mtp[1]  # proximal to the joint (toes up on the image)
        assert abs(p[0] - hp[0]) < head.radii[0] + 2  # within the width of the head


def test_foot_joint_spaces_are_open(foot):
    _, s = foot
    from test_phantom import min_gap_mm

    for a, b, gap in [
        ("metatarsal_1", "phalanx_1_proximal", 1.5),
        ("tibia", "talus", 1.5),
        ("calcaneus", "talus", 1.0),
        ("talus", "navicular", 1.0),
    ]:
        assert min_gap_mm(s[a], s[b], 0.7) >= gap, (a, b)


def test_hindfoot_shapes_and_sizes(foot):
    data, s = foot
    cal, tal = _inside(s["calcaneus"]), _inside(s["talus"])
    assert 70 <= np.ptp(cal[:, 2]) <= 88  # kim2014calcaneus: 74 mm (with the tuberosity's cap)
    assert 52 <= np.ptp(tal[:, 2]) <= 66  # liu2020talus: 61 mm
    # the tuberosity is taller than the anterior process (not a brick)
    back = cal[cal[:, 2] < cal[:, 2].min() + 12]
    front = cal[cal[:, 2] > cal[:, 2].max() - 12]
    assert np.ptp(back[:, 1]) > 1.5 * np.ptp(front[:, 1])
    # talus above the calcaneus, head in front of the body, dome under the plafond
    assert tal[:, 1].mean() < cal[:, 1].mean() - 15
    # Kager's fat pad lies in front of the Achilles tendon, above the calcaneus
    k = np.asarray(data.landmarks["kager_fat_pad"], np.float32)
    assert _sdf(s["kager_fat_pad"], k) < 0
    ach = np.asarray(data.landmarks["achilles_tendon"])
    assert all(_sdf(s["achilles_tendon"], p) < 0 for p in ach)
    assert k[2] > ach[:, 2].max()
    assert k[1] < cal[:, 1].min()


def test_midfoot_bones_are_rounded_and_jointed_as_on_a_lateral_film(foot):
    data, s = foot
    nav = _inside(s["navicular"], 0.5)
    sl = nav[np.abs(nav[:, 0] + 20) < 2]  # a sagittal slice through the middle of the navicular

    def z_range(y0):
        band = sl[np.abs(sl[:, 1] - y0) < 1.5]
        return band[:, 2].min(), band[:, 2].max()

    centre, dorsal, plantar = z_range(-21.0), z_range(-31.0), z_range(-12.0)
    assert centre[0] > dorsal[0] + 1.0 and centre[0] > plantar[0] + 1.0  # concave behind (the talar head's cup)
    assert centre[1] > dorsal[1] + 0.5 and centre[1] > plantar[1] + 0.5  # convex in front
    assert 12 <= centre[1] - centre[0] <= 19 and 18 <= np.ptp(sl[:, 1]) <= 27  # rajaram2024navicular: 15 and 22 mm
    # the cuneiforms and cuboid come after the navicular and calcaneus: their proximal facets are the concave ones
    order = [b.id for b in data.bones()]
    for later in ("medial_cuneiform", "intermediate_cuneiform", "lateral_cuneiform", "cuboid"):
        assert order.index(later) > order.index("navicular") and order.index(later) > order.index("calcaneus")
    cun = {k: _inside(s[f"{k}_cuneiform"], 0.7) for k in ("medial", "intermediate", "lateral")}
    assert np.ptp(cun["medial"][:, 1]) > max(np.ptp(cun[k][:, 1]) for k in ("intermediate", "lateral"))  # the tallest
    assert np.ptp(cun["intermediate"][:, 2]) < min(np.ptp(cun[k][:, 2]) for k in ("medial", "lateral"))  # the shortest
    assert cun["intermediate"][:, 2].max() < cun["medial"][:, 2].max() - 5  # the second metatarsal base set back
    cub = _inside(s["cuboid"], 0.7)
    back = cub[cub[:, 2] < cub[:, 2].min() + 8]
    front = cub[cub[:, 2] > cub[:, 2].max() - 8]
    assert np.ptp(back[:, 1]) > np.ptp(front[:, 1]) + 3  # taller behind (moitra2021cuboid)
    assert 22 <= np.ptp(cub[:, 1]) <= 32


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_metatarsal_bases_taper_into_the_shaft(foot, k):
    _, s = foot
    mt = s[f"metatarsal_{k}"]
    pts = _inside(mt, 0.5)
    a, b = (np.asarray(p, float) for p in mt.axis)
    u = (b - a) / np.linalg.norm(b - a)
    t = (pts - a) @ u
    t0 = t.min()
    heights = []
    for d in (5.0, 8.0, 11.0, 14.0, 18.0, 28.0):  # from past the rounded end
        sl = pts[np.abs(t - t0 - d) < 0.6]
        heights.append(float(np.ptp(sl[:, 1])))
    assert heights[0] > 1.3 * heights[-1], heights  # a flared base
    steps = np.diff(heights[:5])
    assert np.all(steps < 1.0), heights  # narrowing all along the base (a tube, not a box with a step)
    assert np.all(-steps < 0.45 * np.asarray(heights[:4])), heights


# ------------------------------------------------------------------ projected views ----


@pytest.mark.parametrize("site, view", [("site_knee", "lateral"), ("site_knee", "frontal")])
def test_projected_knee_landmarks_fall_in_their_masks(site, view):
    a = an.build(site, view)
    px = a.grid.pixel_mm

    def at(mask, p):
        r, c = int(p[1] / px), int(p[0] / px)
        win = mask[max(r - 2, 0) : r + 3, max(c - 2, 0) : c + 3]
        return bool(win.any())

    art = a.landmarks["artery"]
    hits = [at(a.masks["vascular"], p) for p in art if 0 < p[1] < a.grid.size_mm[1]]
    assert np.mean(hits) > 0.6
    if view == "frontal":
        for p in a.landmarks["menisci"]:
            assert at(a.masks["intraarticular"], p)
    else:
        assert at(a.masks["periarticular"], a.landmarks["hoffa_fat_pad"])
        assert not at(a.bone_mask, a.landmarks["hoffa_fat_pad"])


# ------------------------------------------- blind-read defects (session 5) ----


def test_fibular_head_outline_shows_behind_the_tibia_on_the_lateral(knee):
    """Both readers saw no fibula on the lateral knee: the head must overlap the posterior
    tibial condyle and reach a few mm behind its cortex so that its outline is seen."""
    _, s = knee
    tib = _inside(s["tibia"], 1.0, (-60, 10, -60), (60, 40, 60))
    fib = _inside(s["fibula"], 1.0, (-60, 10, -60), (0, 40, 0))
    # session 8: the head lies lower (its top about 15 mm below the plateau) and behind the lateral
    # condyle, so the levels follow it down and its back may reach a little further behind the tibia
    for y in (22, 26, 30):
        t = tib[np.abs(tib[:, 1] - y) < 1.5][:, 2]
        f = fib[np.abs(fib[:, 1] - y) < 1.5][:, 2]
        assert f.max() > t.min() + 6  # overlaps the posterior tibia (z ranges on the lateral film)
        assert 1.5 <= t.min() - f.min() <= 14  # its back just behind the tibia: an outline of its own
    # a visible head cortex where the lateral film sees it edge-on (front and back: cortex_sides).
    # Session 11 (knee11): 1.05 mm all round, thinner than before (1.4 mm drew a bright wedge over the
    # tibia on the AP), and thicker front and back
    fib = s["fibula"]
    edge_on = max((g for d, g in fib.cortex_sides if abs(d[2]) > 0.9), default=0.0)
    assert dict(fib.cortex_mm)[0.0] * (1 + edge_on) >= 1.2


def test_patellofemoral_gap_is_cartilage_not_fat(knee):
    """A fat-filled gap made the patella seem to float in front of the femur."""
    _, s = knee
    pat = _inside(s["patella"])
    back = pat[np.abs(pat[:, 0]) < 8][:, 2].min()
    mid_y = float(np.median(pat[:, 1]))
    fem = _inside(s["femur"], 1.0, (-8, mid_y - 4, -50), (8, mid_y + 4, 60))
    front = fem[:, 2].max()
    assert back - front <= 6  # seated (cartilage about 4 mm, patella2018thickness)
    assert _sdf(s["patellofemoral_joint"], (0, mid_y, (back + front) / 2)) < 0


def test_intercondylar_notch_is_an_arch_open_through_on_the_ap(knee):
    """On the AP the notch must be a lucent arch widening towards the spines, not a
    parallel-walled tube: no femur along the whole beam in the midline near the joint,
    and the bone-free width grows towards the joint line."""
    _, s = knee
    femur = s["femur"]
    zs = np.arange(-60.0, 60.0, 0.5)

    def free_width(y):
        xs = np.arange(-20.0, 20.0, 0.5) + 0.137
        free = []
        for x in xs:
            pts = np.stack([np.full_like(zs, x), np.full_like(zs, y), zs], axis=1).astype(np.float32)
            free.append(bool((femur.sdf(pts) > 0).all()))
        return float(np.sum(free) * 0.5)

    upper, lower = free_width(-16), free_width(-6)
    assert lower >= 14  # open through at the outlet
    assert lower > upper + 2  # widening towards the joint line (an arch)
    # and nothing denser than fat drawn inside it (a cruciate solid narrower than the notch read as a tube)
    notch = _points((-4, -14, -25), (4, -6, -5), 1.0)
    for solid in s.values():
        if solid.kind not in ("bone", "fat", "fat_pad", "muscle"):
            assert (solid.sdf(notch) > 0).all(), solid.id


def test_ankle_lateral_shows_the_fibula_over_the_posterior_tibia_and_talus(foot):
    _, s = foot
    tib = _inside(s["tibia"], 1.0, (-80, -110, -200), (20, -60, -100))
    fib = _inside(s["fibula"], 1.0, (-80, -110, -200), (-30, -20, -100))
    t = tib[np.abs(tib[:, 1] + 85) < 2][:, 2]
    f = fib[np.abs(fib[:, 1] + 85) < 2][:, 2]
    t_mid = (t.min() + t.max()) / 2
    # over the posterior half of the tibia (its back a few mm behind: an outline of its own)
    assert f.min() >= t.min() - 7 and f.max() <= t_mid + 4
    plafond = tib[:, 1].max()
    tip = fib[:, 1].max()
    assert 10 <= tip - plafond <= 30  # the lateral malleolus reaches below the plafond
    assert dict(s["fibula"].cortex_mm)[1.0] >= 2.5


def test_plantar_aponeurosis_is_a_narrow_band(foot):
    """A 40 mm wide sheet seen edge-on made a bright bar in the plantar fat."""
    _, s = foot
    pa = _inside(s["plantar_aponeurosis"], 0.5)
    assert np.ptp(pa[:, 0]) <= 22  # the central band only, much narrower than the heel (about 60 mm here)


def test_forefoot_figure_shows_the_whole_forefoot(foot):
    """fig14 was read as a thumb: its field must hold the toes and all five metatarsals
    down to their bases (a foot), on the dorsoplantar view."""
    from pathlib import Path

    import yaml

    data, s = foot
    raw = yaml.safe_load((Path(ph.__file__).parent / "data" / "seed_figures.yml").read_text(encoding="utf-8"))
    specs = raw["figures"]
    spec = next(f for f in specs if f["id"] == "fig14")
    assert spec["projection"] == "frontal"
    centre = np.asarray(data.landmarks[spec["zoom"]["center"]], float)
    half = spec["zoom"]["field_mm"] / 2
    for k in range(1, 6):
        mt = _inside(s[f"metatarsal_{k}"], 1.0)
        # dorsoplantar view: image plane x (mediolateral) and z (proximodistal)
        assert np.all(np.abs(mt[:, 0] - centre[0]) <= half), k
        assert np.all(np.abs(mt[:, 2] - centre[2]) <= half), k
    first, second = _length_and_width(s["metatarsal_1"]), _length_and_width(s["metatarsal_2"])
    assert first[1] > 1.4 * second[1]  # the first the stoutest


# ------------------------------------------- blind-read defects (session 6) ----


def _top_profile(solid: ph.Solid, xs, z: float, y_lo: float = -20.0, y_hi: float = 15.0) -> np.ndarray:
    """Highest (most proximal) y of the solid along each vertical line x in ``xs`` at depth z."""
    ys = np.arange(y_lo, y_hi, 0.2)
    out = []
    for x in xs:
        p = np.stack([np.full_like(ys, x), ys, np.full_like(ys, z)], 1).astype(np.float32)
        inside = solid.sdf(p) < 0
        out.append(ys[np.argmax(inside)] if inside.any() else np.nan)
    return np.asarray(out)


def test_tibial_spines_are_two_low_rounded_peaks(knee):
    """Readers saw 'tent spikes' and 'needles': each intercondylar tubercle must be a rounded
    hump a few mm high with a broad base, the medial the taller, a shallow groove between them."""
    _, s = knee
    xs = np.arange(-16.0, 16.01, 0.5) + 0.137
    top = np.nanmin(np.stack([_top_profile(s["tibia"], xs, z) for z in (-6.0, -4.0, -2.0)]), axis=0)
    plateau = {+1: float(np.nanmean(top[(xs > 13) & (xs < 16)])), -1: float(np.nanmean(top[(xs < -13) & (xs > -16)]))}
    heights = {}
    for side in (+1, -1):
        half = (side * xs > 1.5) & (side * xs < 13)
        peak = float(np.nanmin(top[half]))
        h = plateau[side] - peak
        assert 3.0 <= h <= 9.0, (side, h)  # a small peak, not a spike (medial about 6 mm)
        above_half = half & (top < peak + h / 2)
        width = above_half.sum() * 0.5
        assert width >= 5.0, (side, width)  # broad at half its height: rounded, not a needle
        heights[side] = h
    assert heights[+1] >= heights[-1]  # the medial tubercle the taller
    groove = float(np.nanmax(top[np.abs(xs) < 1.5]))
    # a shallow groove between them, not a deep V (the old spikes stood 8 mm above it)
    assert groove - min(np.nanmin(top[(xs > 1.5) & (xs < 13)]), np.nanmin(top[(xs < -1.5) & (xs > -13)])) < 5.0


def test_patella_is_a_rounded_triangle_apex_down(knee):
    """On the AP the patella was a perfect disc: it must be widest in its upper half and narrow
    to an apex below (a rounded triangle), and thinner at its borders than along its middle."""
    _, s = knee
    pat = _inside(s["patella"], 0.5)
    y0, y1 = pat[:, 1].min(), pat[:, 1].max()
    length = y1 - y0

    def width(frac):
        band = pat[np.abs(pat[:, 1] - (y0 + frac * length)) < 0.6]
        return band[:, 0].max() - band[:, 0].min()

    upper, lower = width(0.3), width(0.8)
    assert upper > 40  # flores2022knee: about 45 mm wide
    assert lower < 0.65 * upper  # apex down
    mid = pat[np.abs(pat[:, 1] - (y0 + 0.35 * length)) < 0.6]
    centre = mid[np.abs(mid[:, 0] - 1) < 2][:, 2]
    border = mid[np.abs(mid[:, 0] - 1 - 0.8 * upper / 2) < 1.5][:, 2]
    assert np.ptp(border) < 0.6 * np.ptp(centre)  # thin borders: the outline fades on the AP


def test_soft_tissue_crosses_the_joint_line_at_both_sides(knee):
    """A horizontal fat band ran across the soft tissue at the joint line (the thigh and leg
    muscles end there): tendons, ligaments and capsule must cross it on both sides."""
    _, s = knee
    lateral = ("iliotibial_band", "lateral_collateral_ligament", "biceps_femoris_tendon", "lateral_capsule")
    medial = ("medial_collateral_ligament", "pes_anserinus", "medial_capsule")
    for ids, sign in ((lateral, -1), (medial, +1)):
        for sid in ids:
            solid = s[sid]
            assert solid.kind in ("tendon", "ligament", "capsule"), sid
            lo, hi = solid.bounds()
            assert lo[1] < -10 and hi[1] > 10, sid  # from above to below the joint line
            mid = _inside(solid, 1.0, (-80, -2, -60), (80, 2, 60))
            assert len(mid) and np.all(sign * mid[:, 0] > 30), sid  # at the side of the joint
    itb = np.asarray(s["iliotibial_band"].parts[0].path)[-1]
    assert _sdf(s["tibia"], itb) < 3  # inserts on the anterolateral tibia (Gerdy's tubercle)
    assert itb[2] > 0 and itb[0] < -25
    bic = np.asarray(s["biceps_femoris_tendon"].parts[0].path)[-1]
    lcl = np.asarray(s["lateral_collateral_ligament"].parts[0].path)[-1]
    for end in (bic, lcl):
        assert _sdf(s["fibula"], end) < 3  # to the fibular head
    mcl = np.asarray(s["medial_collateral_ligament"].parts[0].path)
    assert 85 <= np.sum(np.linalg.norm(np.diff(mcl, axis=0), axis=1)) <= 105  # laprade2007medial: 94.8 mm
    assert 55 <= mcl[-1][1] <= 67  # tibial attachment about 61 mm below the joint


def test_trabeculae_radiate_in_the_condyles_and_fan_under_the_plateaus(knee):
    """The epiphyses showed combed vertical trabeculae: the femur and tibia need trabecular
    groups, the condyles' fanning out both ways and the tibia's from each plateau downwards."""
    _, s = knee
    for bone, lo_n in (("femur", 6), ("tibia", 4)):
        groups = s[bone].texture_groups
        assert len(groups) >= lo_n, bone
        dirs = []
        for g in groups:
            p = np.asarray(g.path)
            d = p[-1] - p[0]
            dirs.append(np.degrees(np.arctan2(d[0], abs(d[1]))))  # lean off vertical on the AP (+ medial)
        assert max(dirs) > 12 and min(dirs) < -12, (bone, dirs)  # fanning both ways, not one comb
    fem = list(s["femur"].texture_groups)
    ends = np.asarray([g.path[-1] for g in fem])
    assert np.all(_sdf_many(s["femur"], ends) > -6)  # each ends at (near) the articular surface
    tex = s["femur"].texture_mm
    assert tex[0] / tex[1] < 3  # the base grain no longer a long comb


def _sdf_many(solid: ph.Solid, pts) -> np.ndarray:
    return solid.sdf(np.asarray(pts, np.float32))


def test_joint_line_soft_tissue_has_no_flat_band_on_a_zoomed_ap():
    """The zoomed AP (quiz_intraarticular_q1) showed a dark stripe with bright edges across the
    lateral soft tissue at the joint line: grown muscle ends were cut by their parts' boxes. The
    muscle path beside the joint must change smoothly from row to row."""
    a = an.from_projection("site_knee", "frontal", (512, 512), zoom=((105.0, 113.5), 110.0))
    muscle = a.thickness_mm["muscle"]
    px = a.grid.pixel_mm
    rows = slice(int(256 - 25 / px), int(256 + 25 / px))
    for x_mm in (-46.0, -42.0, 40.0, 44.0):
        col = int(round(256 + x_mm / px))
        prof = muscle[rows, col - 2 : col + 3].mean(axis=1)
        jump = np.abs(np.diff(prof))
        assert jump.max() < 1.2, (x_mm, float(jump.max()))  # mm of muscle per 0.2 mm row
