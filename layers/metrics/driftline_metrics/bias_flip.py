"""SageMaker Clarify's counterfactual flip test (FT), numpy only.

Clarify's definition ("Counterfactual Fliptest (FT)", post-training bias metrics): every member of the sensitive
facet ``d`` is matched with its ``k`` nearest neighbours among the members of facet ``a``; the neighbours' model
predictions (their majority) are the member's counterfactual outcome. With

* ``F+`` — members of ``d`` predicted the unfavourable outcome whose neighbours in ``a`` were predicted the
  favourable one,
* ``F-`` — members of ``d`` predicted the favourable outcome whose neighbours in ``a`` were predicted the
  unfavourable one,
* ``n_d`` — the size of facet ``d``,

``FT = (F+ - F-) / n_d``, in ``[-1, 1]``: positive when ``d`` members would more often have been accepted as
members of ``a``. The neighbour model follows Clarify's reference implementation
(``smclarify.bias.metrics.posttraining.FT``): a k-nearest-neighbour majority vote over the features other than the
facet and the label, Euclidean distance on the raw values, ``k = 5`` when facet ``a`` has more than 9 members and
``k = 1`` otherwise. (That implementation counts the two flip sets the other way round, so its sign is the
opposite of the documented formula; Driftline follows the documentation.)

Exact neighbours cost ``n_a * n_d`` distances. Above ``max_pairs`` the test runs on a seeded uniform sample: at
most ``max_queries`` members of ``d`` (FT is a mean over them) matched against at most ``max_pairs / queries``
members of ``a`` (a k-NN vote on a uniform sample of ``a`` estimates the same counterfactual outcome);
:func:`flip_test_detail` says whether it sampled.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["flip_test", "flip_test_detail"]

#: Clarify's neighbour counts: 5, or 1 when facet ``a`` has at most 9 members
DEFAULT_NEIGHBORS = 5
MIN_NEIGHBORS = 1
SMALL_FACET = 9
#: exact up to this many query x reference distances (a few CPU-seconds of distance blocks and partitions)
MAX_PAIRS = 50_000_000
MAX_QUERIES = 10_000
#: query rows per distance block (bounds the block to ~``CHUNK * n_a`` floats)
CHUNK_CELLS = 8_000_000


def _inputs(features: Any, sensitive: Any, predicted: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.asarray(features, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"features must be a 2-D array (rows x features), got shape {x.shape}.")
    s, p = np.asarray(sensitive), np.asarray(predicted)
    for name, arr in (("sensitive", s), ("predicted", p)):
        if arr.dtype != np.bool_ or arr.ndim != 1 or arr.size != x.shape[0]:
            raise ValueError(f"{name} must be a 1-D boolean array of {x.shape[0]} rows, got dtype {arr.dtype} "
                             f"and shape {arr.shape}.")
    if x.shape[1] == 0:
        raise ValueError("FlipTest needs at least one numeric feature besides the facet.")
    if not np.all(np.isfinite(x)):
        raise ValueError("FlipTest needs finite feature values.")
    if not s.any():
        raise ValueError("Facet set is empty: no row belongs to the sensitive group.")
    if s.all():
        raise ValueError("Negated facet set is empty: every row belongs to the sensitive group.")
    return x, s, p


def _neighbour_vote(ref: np.ndarray, ref_pred: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Majority of the ``k`` nearest reference rows' predictions for each query (Euclidean distance; which of
    several equally distant rows is taken is unspecified, as in a k-d tree)."""
    out = np.empty(queries.shape[0], dtype=bool)
    ref_sq = np.einsum("ij,ij->i", ref, ref)
    step = max(1, CHUNK_CELLS // max(1, ref.shape[0]))
    for i in range(0, queries.shape[0], step):
        q = queries[i:i + step]
        d2 = ref_sq[None, :] - 2.0 * (q @ ref.T) + np.einsum("ij,ij->i", q, q)[:, None]
        idx = np.argmin(d2, axis=1)[:, None] if k == 1 else np.argpartition(d2, k - 1, axis=1)[:, :k]
        votes = ref_pred[idx].sum(axis=1)
        out[i:i + step] = 2 * votes > idx.shape[1]
    return out


def flip_test_detail(features: Any, sensitive: Any, predicted: Any, *, max_pairs: int = MAX_PAIRS,
                     max_queries: int = MAX_QUERIES, seed: int = 0) -> dict[str, Any]:
    """The flip test and how it was computed: ``{value, f_plus, f_minus, n_d, k, queries, references, sampled}``.

    Parameters
    ----------
    features : array of shape (n, m)
        Numeric features of every row, the facet and the label left out.
    sensitive : bool array of shape (n,)
        Membership of the sensitive facet ``d``.
    predicted : bool array of shape (n,)
        The model's predicted outcome is the favourable one.

    Examples
    --------
    >>> x = [[0.0], [1.0], [10.0], [0.1], [9.9]]
    >>> d = [False, False, False, True, True]
    >>> p = [True, True, False, False, False]
    >>> flip_test_detail(x, d, p)["value"]   # row 3 is rejected, its neighbour row 0 accepted: F+ = 1
    0.5
    """
    x, s, p = _inputs(features, sensitive, predicted)
    ref, ref_pred = x[~s], p[~s]
    qry, qry_pred = x[s], p[s]
    n_d = int(qry.shape[0])
    k = DEFAULT_NEIGHBORS if ref.shape[0] > SMALL_FACET else MIN_NEIGHBORS
    sampled = False
    if qry.shape[0] * ref.shape[0] > max_pairs:
        rng = np.random.default_rng(seed)
        sampled = True
        if qry.shape[0] > max_queries:
            pick = np.sort(rng.choice(qry.shape[0], size=max_queries, replace=False))
            qry, qry_pred = qry[pick], qry_pred[pick]
        n_ref = max(k, max_pairs // max(1, qry.shape[0]))
        if ref.shape[0] > n_ref:
            pick = np.sort(rng.choice(ref.shape[0], size=n_ref, replace=False))
            ref, ref_pred = ref[pick], ref_pred[pick]
    counter = _neighbour_vote(ref, ref_pred, qry, k)
    f_plus = int(np.count_nonzero(~qry_pred & counter))
    f_minus = int(np.count_nonzero(qry_pred & ~counter))
    return {"value": float((f_plus - f_minus) / qry.shape[0]), "f_plus": f_plus, "f_minus": f_minus, "n_d": n_d,
            "k": k, "queries": int(qry.shape[0]), "references": int(ref.shape[0]), "sampled": sampled}


def flip_test(features: Any, sensitive: Any, predicted: Any, **kwargs: Any) -> float:
    """Clarify's counterfactual flip test ``FT = (F+ - F-) / n_d`` (see :func:`flip_test_detail`)."""
    return float(flip_test_detail(features, sensitive, predicted, **kwargs)["value"])
