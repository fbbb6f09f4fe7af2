"""The engine's speed-ups give the same bits as the plain formulas they replace (issue 8, item 7)."""

from __future__ import annotations

import io
import os
import tracemalloc

import numpy as np
import pytest
from scipy import ndimage

from calcifications import anatomy as anat
from calcifications import figures as fg
from calcifications import patterns as pat
from calcifications import phantom as ph
from calcifications import radiograph as rg


def test_expanded_nonzero_equals_nonzero_of_the_fine_mask():
    rng = np.random.default_rng(7)
    for _ in range(100):
        shape = tuple(int(n) for n in rng.integers(1, 9, 3))
        active = rng.random(shape) < rng.random()
        index = [np.sort(rng.integers(0, n, int(rng.integers(1, 20)))) for n in shape]
        expected = np.nonzero(active[index[0]][:, index[1]][:, :, index[2]])
        got = ph._expanded_nonzero(active, *index)
        for e, g in zip(expected, got):
            assert g.dtype == e.dtype and np.array_equal(g, e)


def _sphere_union_plain(anatomy, spheres, blend_mm, shrink_mm=0.0):
    """The stacked formula sphere_union replaced."""
    x, y = anatomy.grid.coordinates()
    k = max(blend_mm, 1e-3)
    ds = np.stack([np.hypot(x - sx, y - sy) - (r - shrink_mm) for sx, sy, r in spheres])
    radii = np.stack([np.broadcast_to(r - shrink_mm, anatomy.grid.shape) for _, _, r in spheres])
    low = ds.min(axis=0)
    w = np.exp(-(ds - low) / k)
    d = low - k * np.log(w.sum(axis=0))
    r_eff = np.clip((w * radii).sum(axis=0) / w.sum(axis=0), 1e-3, None)
    half = np.sqrt(np.clip(-d, 0.0, None) * np.clip(2 * r_eff + d, 0.0, None))
    return 2.0 * half, d


@pytest.mark.parametrize("shrink", ["none", "scalar", "map"])
def test_sphere_union_gives_the_bits_of_the_stacked_formula(shrink):
    anatomy = anat.from_projection("site_knee", "frontal", (128, 128))
    rng = np.random.default_rng(3)
    spheres = [(float(rng.uniform(20, 120)), float(rng.uniform(20, 120)), float(rng.uniform(2, 15))) for _ in range(9)]
    amount = {"none": 0.0, "scalar": 0.7, "map": rng.uniform(0, 1, anatomy.grid.shape)}[shrink]
    (chord, dist), (chord_got, dist_got) = (
        _sphere_union_plain(anatomy, spheres, 2.0, amount),
        pat.sphere_union(anatomy, spheres, 2.0, amount),
    )
    assert np.array_equal(chord_got, chord)  # every pixel, inside the window and out
    inside = np.isfinite(dist_got)
    assert np.array_equal(dist_got[inside], dist[inside])
    assert (dist[~inside] > 0).all()  # +inf only where the outline is truly outside


def test_sphere_union_window_holds_the_whole_outline():
    """Small spheres in a corner of a large grid: the window is small, the chord is still the full formula's."""
    anatomy = anat.from_projection("site_knee", "frontal", (256, 256))
    spheres = [(30.0, 40.0, 6.0), (38.0, 44.0, 4.0), (26.0, 50.0, 3.0), (20.0, 34.0, 5.0)]
    for blend, shrink in ((1.5, 0.0), (6.0, -1.5), (3.0, 0.8)):
        (chord, dist), (chord_got, dist_got) = (
            _sphere_union_plain(anatomy, spheres, blend, shrink),
            pat.sphere_union(anatomy, spheres, blend, shrink),
        )
        assert np.array_equal(chord_got, chord)
        assert 0 < np.isfinite(dist_got).mean() < 0.5  # the window is a small part of the grid
        assert np.array_equal(dist_got[np.isfinite(dist_got)], dist[np.isfinite(dist_got)])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_checked_array_still_refuses_non_finite_values(bad):
    values = np.ones((8, 8), np.float32)
    values[3, 4] = bad
    with pytest.raises(ValueError, match="NaN or infinity"):
        rg._checked_array("map", values)


