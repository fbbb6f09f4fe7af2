"""Deposits are projections of 3-D mineral density fields (not flat stamps); follow-up films are distinct films."""

import numpy as np
import pytest
from scipy import ndimage

from calcifications import anatomy as an
from calcifications import figures as fg
from calcifications import patterns as pt


def _ellipsoid_chord(shape=(90, 120), px=0.3, a=12.0, b=8.0, c=6.0):
    y, x = (np.indices(shape) + 0.5) * px
    cx, cy = shape[1] * px / 2, shape[0] * px / 2
    rho2 = ((x - cx) / a) ** 2 + ((y - cy) / b) ** 2
    return 2 * c * np.sqrt(np.clip(1 - rho2, 0, None)), rho2


def test_projected_density_without_texture_is_the_chord():
    chord, _ = _ellipsoid_chord()
    out = pt.projected_density(chord, np.random.default_rng(0), 0.3, 0.6, 0.0)
    assert np.allclose(out, chord, atol=1e-9)


def test_projected_density_averages_along_the_beam_thick_parts_smoother_than_thin_edges():
    chord, rho2 = _ellipsoid_chord()
    out = pt.projected_density(chord, np.random.default_rng(1), 0.3, 0.6, 0.6)
    ratio = out / np.maximum(chord, 1e-9)
    thick, thin = rho2 < 0.3, (rho2 > 0.85) & (rho2 < 0.97)
    assert 0.85 < ratio[thick].mean() < 1.15  # mean density 1: the same mineral on average
    assert ratio[thin].std() > 1.5 * ratio[thick].std()  # few grains along a thin path: mottled
    assert np.all(out[chord == 0] == 0)


def test_projected_density_core_and_fade_shape_the_profile():
    chord, rho2 = _ellipsoid_chord()
    centre, edge = rho2 < 0.05, (rho2 > 0.8) & (rho2 < 0.95)
    cored = pt.projected_density(chord, np.random.default_rng(2), 0.3, 0.6, 0.0, core=1.0) / np.maximum(chord, 1e-9)
    faded = pt.projected_density(chord, np.random.default_rng(2), 0.3, 0.6, 0.0, fade=0.9) / np.maximum(chord, 1e-9)
    assert cored[centre].mean() > 1.3 * cored[edge].mean()  # denser core
    assert faded[edge].mean() < 0.6 * faded[centre].mean()  # margin fading out (amorphous)


@pytest.mark.parametrize("kwargs", [{"contrast": -1}, {"contrast": "x"}, {"fade": 2.0}, {"grain_mm": 0}])
def test_projected_density_rejects_bad_parameters(kwargs):
    chord, _ = _ellipsoid_chord()
    args = {"grain_mm": 0.6, "contrast": 0.3, **kwargs}
    with pytest.raises(ValueError):
        pt.projected_density(chord, np.random.default_rng(0), 0.3, **args)


@pytest.mark.parametrize("seed", [0, 7])
def test_formative_deposit_is_granular_inside_not_a_flat_stamp(seed):
    # blind readers: deposits looked pasted (flat interiors). Old fine-scale contrast 0.05–0.07.
    anatomy = an.build("site_shoulder", "frontal", (384, 384))
    px = anatomy.grid.pixel_mm
    lesion = pt.generate(
        "amorphous_cloud", anatomy, np.random.default_rng(seed), phase="formative", count=1, size_mm=16
    )
    th = lesion[0].thickness_mm
    core = ndimage.binary_erosion(th > 0.05 * th.max(), iterations=max(1, int(1.5 / px)))
    assert core.sum() > 50
    band = th - ndimage.gaussian_filter(th, 1.0 / px)
    assert band[core].std() / th[core].mean() > 0.078


def _film(figure_id):
    spec = fg.get_spec(figure_id)
    return spec.seed, None if spec.zoom is None else spec.zoom.center


@pytest.mark.parametrize(
    "group",
    [
        ("mo_week_2", "mo_week_4", "mo_week_7", "mo_week_12"),
        ("fig09", "ha_resorptive", "quiz_periarticular_q1", "calcific_bursitis"),
    ],
)
def test_figures_of_one_region_are_each_their_own_film(group):
    # blind readers: the myositis ossificans stages reused one base image (one seed and framing), and
    # three shoulder figures were all framed on the supraspinatus tendon landmark
    films = [_film(f) for f in group]
    seeds = [seed for seed, _ in films]
    centres = [str(centre) for _, centre in films]
    assert len(set(seeds)) == len(group)
    assert len(set(centres)) == len(group)  # each framed on its own centre, not one landmark for all


def test_particle_texture_is_random_grain_not_a_periodic_screen():
    # the old texture (two crossed cosine waves) repeated itself every 0.8–2.5 mm: a printed screen
    anatomy = an.build("site_shoulder", "frontal", (384, 384))
    px = anatomy.grid.pixel_mm
    centre = (anatomy.grid.size_mm[0] / 2, anatomy.grid.size_mm[1] / 2)
    worst = []
    for seed in range(6):
        field = pt.particle_texture(anatomy, np.random.default_rng(seed), centre, 10.0, 0.3) - 1.0
        rows, cols = np.nonzero(field)
        f = field[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
        f = f - f.mean()
        spectrum = np.abs(np.fft.fft2(f, s=(2 * f.shape[0], 2 * f.shape[1]))) ** 2
        ac = np.real(np.fft.ifft2(spectrum))
        ac /= ac[0, 0]
        lag_r = np.minimum(np.arange(ac.shape[0]), ac.shape[0] - np.arange(ac.shape[0]))[:, None] * px
        lag_c = np.minimum(np.arange(ac.shape[1]), ac.shape[1] - np.arange(ac.shape[1]))[None, :] * px
        lag = np.hypot(lag_r, lag_c)
        worst.append(float(np.abs(ac[(lag > 2.5) & (lag < 5.0)]).max()))
        assert np.all(field >= -0.8 - 1e-12)  # a multiplicative field: never negative density
    assert max(worst) < 0.5
