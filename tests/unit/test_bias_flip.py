"""Clarify's counterfactual flip test (driftline_metrics.bias_flip) and its place in analysis.json.

The worked example counts F+ and F- by hand from the documented formula FT = (F+ - F-) / n_d; the larger cases
are checked against scikit-learn's KNeighborsClassifier (test-only oracle), the neighbour model of Clarify's
reference implementation (k = 5, Euclidean, majority vote; k = 1 for a facet a of at most 9 rows).
"""

from __future__ import annotations

import numpy as np
import pytest
from driftline_metrics.bias_flip import flip_test, flip_test_detail
from sklearn.neighbors import KNeighborsClassifier


def test_worked_example_counts_each_flip_set_by_hand() -> None:
    # facet a (rows 0-11, 12 rows > 9: k = 5) in two clusters: around x=0 accepted, around x=10 rejected
    a_x = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 9.0, 9.2, 9.4, 9.6, 9.8, 10.0]
    a_p = [True] * 6 + [False] * 6
    # facet d (rows 12-16)
    d_x = [0.5, 0.3, 9.5, 9.7, 0.1]
    d_p = [False, False, True, False, True]
    # row 12 and 13: rejected, their 5 neighbours in a (x≈0) accepted  -> F+ = 2
    # row 14: accepted, its neighbours (x≈10) rejected                  -> F- = 1
    # row 15: rejected like its neighbours; row 16 accepted like them   -> no flip
    x = np.array(a_x + d_x)[:, None]
    d = np.array([False] * 12 + [True] * 5)
    p = np.array(a_p + d_p)
    out = flip_test_detail(x, d, p)
    assert (out["f_plus"], out["f_minus"], out["n_d"], out["k"]) == (2, 1, 5, 5)
    assert out["value"] == pytest.approx((2 - 1) / 5)
    assert not out["sampled"]


def test_small_facet_a_uses_one_neighbour() -> None:
    x = np.array([[0.0], [1.0], [10.0], [0.1], [9.9]])
    d = np.array([False, False, False, True, True])
    p = np.array([True, True, False, False, False])
    out = flip_test_detail(x, d, p)
    assert out["k"] == 1
    assert out["value"] == pytest.approx(0.5)  # row 3 rejected, its neighbour row 0 accepted: F+ = 1 of n_d = 2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_agrees_with_a_scikit_learn_neighbour_model(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = 3000, 4
    x = rng.normal(size=(n, m)) * np.array([1.0, 3.0, 0.5, 10.0])
    d = rng.uniform(size=n) < 0.3
    p = (x[:, 0] + 0.3 * x[:, 1] + rng.normal(0, 1, n) + np.where(d, -0.5, 0.3)) > 0
    knn = KNeighborsClassifier(n_neighbors=5).fit(x[~d], p[~d])
    counter = knn.predict(x[d])
    expected = (np.count_nonzero(~p[d] & counter) - np.count_nonzero(p[d] & ~counter)) / d.sum()
    assert flip_test(x, d, p) == pytest.approx(expected)
    assert expected > 0  # the synthetic model rejects d more often than its neighbours in a: a positive FT


def test_sampled_estimate_is_close_and_says_so() -> None:
    rng = np.random.default_rng(3)
    n = 6_000
    x = rng.normal(size=(n, 3))
    d = rng.uniform(size=n) < 0.5
    p = (x[:, 0] + np.where(d, -0.4, 0.0) + rng.normal(0, 0.5, n)) > 0
    exact = flip_test_detail(x, d, p)
    approx = flip_test_detail(x, d, p, max_pairs=400_000, max_queries=400)
    assert not exact["sampled"]
    assert approx["sampled"]
    assert approx["queries"] == 400
    assert approx["references"] == 1_000
    assert approx["n_d"] == exact["n_d"]
    assert approx["value"] == pytest.approx(exact["value"], abs=0.08)


def test_undefined_inputs_raise() -> None:
    x = np.zeros((4, 1))
    with pytest.raises(ValueError, match="Facet set is empty"):
        flip_test(x, np.zeros(4, bool), np.ones(4, bool))
    with pytest.raises(ValueError, match="Negated facet"):
        flip_test(x, np.ones(4, bool), np.ones(4, bool))
    with pytest.raises(ValueError, match="numeric feature"):
        flip_test(np.zeros((4, 0)), np.array([1, 0, 0, 0], bool), np.ones(4, bool))
    with pytest.raises(ValueError, match="boolean"):
        flip_test(x, np.array([1, 0, 0, 0]), np.ones(4, bool))
