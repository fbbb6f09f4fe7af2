"""Ankle lateral and forefoot dorsoplantar anatomy (data/anatomy/site_ankle_foot*.yml) against the
blind-read defects of 2026-12-01: no fibula seen behind the tibia on the lateral ankle, a lateral
malleolus no lower than the medial, a thin heel pad, and stacks of extra tiny phalanges on the
lesser toes. Dimensions: kim2015heelpad (heel pad about 19 mm on a lateral radiograph),
gallart2014fifthtoe (biphalangeal fifth toe in about 46 % of feet), patil2017forefoot (the
proximal phalanges the longest, the fifth distal phalanx about 5 mm)."""

import numpy as np
import pytest

from calcifications import phantom as ph


def _points(lo, hi, step):
    axes = [np.arange(lo[i] + 0.137, hi[i] + step, step) for i in range(3)]  # off the round numbers of the data
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3).astype(np.float32)


def _inside(solid: ph.Solid, step: float = 1.0) -> np.ndarray:
    lo, hi = solid.bounds()
    pts = _points(lo, hi, step)
    return pts[solid.sdf(pts) < 0]


@pytest.fixture(scope="module")
def foot():
    data = ph.load_site("site_ankle_foot")
    return data, {s.id: s for s in data.solids}


# ------------------------------------------------------------------- lateral ankle ----


def _columns(mask_row: np.ndarray) -> tuple[int, int]:
    idx = np.flatnonzero(mask_row)
    return int(idx.min()), int(idx.max())


def test_fibula_outline_projects_over_the_posterior_tibia_on_the_lateral(foot):
    """On the lateral film the distal fibula overlaps the posterior half of the tibia and its
    back reaches a little behind the tibia's posterior cortex, so its outline is seen (it was
    flush with it: the readers saw no fibula)."""
    data, _ = foot
    view = data.views["lateral"]
    tib = ph.solid_path_mm(data, "lateral", "tibia") > 0.5
    fib = ph.solid_path_mm(data, "lateral", "fibula") > 0.5
    px = view.pixel_mm
    for y in (-115.0, -100.0, -85.0):
        row = int(round(ph.project_point(view, (-30.0, y, -150.0))[1] / px))
        t0, t1 = _columns(tib[row])  # image x grows posteriorly (anterior to the image left)
        f0, f1 = _columns(fib[row])
        t_mid = (t0 + t1) / 2
        assert t_mid - 0.1 * (t1 - t0) <= f0 <= t1, y  # its front within the posterior half of the tibia
        assert 1.5 <= (f1 - t1) * px <= 7.0, y  # its back a few mm behind the tibia: an outline of its own


def test_fibular_shaft_has_a_tubular_cortex(foot):
    _, s = foot
    cortex = s["fibula"].cortex_mm
    prof = dict(cortex) if not isinstance(cortex, float) else {0.0: cortex, 1.0: cortex}
    ss = sorted(prof)
    at = float(np.interp(0.35, ss, [prof[k] for k in ss]))
    assert at >= 2.5  # distal shaft, about 5 cm above the tip: a distinct cortical outline


def test_lateral_malleolus_reaches_lower_than_the_medial(foot):
    _, s = foot
    tib, fib, tal = _inside(s["tibia"]), _inside(s["fibula"]), _inside(s["talus"])
    medial_tip = tib[:, 1].max()  # y grows inferiorly
    lateral_tip = fib[:, 1].max()
    assert 8 <= lateral_tip - medial_tip <= 20
    # the tip overlaps the posterior half of the talar body on the lateral (z ranges), below the dome
    tip = fib[fib[:, 1] > lateral_tip - 8]
    body = tal[tal[:, 1] < tal[:, 1].min() + 25]
    mid = (body[:, 2].min() + body[:, 2].max()) / 2
    assert body[:, 2].min() - 4 <= tip[:, 2].mean() <= mid + 2
    assert lateral_tip > tal[:, 1].min() + 20


