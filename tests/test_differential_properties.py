"""Property tests of calcifications.differential (hypothesis; 12,000 generated cases in all)."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calcifications.differential import UnknownFindingError, knowledge_base, rank
from calcifications.vocabulary import vocabulary

VOCAB = vocabulary()
FINDINGS = sorted(VOCAB.findings)
DIAGNOSES = sorted(VOCAB.diagnoses)
CA, P = 4.008, 3.097  # mg/dL per mmol/L


def fast(n: int):
    """Settings for a deterministic property run of ``n`` examples."""
    return settings(max_examples=n, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


findings_st = st.lists(st.sampled_from(FINDINGS), max_size=20)
labs_mg_st = st.fixed_dictionaries(
    {},
    optional={
        "calcium_mg_dl": st.floats(2.0, 25.0),
        "phosphate_mg_dl": st.floats(0.3, 25.0),
        "uric_acid_mg_dl": st.floats(0.5, 30.0),
        "pth_pg_ml": st.floats(1.0, 5000.0),
    },
)
labs_any_st = st.fixed_dictionaries(
    {},
    optional={
        "calcium_mg_dl": st.floats(2.0, 25.0),
        "phosphate_mmol_l": st.floats(0.3 / P, 25.0 / P).filter(lambda v: 0.3 <= v * P <= 25.0),
        "uric_acid_mg_dl": st.floats(0.5, 30.0),
        "pth_pg_ml": st.floats(1.0, 5000.0),
    },
)


def _check(candidates) -> None:
    assert [c.diagnosis for c in candidates] != [] and sorted(c.diagnosis for c in candidates) == DIAGNOSES
    probabilities = [c.probability for c in candidates]
    assert all(math.isfinite(p) and 0.0 <= p <= 1.0 for p in probabilities)
    assert abs(math.fsum(probabilities) - 1.0) <= 1e-9
    keys = [(-c.probability, c.diagnosis) for c in candidates]
    assert keys == sorted(keys)


@fast(3000)
@given(findings_st, st.one_of(st.none(), labs_any_st))
def test_any_valid_case_gives_a_valid_ranking(findings, labs):
    _check(rank(findings, labs))


@fast(2000)
@given(findings_st, st.randoms(use_true_random=False), st.integers(1, 3))
def test_order_and_repetition_never_matter(findings, rnd, times):
    shuffled = findings * times
    rnd.shuffle(shuffled)
    assert rank(shuffled) == rank(findings)


@fast(1500)
@given(findings_st, st.one_of(st.none(), labs_mg_st))
def test_evidence_weights_reproduce_the_posterior(findings, labs):
    candidates = rank(findings, labs)
    priors = {d.id: d.prior for d in knowledge_base().diagnoses}
    scores = {c.diagnosis: math.log(priors[c.diagnosis]) + sum(e.weight for e in c.evidence) for c in candidates}
    top = max(scores.values())
    total = math.fsum(math.exp(s - top) for s in scores.values())
    for c in candidates:
        assert c.probability == pytest.approx(math.exp(scores[c.diagnosis] - top) / total, abs=1e-9)
        weights = [abs(e.weight) for e in c.evidence]
        assert weights == sorted(weights, reverse=True)


UNGROUPED = sorted(set(FINDINGS) - set(knowledge_base().group_of))


@fast(2000)
@given(st.lists(st.sampled_from(UNGROUPED), max_size=10, unique=True), st.sampled_from(UNGROUPED))
def test_a_new_finding_multiplies_the_odds_by_its_likelihood_ratio(findings, extra):
    if extra in findings:
        findings = [f for f in findings if f != extra]
    before = {c.diagnosis: c.probability for c in rank(findings)}
    after = {c.diagnosis: c.probability for c in rank(findings + [extra])}
    term = knowledge_base().findings[extra]
    ids = list(VOCAB.diagnoses)
    checked = 0
    for (i, a), (j, b) in itertools.combinations(enumerate(ids), 2):  # every pair of diagnoses
        if min(before[a], before[b], after[a], after[b]) < 1e-250:
            continue
        observed = math.log(after[a] / after[b]) - math.log(before[a] / before[b])
        assert observed == pytest.approx(term.log_p[i] - term.log_p[j], abs=1e-7), (a, b)
        checked += 1
    assert checked > 0


@fast(1500)
@given(
    findings_st,
    st.floats(2.01, 24.99),  # inside the plausible ranges, away from round-off at their ends
    st.floats(0.31, 24.99),
)
def test_units_do_not_change_the_answer(findings, calcium, phosphate):
    mg = rank(findings, {"calcium_mg_dl": calcium, "phosphate_mg_dl": phosphate})
    mmol = rank(findings, {"calcium_mmol_l": calcium / CA, "phosphate_mmol_l": phosphate / P})
    product = calcium * phosphate
    if min(abs(product - 60), abs(product - 70), abs(calcium - 10.5), abs(phosphate - 4.5)) < 1e-6:
        return  # a conversion round-off may cross a band edge
    for x, y in zip(mg, mmol):
        assert x.probability == pytest.approx(y.probability, abs=1e-9)


bad_value = st.one_of(
    st.floats(max_value=0.0, allow_nan=False),
    st.just(float("nan")),
    st.just(float("inf")),
    st.just(float("-inf")),
    st.floats(min_value=6000.0, allow_infinity=False),
    st.text(max_size=5),
    st.booleans(),
    st.none(),
)


@fast(1000)
@given(st.sampled_from(sorted(VOCAB.labs)), bad_value, findings_st)
def test_bad_lab_values_always_raise(key, value, findings):
    with pytest.raises(ValueError):
        rank(findings, {key: value})


@fast(1000)
@given(st.text(min_size=1, max_size=30).filter(lambda s: s not in VOCAB.findings), findings_st)
def test_unknown_ids_always_raise_and_are_named(bad, findings):
    with pytest.raises(UnknownFindingError) as info:
        rank(findings + [bad])
    assert repr(bad) in str(info.value)
