"""The chest wall behind the shoulder (site_shoulder): ribs drawn as curved tubes of varying width
whose posterior and anterior arcs cross on the AP, and lung vessels that do not radiate from a
point in the field. Mostly measured on the projected centrelines and sections; the session-8 tests
project one rib alone or the whole frontal view (cached on disk)."""

import dataclasses

import numpy as np
import pytest
from scipy import ndimage

from calcifications import phantom as ph
from calcifications import radiograph as rg


def _site():
    return ph.load_site("site_shoulder")


def _ribs():
    return [b for b in _site().bones() if b.id.startswith("rib_")]


def _centreline(rib):
    """Projected (AP: x, y) centreline samples (mm) and the section semi-axes of the rib's main part."""
    pts, _, _, _, radii = rib.parts[0].samples()
    return np.asarray(pts, float), np.asarray(radii, float)


def _sagitta(xy: np.ndarray) -> float:
    """Largest distance (mm) of the points from the chord joining the first and last."""
    a, b = xy[0], xy[-1]
    d = (b - a) / np.linalg.norm(b - a)
    rel = xy - a
    return float(np.max(np.abs(rel[:, 0] * d[1] - rel[:, 1] * d[0])))


def test_ribs_are_curved_not_straight_bands():
    """The posterior arc (spine to the lateral chest wall) bows on the AP (a flat straight band has
    sagitta 0) and descends laterally; the upper ribs arch more than the middle ones."""
    sag = {}
    for rib in _ribs():
        pts, _ = _centreline(rib)
        lateral = int(np.argmin(pts[:, 0]))
        post = pts[: lateral + 1, :2]
        sag[rib.id] = _sagitta(post)
        assert sag[rib.id] > 4.0, (rib.id, sag[rib.id])
        assert post[-1, 1] - post[0, 1] > 20, rib.id  # lower at the axilla than at the spine
        # the slope steepens laterally: convex upwards
        mid = len(post) // 2
        s1 = (post[mid, 1] - post[0, 1]) / max(post[0, 0] - post[mid, 0], 1e-6)
        s2 = (post[-1, 1] - post[mid, 1]) / max(post[mid, 0] - post[-1, 0], 1e-6)
        assert s2 > s1, rib.id
    slope = {}
    for rib in _ribs():
        p = rib.parts[0].path
        slope[rib.id] = (p[3][1] - p[1][1]) / (p[1][0] - p[3][0])
    assert slope["rib_2"] > slope["rib_6"] * 1.1, slope  # the upper ribs arch more


def test_rib_width_varies_along_the_rib_and_between_ribs():
    """Height (the width seen on the AP) varies along a rib by more than 20 % and the ribs are not
    all the same (old template: one width, nine copies); the anterior arc thinner than the posterior."""
    profiles = []
    for rib in _ribs():
        _, radii = _centreline(rib)
        h, t = 2 * radii[:, 0], 2 * radii[:, 1]
        assert h.max() > 1.2 * h.min(), (rib.id, h.min(), h.max())
        n = len(t)
        if rib.id != "rib_1":  # the first rib is short, broad and flat throughout
            assert t[int(0.8 * n)] < 0.75 * t[int(0.15 * n)], rib.id  # anterior flatter than posterior
        profiles.append(h.max())
    assert np.ptp(profiles) > 1.0, profiles
    # one swept plate per rib: the separate superior and inferior border sweeps (session 7) quadrupled the
    # shoulder's build time (12 -> 48 s CPU) and read as doubled "glass ribbon" edges to blind readers
    for rib in _ribs():
        assert len(rib.parts) == 1, rib.id