def test_heel_pad_is_thick_under_the_tuberosity(foot):
    """kim2015heelpad: about 19 mm from the skin to the calcaneus on a non-weight-bearing lateral
    radiograph (it was 12-14 mm, read as thin)."""
    data, s = foot
    cal = _inside(s["calcaneus"])
    for z in (-180.0, -172.0, -164.0):
        c = cal[(np.abs(cal[:, 2] - z) < 1) & (np.abs(cal[:, 0] + 31) < 2)]
        yb = c[:, 1].max()
        ys = np.arange(yb, yb + 60, 0.2)
        p = np.stack([np.full_like(ys, -31.0), ys, np.full_like(ys, z)], 1).astype(np.float32)
        pad = ys[np.argmax(data.envelope.sdf(p) > 0)] - yb
        assert 15 <= pad <= 22, (z, pad)
    # and the heel fat pad fills it, under the calcaneus
    hp = _inside(s["heel_fat_pad"])
    assert hp[:, 1].min() > cal[:, 1].max() - 6


def test_kager_pad_and_plantar_aponeurosis_stay(foot):
    """The readers placed deposits by Kager's pad: it stays between the Achilles tendon and the
    deep flexors, above the calcaneus, and the plantar aponeurosis runs under the heel."""
    data, s = foot
    assert s["kager_fat_pad"].kind == "fat_pad"
    kp = _inside(s["kager_fat_pad"])
    ach = _inside(s["achilles_tendon"])
    cal = _inside(s["calcaneus"])
    assert kp[:, 2].mean() > ach[:, 2].mean()  # in front of the tendon
    assert kp[:, 1].max() < cal[:, 1].mean()  # above the heel
    pa = _inside(s["plantar_aponeurosis"], 0.5)
    assert pa[:, 1].min() > cal[:, 1].max() - 3  # from the plantar tuberosity forwards, under the calcaneus
    assert pa[:, 1].mean() > cal[:, 1].max()


# ---------------------------------------------------------------- forefoot (toes) ----


