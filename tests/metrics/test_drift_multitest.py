"""driftline_metrics._multitest (re-exported by ``drift``) against straightforward references."""

from __future__ import annotations

import numpy as np
import pytest
from driftline_metrics import drift
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from tests.metrics._drift_support import FAST


# ------------------------------------------------------------------ multiple testing
def _bh_reference(p):
    p = np.asarray(p, float)
    m = p.size
    out = np.empty(m)
    for i in range(m):
        # adj_i = min over j with p_j >= p_i of m p_j / rank_j (rank = position in sorted order)
        order = np.argsort(p, kind="mergesort")
        ranks = np.empty(m, int)
        ranks[order] = np.arange(1, m + 1)
        cands = [p[j] / (ranks[j] / m) for j in range(m) if ranks[j] >= ranks[i]]
        out[i] = min(1.0, min(cands))
    return out


@FAST
@given(p=st.lists(st.floats(0, 1), min_size=1, max_size=30), alpha=st.sampled_from([0.01, 0.05, 0.2]))
def test_multiple_testing_reference(p, alpha):
    p = np.array(p)
    m = p.size
    assert_allclose(drift.bonferroni(p), np.minimum(p * m, 1))
    bh = drift.benjamini_hochberg(p)
    assert_allclose(bh, _bh_reference(p), rtol=1e-14)
    order = np.argsort(p)
    assert np.all(np.diff(bh[order]) >= 0)  # monotone
    assert np.all(bh <= 1)
    assert np.all(bh >= p * (1 - 1e-15))
    # step-up rule, written out
    sorted_p = np.sort(p)
    ok = np.nonzero(sorted_p <= np.arange(1, m + 1) / m * alpha)[0]
    k = ok.max() + 1 if ok.size else 0
    expected = p <= (sorted_p[k - 1] if k else -1.0)
    assert_array_equal(drift.multipletests_reject(p, alpha=alpha), expected)
    assert_array_equal(drift.multipletests_reject(p, alpha=alpha, method="bonferroni"), p <= alpha / m)


def test_multiple_testing_known_values_and_errors():
    # statsmodels multipletests([0.01, 0.02, 0.03, 0.04, 0.05], method='fdr_bh')[1] == [0.05] * 5
    assert_allclose(drift.benjamini_hochberg([0.01, 0.02, 0.03, 0.04, 0.05]), [0.05] * 5)
    assert_allclose(drift.benjamini_hochberg([0.01, 0.5, 0.02]), [0.03, 0.5, 0.03])
    assert_allclose(drift.bonferroni([0.01, 0.5]), [0.02, 1.0])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        drift.benjamini_hochberg([0.1, np.nan])
    with pytest.raises(ValueError, match="method"):
        drift.multipletests_reject([0.1], method="holm")