def test_checked_array_still_refuses_negative_values_when_asked():
    values = np.ones((8, 8))
    values[0, 0] = -1.0
    assert rg._checked_array("map", values) is not None
    with pytest.raises(ValueError, match="negative"):
        rg._checked_array("map", values, True)


# ------------------------------------------------ windowed lesion drawing ----
# Each lesion primitive is drawn on a window of the grid (patterns.Canvas); these tests compare the
# windowed path with the same formula evaluated over the whole grid, bit for bit.


def _full_and_windowed(draw):
    """draw(canvas or None) on the whole grid and on a small window, the window pasted into the grid."""
    anatomy = anat.from_projection("site_knee", "frontal", (192, 160))
    centre, r = (41.3, 57.9), 7.2
    canvas = pat.ring_canvas(anatomy, centre, r)
    assert canvas.shape[0] * canvas.shape[1] < 0.25 * 192 * 160  # a real window, not the grid
    full = draw(anatomy, centre, r, None, np.random.default_rng(5))
    windowed = draw(anatomy, centre, r, canvas, np.random.default_rng(5))
    return full, canvas.paste(windowed)


@pytest.mark.parametrize("seed", range(6))
def test_ring_on_its_window_equals_the_full_grid_ring(seed):
    def draw(anatomy, centre, r, canvas, _):
        return pat._ring(anatomy, np.random.default_rng(seed), centre, r, 0.3, canvas=canvas)

    full, windowed = _full_and_windowed(draw)
    assert full.any() and np.array_equal(windowed, full)


def test_blob_arc_gaps_and_shell_on_a_window_equal_the_full_grid():
    def draw(anatomy, centre, r, canvas, rng):
        profile = pat.radial_profile(rng, 0.2)
        gaps = pat._arc_gaps(anatomy, centre, rng, 0.6, 3, canvas=canvas)
        shell = pat.blob_shell(anatomy, centre, r, 0.8 * r, r, 1.0, 30.0, profile, canvas)
        return gaps * shell + pat.blob(anatomy, centre, 0.5 * r, 0.4 * r, r, 70.0, profile, canvas=canvas)

    full, windowed = _full_and_windowed(draw)
    assert full.any() and np.array_equal(windowed, full)


def test_osteochondral_body_stays_inside_its_ring_window():
    """Each body (drawn on the whole grid since its outline became irregular) is zero beyond the window
    :func:`ring_canvas` reserves for it, so it could be drawn on that window alone."""
    anatomy = anat.from_projection("site_knee", "frontal", (192, 160))
    centre, r = (60.2, 44.7), 6.0
    for seed in range(4):
        canvas, body = pat._osteochondral_body(anatomy, np.random.default_rng(seed), centre, r)
        whole = canvas.paste(body)
        window = pat.ring_canvas(anatomy, centre, r)
        outside = np.ones(anatomy.grid.shape, bool)
        outside[window.rows, window.cols] = False
        assert whole.max() > 0 and not whole[outside].any()


@pytest.mark.parametrize("sigma", [0.3, 1.0, 2.7, 6.0])
def test_gaussian_sparse_and_window_noise_equal_the_full_filter(sigma):
    rng = np.random.default_rng(11)
    values = np.zeros((150, 170))
    values[40:70, 5:30] = rng.random((30, 25))  # near the left edge: the reflection there must agree
    values[100:103, 160:170] = 2.0  # at the right edge
    assert np.array_equal(pat.gaussian_sparse(values, sigma), pat.ndimage.gaussian_filter(values, sigma))
    assert not pat.gaussian_sparse(np.zeros((20, 20)), sigma).any()
    grid = anat.Grid((150, 170), 0.5)
    canvas = pat.Canvas.around(grid, (12.0, 60.0), 9.0)
    got = canvas.smoothed_noise(np.random.default_rng(2), sigma)
    expected = pat.ndimage.gaussian_filter(np.random.default_rng(2).standard_normal(grid.shape), sigma)
    assert np.array_equal(got, canvas.crop(expected))