def _along(solid: ph.Solid, step: float = 0.3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pts = _inside(solid, step)
    a, b = (np.asarray(p, float) for p in solid.axis)
    u = (b - a) / np.linalg.norm(b - a)
    return pts, pts @ u, u


def _length(solid: ph.Solid) -> float:
    return float(np.ptp(_along(solid)[1]))


def test_lesser_toes_have_the_right_phalanges(foot):
    """Toes 2-4: proximal, middle and distal phalanges; the fifth toe biphalangeal (middle and
    distal fused, gallart2014fifthtoe). No other bone in the toes."""
    data, s = foot
    for k in (2, 3, 4):
        assert {f"phalanx_{k}_{p}" for p in ("proximal", "middle", "distal")} <= set(s), k
    assert "phalanx_5_middle" not in s and {"phalanx_5_proximal", "phalanx_5_distal"} <= set(s)
    toe_bones = [b.id for b in data.bones() if b.id.startswith("phalanx_")]
    assert len(toe_bones) == 2 + 3 * 3 + 2


def test_lesser_toe_phalanx_lengths(foot):
    """patil2017forefoot: the proximal phalanges the longest; the middle and distal phalanges of
    the lesser toes short (here a third to a half of the proximal) but not tiny."""
    _, s = foot
    for k in (2, 3, 4):
        prox, mid, dist = (_length(s[f"phalanx_{k}_{p}"]) for p in ("proximal", "middle", "distal"))
        assert prox > mid and prox > dist, k
        assert 0.3 * prox <= mid <= 0.6 * prox, (k, prox, mid)
        assert mid >= 6.0 and 6.0 <= dist <= 11.0, (k, mid, dist)
    assert 6.0 <= _length(s["phalanx_5_distal"]) <= 11.0


@pytest.mark.parametrize("k", [2, 3, 4, 5])
def test_short_phalanges_have_no_waist_that_reads_as_a_joint(foot, k):
    """A middle (or distal) phalanx with a deep waist between flared ends projected as two tiny
    bones on the dorsoplantar film: keep the narrowest width at least 3/4 of the widest."""
    _, s = foot
    for name in (f"phalanx_{k}_middle", f"phalanx_{k}_distal"):
        if name not in s:
            continue
        pts, t, _ = _along(s[name])
        t0, t1 = t.min(), t.max()
        widths = []
        for f in np.linspace(0.2, 0.8, 7):
            sl = pts[np.abs(t - (t0 + f * (t1 - t0))) < 0.3]
            widths.append(float(np.ptp(sl[:, 0])))
        ratio = min(widths) / max(widths)
        assert ratio >= 0.75 if name.endswith("middle") else ratio >= 0.6, (name, widths)


# ------------------------------------------- lateral ankle, blind reads of session 9 ----
# The readers saw a "club" for a calcaneus, no malleoli, an Achilles tendon ending in air and
# no Kager triangle (2026-12-01, session 9).


def _line(solid: ph.Solid, x: float, z: float, lo: float = -140.0, hi: float = 40.0) -> np.ndarray:
    """Body y (mm) of the points of ``solid`` on the vertical line (x, z), 0.1 mm apart."""
    ys = np.arange(lo, hi, 0.1)
    p = np.stack([np.full_like(ys, x), ys, np.full_like(ys, z)], 1).astype(np.float32)
    return ys[solid.sdf(p) < 0]


def _calcaneus_outline(data) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Body z (mm) of the lateral film's columns over the calcaneus, and the body y (mm) of its
    projected upper and lower outlines there."""
    view = data.views["lateral"]
    px = view.pixel_mm
    cal = ph.solid_path_mm(data, "lateral", "calcaneus") > 0.5
    x0, y0 = ph.project_point(view, (-35.0, 0.0, 0.0))
    cols = np.flatnonzero(cal.any(axis=0))
    zs, tops, bottoms = [], [], []
    for c in cols:
        rows = np.flatnonzero(cal[:, c])
        zs.append(-(c * px - x0))  # anterior to the image left: image x grows with -z
        tops.append(rows.min() * px - y0)
        bottoms.append(rows.max() * px - y0)
    return np.array(zs), np.array(tops), np.array(bottoms)


def test_calcaneus_is_a_box_with_a_bohler_angle(foot):
    """A tall tuberosity whose upper outline rises steadily to the posterior facet (the old one
    had a knob and a saddle behind the facet: a club), a Böhler angle of 20-40° (kim2014calcaneus:
    32° on average) and an anterior process about 2 cm tall at the cuboid."""
    data, _ = foot
    zs, top, bottom = _calcaneus_outline(data)
    z_post, z_ant = zs.min(), zs.max()
    assert 74 <= z_ant - z_post <= 90  # kim2014calcaneus: about 74-80 mm long
    order = np.argsort(zs)
    zs, top, bottom = zs[order], top[order], bottom[order]
    mid = (zs > z_post + 25) & (zs < z_ant - 25)
    apex = int(np.flatnonzero(mid)[np.argmin(top[mid])])
    tub = int(np.argmin(np.abs(zs - (z_post + 6))))
    ant = (zs > z_ant - 12) & (zs < z_ant - 2)
    k_ant = int(np.flatnonzero(ant)[np.argmin(top[ant])])
    # no saddle: the top rises (y falls) from the tuberosity to the facet apex
    assert np.all(np.diff(top[tub : apex + 1]) <= 0.6), top[tub : apex + 1]
    a1 = np.degrees(np.arctan2(top[tub] - top[apex], zs[apex] - zs[tub]))
    a2 = np.degrees(np.arctan2(top[k_ant] - top[apex], zs[k_ant] - zs[apex]))
    assert 20 <= a1 + a2 <= 40, (a1, a2)
    assert 38 <= bottom[apex] - top[apex] <= 50  # kim2014calcaneus: about 42 mm high
    front = int(np.argmin(np.abs(zs - (z_ant - 6))))
    assert bottom[front] - top[front] >= 20  # the anterior process to the cuboid, not a stick


def test_tibiotalar_joint_space_is_open(foot):
    """Plafond 3-5 mm above the talar dome over its whole arc (it was 1.6 mm: the readers saw no
    joint space); the posterior subtalar joint 1.2-3 mm."""
    _, s = foot
    for z in (-158.0, -152.0, -146.0, -140.0, -134.0):
        gap = _line(s["talus"], -28.0, z).min() - _line(s["tibia"], -28.0, z).max()
        assert 3.0 <= gap <= 5.0, (z, gap)
    # and the posterior subtalar joint a thin line, the talus concave over the convex facet
    for x, z in ((-36.0, -156.0), (-36.0, -150.0), (-44.0, -152.0), (-28.0, -152.0)):
        gap = _line(s["calcaneus"], x, z).min() - _line(s["talus"], x, z).max()
        assert 1.2 <= gap <= 3.0, (x, z, gap)


def test_achilles_tendon_inserts_on_the_posterior_tuberosity(foot):
    """The tendon ends on bone, on the middle of the back of the tuberosity (it stopped a few mm
    behind and above it: "ends in air"), and is a band about 6-7 mm thick above it."""
    _, s = foot
    ach, cal = s["achilles_tendon"], s["calcaneus"]
    pts = _inside(ach, 0.5)
    low = pts[pts[:, 1] > pts[:, 1].max() - 6]
    assert float(np.median(cal.sdf(low))) <= 0.5  # its end lies on (in) the bone
    top_tub = min(_line(cal, -31.0, z).min() for z in (-190.0, -186.0))
    assert pts[:, 1].max() - top_tub >= 15  # below the posterosuperior corner, not at it
    for y in (-70.0, -45.0):
        band = pts[(np.abs(pts[:, 1] - y) < 0.3) & (np.abs(pts[:, 0] + 31) < 0.3)]
        assert 5.5 <= np.ptp(band[:, 2]) + 0.5 <= 7.5, (y, np.ptp(band[:, 2]))


def _fat_gap(s: dict, y: float) -> float:
    """Front-to-back width (mm) at height y, in the midline (x -30), of the fat between the front
    of the Achilles tendon and the back of the muscles in front of it (soleus, flexor hallucis)."""
    zs = np.arange(-200.0, -150.0, 0.1)
    p = np.stack([np.full_like(zs, -30.0), np.full_like(zs, y), zs], 1).astype(np.float32)
    tendon = zs[s["achilles_tendon"].sdf(p) < 0]
    muscle = np.zeros(len(zs), bool)
    for name in ("soleus_lower", "flexor_hallucis_longus_muscle"):
        muscle |= s[name].sdf(p) < 0
    front = zs[muscle & (zs > tendon.max())]
    return float((front.min() if len(front) else zs.max()) - tendon.max())


def test_kager_fat_is_a_triangle_with_its_apex_in_the_field(foot):
    """Kager's fat pad widens downwards from an apex about 9-10 cm above the calcaneus (soleus
    behind the flexor hallucis longus close it) to a base about 2 cm deep on the calcaneus
    (theobald2006kager); the old pad was a band of even width open above the film."""
    data, s = foot
    top_of_field = data.views["lateral"].center[1] - data.views["lateral"].field_mm / 2
    assert _fat_gap(s, -112.0) <= 6.0 and top_of_field < -112.0
    assert _fat_gap(s, -80.0) < _fat_gap(s, -50.0)
    assert _fat_gap(s, -50.0) >= 15.0
    kp = _inside(s["kager_fat_pad"])
    assert kp[:, 1].min() <= -112 and kp[:, 1].max() >= -22  # from the apex down to the calcaneus