def test_posterior_and_anterior_ribs_cross_on_the_ap():
    """The anterior arc of an upper rib crosses the posterior arcs of lower ribs on the AP (the
    lattice of a real chest film), and the rib spacing widens downwards."""

    def segments(xy):
        return [(xy[i], xy[i + 1]) for i in range(len(xy) - 1)]

    def crosses(p, q):
        (a, b), (c, d) = p, q

        def side(u, v, w):
            return np.sign((v[0] - u[0]) * (w[1] - u[1]) - (v[1] - u[1]) * (w[0] - u[0]))

        return side(a, b, c) != side(a, b, d) and side(c, d, a) != side(c, d, b)

    arcs = {}
    for rib in _ribs():
        pts, _ = _centreline(rib)
        lateral = int(np.argmin(pts[:, 0]))
        arcs[rib.id] = (pts[: lateral + 1 : 4, :2], pts[lateral::4, :2])
    count = 0
    for a_id, (_, anterior) in arcs.items():
        for p_id, (posterior, _) in arcs.items():
            if p_id == a_id:
                continue
            if any(crosses(s, t) for s in segments(anterior) for t in segments(posterior)):
                count += 1
    assert count >= 8, count
    heads = np.array([r.parts[0].path[0][1] for r in _ribs()])
    gaps = np.diff(heads)
    assert gaps[-1] > gaps[0] + 3, gaps  # spacing increases downwards


def test_lung_vessels_do_not_radiate_from_a_point_in_the_field():
    """The hilum lies medial to the AP field (the shoulder film shows the lateral lung), so the
    markings enter from the medial edge and branch outwards, not a starburst inside the image."""
    site = _site()
    view = ph.get_view(site, "frontal")
    hx, hy = ph.project_point(view, site.lungs.hilum)
    assert hx > view.field_mm or hx < 0 or hy < 0 or hy > view.field_mm, (hx, hy)
    assert site.lungs.vessel_trunk_radius_mm <= 3.0


# ------------------------------------------------- session 8: what the film shows ----
# Blind readers (session 7) still saw "flat, wide, equal-width planks stacked like venetian blinds,
# with an internal striped texture, no lung markings". Measured then: a posterior rib's projected
# mineral was as dense in its centre as at its margins (edge/centre 0.93-1.04: a solid slab, its
# 4.4-4.8 mm thickness too small for the tangential cortex to show), posterior and anterior arcs
# nearly the same height (13 vs 10 mm), only 5 % of the lung field crossed by a vessel over 1 mm,
# and the vertical chest-wall muscle's fibre streaks running across the lung fields.


def _rib_column(site, rib_id: str, x_body: float) -> np.ndarray:
    """Projected mineral path (mm) of one rib alone down the AP image column at body x (mm)."""
    view = ph.get_view(site, "frontal")
    bone = next(b for b in site.bones() if b.id == rib_id)
    maps = ph.rasterise_bone(
        bone, view, ph.bone_eval_mm(bone, site.eval_mm, view.pixel_mm), site.bone_voxel_mm, site.site
    )
    c = int(round(ph.project_point(view, (x_body, 0.0, 0.0))[0] / view.pixel_mm - 0.5))
    return (maps.cortex + maps.trabecular)[:, c - 1 : c + 2].mean(axis=1)