def test_disc_candidates_and_near_location_equal_the_full_grid_masks():
    anatomy = anat.from_projection("site_knee", "frontal", (160, 160))
    x, y = anatomy.grid.coordinates()
    mask = np.random.default_rng(1).random(anatomy.grid.shape) < 0.5
    for centre, radius in (((30.0, 40.0), 12.0), ((2.0, 3.0), 20.0), ((500.0, 500.0), 5.0)):
        expected = np.nonzero(mask & ((x - centre[0]) ** 2 + (y - centre[1]) ** 2 <= radius**2))
        got = pat.disc_candidates(mask, anatomy.grid, centre, radius)
        assert all(np.array_equal(g, e) for g, e in zip(got, expected))
    line = [(10.0, 10.0), (60.0, 45.0), (80.0, 20.0)]
    near = pat._near_location(anatomy, line, 7.5)
    expected = np.zeros(anatomy.grid.shape, bool)
    for px_, py_ in pat.resample_polyline(np.asarray(line), 2.0):
        expected |= (x - px_) ** 2 + (y - py_) ** 2 <= 7.5**2
    assert near.any() and np.array_equal(near, expected)


def test_per_anatomy_maps_are_computed_once_and_read_only():
    anatomy = anat.from_projection("site_knee", "frontal", (128, 128))
    depth = pat.body_depth(anatomy)
    assert pat.body_depth(anatomy) is depth and not depth.flags.writeable
    assert np.array_equal(depth, pat.ndimage.distance_transform_edt(anatomy.body_mask) * anatomy.grid.pixel_mm)
    assert np.array_equal(pat.deep_mask(anatomy), pat._deep_mask(anatomy, 3.0))
    with pytest.raises(ValueError):
        depth[0, 0] = 1.0


def _half_chord_mean_plain(d, r, half_px):
    """The formula _half_chord_mean evaluated over every pixel (before it skipped the far ones)."""
    r = np.clip(r, 1e-6, None)

    def primitive(t):
        t = np.clip(t, -r, r)
        return 0.5 * (t * np.sqrt(np.clip(r * r - t * t, 0.0, None)) + r * r * np.arcsin(np.clip(t / r, -1.0, 1.0)))

    finite = np.where(np.isfinite(d), d, 1e9)
    return (primitive(finite + half_px) - primitive(finite - half_px)) / (2 * half_px)


def test_half_chord_mean_over_the_band_equals_the_formula_over_every_pixel():
    rng = np.random.default_rng(4)
    d = rng.uniform(-6, 6, (60, 70))
    d[rng.random(d.shape) < 0.6] = np.inf
    r = rng.uniform(0.5, 4.0, d.shape)
    for radius in (r, 2.5):
        got = pat._half_chord_mean(d, radius, 0.3)
        assert np.array_equal(got, _half_chord_mean_plain(d, radius, 0.3))
        assert got[np.isfinite(d)].any() and not got[~np.isfinite(d)].any()


def _chalky_plain(thickness, rng, pixel_mm, grain_mm=0.8, amount=0.5):
    """chalky over every pixel (before it modulated only the lesion's window)."""
    if amount <= 0 or not thickness.any():
        return thickness
    noise = pat.ndimage.gaussian_filter(rng.standard_normal(thickness.shape), max(grain_mm / pixel_mm, 0.5))
    noise /= noise.std() or 1.0
    return thickness * np.exp(amount * noise - amount * amount / 2)


