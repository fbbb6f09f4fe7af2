"""Session 12 (knee12): the patella on the knee AP, measured as projected mineral (mm), not display grey."""

import numpy as np
import pytest

from test_phantom import _bone_maps  # tests/ is on sys.path under pytest


@pytest.fixture(scope="module")
def ap_patella() -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    """Patella mask, patella and femur mineral (mm of bone along the AP beam), pixel size and x of column 0."""
    maps, view = _bone_maps("site_knee", "frontal", ("femur", "patella"))
    pat, fem = maps["patella"], maps["femur"]
    mask = (pat.cortex + pat.medulla) > 0.5
    x0 = view.center[0] - 256 * view.pixel_mm
    return mask, pat.cortex + pat.trabecular, fem.cortex + fem.trabecular, view.pixel_mm, x0


def test_patella_is_not_a_dense_shield_over_the_femur_on_the_ap(ap_patella):
    """Readers saw 'a bright shield': the patella's own mineral along the AP beam (95th percentile over
    its outline) must stay well under the femur's behind it (6.7 mm over 10.2 mm with the session-11
    plates and 0.2 medulla; now about 5.8)."""
    mask, pat, fem, _, _ = ap_patella
    p95 = float(np.percentile(pat[mask], 95))
    assert p95 <= 6.2, p95
    assert p95 <= 0.6 * float(fem[mask].mean()), (p95, float(fem[mask].mean()))


def test_patella_lies_slightly_lateral_on_the_ap(ap_patella):
    """On most AP films the patella sits slightly lateral to the midline (x < 0 on this right knee):
    its centroid 2-6 mm lateral (it was 1.2 mm)."""
    mask, _, _, pixel_mm, x0 = ap_patella
    x = float(np.nonzero(mask)[1].mean()) * pixel_mm + x0
    assert -6.0 <= x <= -2.5, x