@pytest.mark.parametrize("rib_id", ["rib_3", "rib_5", "rib_7"])
def test_posterior_rib_projects_as_a_tube_not_a_slab(rib_id):
    """Across its width the posterior rib (beam through its flat face, 3 cm lateral to the field's
    medial edge) is denser at its margins, where the beam runs along the cortex, than in its centre,
    where it crosses two thin cortices and a sparse medulla; and it is 10-12.5 mm tall."""
    site = _site()
    col = _rib_column(site, rib_id, 120.0)
    rows = np.nonzero(col > 0.3)[0]
    runs = np.split(rows, np.nonzero(np.diff(rows) > 2)[0] + 1)
    prof = col[runs[0][0] : runs[0][-1] + 1]  # the posterior arc (the uppermost crossing)
    n = len(prof)
    # session 12: the margins are the outer thirds (were quarters): the subcostal groove puts the
    # lower border's dense line (the groove's upper wall) 1-2 mm inside the thin, sharp lower lip,
    # measured at 6-8 of 22-24 pixels from the lower edge (x = 120 mm, ribs 3, 5, 7)
    q = max(1, n // 3)
    edge = max(prof[:q].max(), prof[-q:].max())
    centre = prof[n // 2 - n // 6 : n // 2 + n // 6 + 1].mean()
    assert edge > 1.1 * centre, (rib_id, edge, centre)  # session 7: 0.93-1.04
    height = n * ph.get_view(site, "frontal").pixel_mm
    assert 9.5 <= height <= 12.5, (rib_id, height)


def test_anterior_arcs_are_narrower_than_posterior():
    """Posterior ribs are about 10-12 mm tall on the AP, the anterior arcs near the costochondral
    junction clearly narrower (a third less: session 7 had 13 vs 10 mm)."""
    for rib in _ribs():
        if rib.id == "rib_1":
            continue
        _, radii = _centreline(rib)
        h = 2 * radii[:, 0]
        n = len(h)
        posterior, anterior = h[: n // 3].max(), h[int(0.75 * n) : int(0.95 * n)].min()
        assert 10.0 <= posterior <= 12.5, (rib.id, posterior)
        assert posterior > 1.35 * anterior, (rib.id, posterior, anterior)


@pytest.fixture(scope="module")
def frontal():
    site = _site()
    return ph.project(site, "frontal")


def _lung_field(th) -> np.ndarray:
    region = (th["lung"] > 60) & (th["cortical_bone"] < 0.05)
    return ndimage.binary_erosion(region, iterations=3)


def test_lung_field_has_vessel_markings_fainter_than_the_ribs(frontal):
    """The lung field carries branching vessels (blood replacing aerated lung) over a good part of
    it, and their contrast (line integral at the display energy, fine detail) stays well below the
    ribs' over the same lung."""
    th = dict(frontal.thickness_mm)
    field = _lung_field(th)
    assert field.sum() > 5000
    blood = th["blood"][field]
    assert (blood > 1.0).mean() > 0.1, (blood > 1.0).mean()
    assert blood.std() > 0.9, blood.std()
    line = rg.line_integral(rg.make_scene(th, frontal.pixel_mm))
    detail = line - ndimage.gaussian_filter(line, 8.0)
    markings = detail[field].std()
    ribs = (th["lung"] > 60) & (th["cortical_bone"] > 1.5)
    rib_excess = np.median(line[ribs]) - np.median(line[field])
    assert 0.01 < markings < 0.5 * rib_excess, (markings, rib_excess)


def test_no_fibre_streaks_across_the_lung_field(frontal):
    """The chest wall's muscle streaks (its swept centreline runs vertically) do not stripe the lung
    field: the fat path varies little from column to column there (session 7: 0.43 mm)."""
    th = dict(frontal.thickness_mm)
    field = _lung_field(th)
    fat = th["adipose"].astype(float)
    across = fat - ndimage.uniform_filter1d(fat, 9, axis=1)
    assert across[field].std() < 0.25, across[field].std()


def test_vessel_tree_settings_are_one_dataclass():
    """The lungs: section parses into one frozen VesselTree passed to the vessel functions."""
    site = _site()
    tree = site.lungs.tree
    assert isinstance(tree, ph.VesselTree) and tree.trees == site.lungs.vessel_trees >= 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        tree.trees = 1  # type: ignore[misc]
    text = ph.site_files("site_shoulder")[0].read_text(encoding="utf-8")
    for bad in ("0", "9", "2.5", "abc"):
        with pytest.raises(ValueError, match="lungs.vessel_trees"):
            ph.parse_site(
                [text.replace(f"  vessel_trees: {site.lungs.vessel_trees}\n", f"  vessel_trees: {bad}\n")], where="test"
            )