@pytest.mark.parametrize("grain, amount", [(0.8, 0.5), (3.0, 0.07), (0.2, 0.3)])
def test_chalky_on_the_lesions_window_equals_chalky_over_every_pixel(grain, amount):
    thickness = np.zeros((90, 120))
    thickness[20:50, 30:45] = np.random.default_rng(0).random((30, 15))
    thickness[60, 100] = -0.0
    got = pat.chalky(thickness, np.random.default_rng(9), 0.3, grain, amount)
    expected = _chalky_plain(thickness, np.random.default_rng(9), 0.3, grain, amount)
    assert np.array_equal(got, expected) and np.array_equal(np.signbit(got), np.signbit(expected))
    assert not np.shares_memory(got, thickness)


def _part_sdf_plain(part, p, grow, far):
    """_part_sdf's box test and box distance in the array form (before one coordinate at a time)."""
    lo, hi = part.bounds()
    inside = np.all((p >= lo - grow) & (p <= hi + grow), axis=1)
    if far is None:
        gap = np.maximum(np.maximum(lo.astype(np.float32) - p, p - hi.astype(np.float32)), 0.0)
        out = np.sqrt(np.einsum("ij,ij->i", gap, gap)).astype(np.float32)
    else:
        out = np.full(len(p), far, np.float32)
    if inside.any():
        out[inside] = part.sdf(p[inside], grow) if isinstance(part, ph.SweepPart) else part.sdf(p[inside])
    return out


@pytest.mark.parametrize("far", [None, np.float32(1e4)])
def test_part_sdf_by_coordinate_gives_the_bits_of_the_array_form(far):
    rng = np.random.default_rng(8)
    p = (rng.normal(0, 40, (20000, 3)) * rng.choice([0.01, 1.0, 3.0], (20000, 3))).astype(np.float32)
    parts = [
        ph.EllipsoidPart((3.3, -7.1, 12.7), (15.2, 9.7, 22.1), (10.0, 20.0, 5.0)),
        ph.SweepPart(((0.0, 0.0, -30.3), (5.1, 2.2, 0.0), (2.0, -3.0, 41.7)), ((6.1, 4.2), (8.3, 5.0), (4.4, 3.9))),
    ]
    for part in parts:
        for grow in (0.0, 5.7):
            expected = _part_sdf_plain(part, p, grow, far)
            assert np.array_equal(ph._part_sdf(part, p, grow, far), expected)
            assert np.array_equal(ph._part_sdf(part, p, grow, far, np.ascontiguousarray(p.T)), expected)


def _upsample_plain(coarse, coarse_box, fine_box):
    """_upsample with a new array per operation (before it interpolated in place)."""
    out = coarse
    for axis, (c_axis, f_axis) in enumerate(zip(coarse_box.axes(), fine_box.axes())):
        pos = np.clip((f_axis - c_axis[0]) / coarse_box.spacing[axis], 0, len(c_axis) - 1)
        i0 = np.clip(np.floor(pos).astype(int), 0, max(len(c_axis) - 2, 0))
        i1 = np.minimum(i0 + 1, len(c_axis) - 1)
        f = (pos - i0).astype(np.float32)
        shape = [1, 1, 1]
        shape[axis] = -1
        f = f.reshape(shape)
        out = np.take(out, i0, axis=axis) * (1 - f) + np.take(out, i1, axis=axis) * f
    return out.astype(np.float32)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_upsample_in_place_gives_the_bits_of_the_plain_formula(dtype):
    rng = np.random.default_rng(6)
    coarse_box = ph.Box((-10.0, 3.0, 0.5), (2.0, 1.6, 3.1), (9, 7, 6))
    fine_box = ph.Box((-10.7, 2.4, 0.0), (0.45, 0.5, 0.8), (40, 25, 22))
    coarse = (rng.normal(0, 5, coarse_box.shape)).astype(dtype)
    got = ph._upsample(coarse, coarse_box, fine_box)
    expected = _upsample_plain(coarse, coarse_box, fine_box)
    assert got.dtype == np.float32 and np.array_equal(got, expected)


