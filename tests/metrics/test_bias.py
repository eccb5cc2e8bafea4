"""driftline_metrics.bias against Clarify's formulas written out here, on hand examples and random data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from driftline_metrics import bias
from driftline_metrics.exceptions import UndefinedMetricWarning
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

FAST = settings(max_examples=30, deadline=None)


def _clarify_reference(y, facet_d, yhat=None, pos=1):
    """Straight-line transcription of the Clarify definitions (loops, no shared code)."""
    y, facet_d = list(y), list(facet_d)
    a = [i for i in range(len(y)) if not facet_d[i]]
    d = [i for i in range(len(y)) if facet_d[i]]
    n_a, n_d = len(a), len(d)
    out = {"CI": (n_a - n_d) / (n_a + n_d)}
    q_a = sum(y[i] == pos for i in a) / n_a
    q_d = sum(y[i] == pos for i in d) / n_d
    out["DPL"] = q_a - q_d
    values = sorted(set(y))
    pa_full = {v: sum(y[i] == v for i in a) / n_a for v in values}
    pd_full = {v: sum(y[i] == v for i in d) / n_d for v in values}
    common = [v for v in values if pa_full[v] > 0 and pd_full[v] > 0]
    pa = [pa_full[v] for v in common]
    pd = [pd_full[v] for v in common]
    out["KL"] = sum(x * math.log(x / z) for x, z in zip(pa, pd, strict=True))
    m = [(x + z) / 2 for x, z in zip(pa, pd, strict=True)]
    out["JS"] = 0.5 * (
        sum(x * math.log(x / w) for x, w in zip(pa, m, strict=True))
        + sum(z * math.log(z / w) for z, w in zip(pd, m, strict=True))
    )
    out["LP"] = math.sqrt(sum((x - z) ** 2 for x, z in zip(pa, pd, strict=True)))
    out["TVD"] = 0.5 * sum(abs(x - z) for x, z in zip(pa, pd, strict=True))
    out["KS"] = max(abs(x - z) for x, z in zip(pa, pd, strict=True))
    if yhat is not None:
        yhat = list(yhat)
        qp_a = sum(yhat[i] == pos for i in a) / n_a
        qp_d = sum(yhat[i] == pos for i in d) / n_d
        out["DPPL"] = qp_a - qp_d
        out["DI"] = qp_d / qp_a if qp_a else (0.0 if qp_d == 0 else math.inf)
        acc_a = sum((y[i] == pos) == (yhat[i] == pos) for i in a) / n_a
        acc_d = sum((y[i] == pos) == (yhat[i] == pos) for i in d) / n_d
        out["AD"] = acc_a - acc_d

        def rec(group):
            p = [i for i in group if y[i] == pos]
            return sum(yhat[i] == pos for i in p) / len(p) if p else 0.0

        out["RD"] = rec(a) - rec(d)
    return out


def test_hand_computed_example():
    # advantaged: labels 1,1,0 (q_a = 2/3); disadvantaged: 1,0,0 (q_d = 1/3)
    y = [1, 1, 0, 1, 0, 0]
    sex = ["m", "m", "m", "f", "f", "f"]
    yhat = [1, 0, 0, 1, 1, 0]
    r = bias.report(y, sex, facet_value="f", y_pred=yhat)
    assert r["CI"] == 0.0
    assert r["DPL"] == pytest.approx(1 / 3)
    assert r["KL"] == pytest.approx(2 / 3 * math.log(2) + 1 / 3 * math.log(0.5))  # Pa=(1/3,2/3), Pd=(2/3,1/3)
    assert r["TVD"] == pytest.approx(1 / 3)
    assert r["KS"] == pytest.approx(1 / 3)
    assert r["LP"] == pytest.approx(math.sqrt(2) / 3)
    assert r["DPPL"] == pytest.approx(1 / 3 - 2 / 3)
    assert r["DI"] == pytest.approx((2 / 3) / (1 / 3))
    # accuracy: a -> [1==1, 1!=0, 0==0] = 2/3 ; d -> [1==1, 0!=1, 0==0] = 2/3
    assert r["AD"] == pytest.approx(0.0)
    # recall: a -> 1 of 2 positives ; d -> 1 of 1
    assert r["RD"] == pytest.approx(0.5 - 1.0)
    assert bias.class_imbalance(["m", "m", "m", "f"], facet_value="f") == 0.5


@FAST
@given(
    n=st.integers(4, 80),
    seed=st.integers(0, 2**31 - 1),
    n_classes=st.integers(2, 4),
)
def test_random_data_matches_reference(n, seed, n_classes):
    rng = np.random.default_rng(seed)
    facet = rng.random(n) < 0.4
    facet[0], facet[1] = True, False
    y = rng.integers(0, n_classes, n)
    y[0] = y[1] = 1  # a common label value exists
    yhat = rng.integers(0, n_classes, n)
    yhat[1] = 1
    ours = bias.report(y, facet, y_pred=yhat, positive_label=1)
    ref = _clarify_reference(y, facet, yhat, pos=1)
    assert ours.keys() == ref.keys()
    for k in ref:
        assert_allclose(ours[k], ref[k], rtol=1e-12, atol=1e-14, err_msg=k)


def test_facet_by_value_equals_mask_and_lists():
    rng = np.random.default_rng(0)
    race = rng.choice(["a", "b", "c"], 200)
    y = rng.choice(["yes", "no"], 200)
    by_value = bias.report(y, race, facet_value=["b", "c"], positive_label="yes")
    by_mask = bias.report(y, np.isin(race, ["b", "c"]), positive_label="yes")
    assert by_value == by_mask
    assert bias.lp_norm(y, race, facet_value="b", p=1) == pytest.approx(
        2 * bias.total_variation_distance(y, race, facet_value="b")
    )


def test_empty_facet_raises_clear_error():
    with pytest.raises(ValueError, match="Facet set is empty"):
        bias.class_imbalance([0, 0, 1], facet_value=7)
    with pytest.raises(ValueError, match="Negated facet set is empty"):
        bias.difference_in_proportions_of_labels([1, 0], [True, True])
    with pytest.raises(ValueError, match="boolean mask"):
        bias.class_imbalance([0, 1, 2])
    with pytest.raises(ValueError, match="No label value occurs in both"):
        bias.kl_divergence([1, 1, 0, 0], [True, True, False, False])
    with pytest.raises(ValueError, match="rows"):
        bias.disparate_impact([1, 0, 1], [True, False])


def test_zero_denominators_follow_clarify_with_warning():
    facet = np.array([False, False, True, True])
    with pytest.warns(UndefinedMetricWarning):
        assert bias.disparate_impact([0, 0, 1, 0], facet) == math.inf
    with pytest.warns(UndefinedMetricWarning):
        assert bias.disparate_impact([0, 0, 0, 0], facet) == 0.0
    # no positive label among the advantaged: recall_a = 0/0 = 0
    with pytest.warns(UndefinedMetricWarning):
        assert bias.recall_difference([0, 0, 1, 1], [0, 1, 1, 0], facet) == pytest.approx(0.0 - 0.5)
