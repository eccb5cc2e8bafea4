"""Shared Hypothesis strategies and references for the drift tests (one file per drift module)."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st

FAST = settings(max_examples=25, deadline=None)

probs = st.lists(st.floats(0, 10), min_size=1, max_size=10)


def samples(min_size: int = 1, max_size: int = 40, ties: bool = False) -> st.SearchStrategy:
    elems = st.integers(-5, 5).map(float) if ties else st.floats(-1e3, 1e3, allow_nan=False)
    return st.lists(elems, min_size=min_size, max_size=max_size).map(np.array)


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def psi_reference(ref, cur, bins, eps):
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)))[1:-1]
    full = np.concatenate([[-np.inf], edges, [np.inf]])
    p = np.histogram(ref, full)[0] / len(ref)
    q = np.histogram(cur, full)[0] / len(cur)
    p = np.where(p == 0, eps, p)
    q = np.where(q == 0, eps, q)
    return float(np.sum((q - p) * np.log(q / p)))