# ------------------------------------------------------------- session 10 ----
# System time of a build (4.7-8.4 s of 12-15 s CPU for a shoulder frontal) was the kernel zeroing
# fresh transparent huge pages that NumPy asks for on every array of 4 MB or more.


def _hugepage_advice_is_on() -> bool:
    core = getattr(np, "_core", None) or getattr(np, "core", None)
    getter = getattr(getattr(core, "multiarray", None), "_get_madvise_hugepage", None)
    if getter is None:
        pytest.skip("this NumPy has no huge-page advice switch")
    return bool(getter())


@pytest.mark.skipif("NUMPY_MADVISE_HUGEPAGE" in os.environ, reason="the user chose the advice explicitly")
def test_a_build_turns_numpys_huge_page_advice_off_and_restores_it(monkeypatch):
    """Off while the anatomy is projected; afterwards as it was (importing the module, or building,
    leaves no process-wide change behind)."""
    seen = []
    monkeypatch.setattr(ph, "_project", lambda *args: seen.append(_hugepage_advice_is_on()))
    before = _hugepage_advice_is_on()
    ph.project(ph.load_site("site_elbow"), "frontal")
    assert seen == [False]
    assert _hugepage_advice_is_on() == before
    with ph.hugepage_advice_off():
        assert not _hugepage_advice_is_on()
        with ph.hugepage_advice_off():  # nested blocks restore what each found
            assert not _hugepage_advice_is_on()
        assert not _hugepage_advice_is_on()
    assert _hugepage_advice_is_on() == before


def _warped_mgrid(fields, scale_px, amplitude_px, rng):
    """The session-9 formula: full-size index grids from np.mgrid, float64 resampling cast to float32."""
    shape = fields[0].shape
    disp = []
    for _ in range(2):
        d = ndimage.gaussian_filter(rng.standard_normal(shape).astype(np.float32), scale_px, mode="wrap")
        disp.append(d * np.float32(amplitude_px / (float(d.std()) or 1.0)))
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
    coords = [rows + disp[0], cols + disp[1]]
    return tuple(ndimage.map_coordinates(f, coords, order=1, mode="nearest").astype(np.float32) for f in fields)


@pytest.mark.parametrize("shape", [(300, 200), (37, 411), (1, 64)])
def test_warped_network_gives_the_bits_of_the_mgrid_formula(shape):
    rng = np.random.default_rng(sum(shape))
    fields = tuple(rng.standard_normal(shape).astype(np.float32) for _ in range(2))
    expected = _warped_mgrid(fields, 9.0, 1.8, np.random.default_rng(4))
    got = ph._warped(fields, 9.0, 1.8, np.random.default_rng(4))
    for g, e in zip(got, expected):
        assert g.dtype == np.float32 and np.array_equal(g, e)


def test_warped_network_allocates_no_full_size_index_grids():
    """Peak traced memory of the warp of two float32 fields, in field sizes: the noise (float64, 2)
    and its float32 copy and filtered field (2), the sample positions (2): 6; with np.mgrid's int64
    and float32 grids and float64 resampling it was 11."""
    fields = tuple(np.random.default_rng(k).standard_normal((400, 300)).astype(np.float32) for k in range(2))
    tracemalloc.start()
    try:
        ph._warped(fields, 9.0, 1.8, np.random.default_rng(0))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * fields[0].nbytes


def test_figure_groups_keep_each_site_view_in_one_group():
    specs = fg.load_specs()
    groups = fg.figure_groups(specs)
    by_id = {s.id: s for s in specs}
    assert sorted(i for g in groups for i in g) == sorted(by_id)
    views = [{(by_id[i].site, by_id[i].projection) for i in g} for g in groups]
    assert all(len(v) == 1 for v in views)
    assert len({next(iter(v)) for v in views}) == len(groups)  # one group per site and view
    assert [len(g) for g in groups] == sorted((len(g) for g in groups), reverse=True)


def test_parallel_regeneration_writes_the_bytes_of_the_serial_one(tmp_path):
    ids = ["fig01", "primary_hyperparathyroidism_calcification"]  # two site/views (forearm, elbow)
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    fg.write_figures(serial, ids, stream=io.StringIO(), jobs=1)
    log = io.StringIO()
    paths = fg.write_figures(parallel, ids, stream=log, jobs=2)
    assert [p.name for p in paths] == [p.name for p in sorted(serial.iterdir(), key=lambda p: ids.index(p.stem))]
    for fid in ids:
        assert fg.figure_path(parallel, fid).read_bytes() == fg.figure_path(serial, fid).read_bytes()
    assert log.getvalue().count("\n") == len(ids)
    with pytest.raises(ValueError, match="jobs"):
        fg.write_figures(tmp_path, ids, jobs=0)


def test_spawned_workers_write_the_same_bytes(tmp_path, monkeypatch):
    """Where the platform cannot fork (macOS, Windows), the workers are spawned: same files."""
    assert fg.worker_start_method() in ("fork", "spawn")
    ids = ["fig01", "primary_hyperparathyroidism_calcification"]
    fg.write_figures(tmp_path / "serial", ids, stream=io.StringIO(), jobs=1)
    monkeypatch.setattr(fg, "worker_start_method", lambda: "spawn")
    fg.write_figures(tmp_path / "spawned", ids, stream=io.StringIO(), jobs=2)
    for fid in ids:
        assert (
            fg.figure_path(tmp_path / "spawned", fid).read_bytes()
            == fg.figure_path(tmp_path / "serial", fid).read_bytes()
        )


@pytest.mark.parametrize("bone_id", ["patella", "fibula"])
def test_dense_bone_fields_in_slabs_give_the_bits_of_one_slab(monkeypatch, bone_id):
    """The dense path works in slabs along u (bounded memory); each voxel is computed alone and the
    projection sums along w, so small slabs give the maps of one whole-box slab bit for bit."""
    site = ph.load_site("site_knee")
    view = ph.get_view(site, "lateral")
    posed = ph.posed(site, view)
    bone = next(b for b in posed.bones() if b.id == bone_id)
    dense_calls = []
    original = ph._bone_fields_dense
    monkeypatch.setattr(ph, "_bone_fields_dense", lambda *a, **k: dense_calls.append(1) or original(*a, **k))

    def maps(slab: int) -> list[np.ndarray]:
        monkeypatch.setattr(ph, "DENSE_SLAB_VOXELS", slab)
        m = ph.rasterise_bone(bone, view, ph.bone_eval_mm(bone, posed.eval_mm, view.pixel_mm), posed.bone_voxel_mm, "t")
        return [m.cortex, m.medulla, m.trabecular]

    whole, slabs = maps(10**12), maps(20_000)
    assert len(dense_calls) == 2  # the bone takes the dense path
    assert whole[0].any() and all(np.array_equal(a, b) for a, b in zip(whole, slabs))


@pytest.mark.parametrize(
    "small_shape, shape", [((9, 7, 12), (61, 40, 97)), ((4, 5), (33, 18)), ((6, 1, 5), (20, 1, 9))]
)
def test_linear_resize_matches_a_first_order_zoom(small_shape, shape):
    """The separable float32 resize of the smooth random fields is ndimage.zoom(order=1), corner to corner."""
    small = np.random.default_rng(3).standard_normal(small_shape).astype(np.float32)
    expected = ndimage.zoom(small, [n / c for n, c in zip(shape, small_shape)], order=1)
    got = ph._linear_resize(small, shape)
    assert got.shape == expected.shape == shape
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, atol=1e-5)
