"""Lean input validation shared by the metric modules.

Deliberately small: every Lambda cold start imports this, and every metric call
runs it, so checks are vectorised single passes and label encoding has an
integer fast path (``np.bincount`` instead of a sort) for the common case of
small non-negative integer labels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_STR_KINDS = frozenset("USO")
_INT_KINDS = frozenset("iub")
# an integer label range up to this many slots is encoded with bincount, not a sort
_FAST_RANGE = 1 << 16


_LEGACY_MULTILABEL = (
    "You appear to be using a legacy multi-label data representation. Sequence of sequences are no "
    "longer supported; use a binary array or sparse matrix instead - the MultiLabelBinarizer "
    "transformer can convert to this format."
)
_BYTES = "Support for labels represented as bytes is not supported. Convert the labels to a string or integer format."


def reject_legacy_labels(arr: np.ndarray) -> None:
    """Raise as scikit-learn on bytes labels (``TypeError``) and on a sequence of sequences (the
    legacy multilabel format, ``ValueError``), judged from the first element as scikit-learn does."""
    if arr.dtype.kind == "S":
        raise TypeError(_BYTES)
    if arr.dtype.kind == "O" and arr.size:
        first = arr.flat[0]
        if isinstance(first, bytes):
            raise TypeError(_BYTES)
        if not hasattr(first, "__array__") and isinstance(first, list | tuple | range):
            raise ValueError(_LEGACY_MULTILABEL)


def check_1d(y: Any, name: str) -> np.ndarray:
    """Return ``y`` as a 1-D array; a column vector ``(n, 1)`` is flattened."""
    arr = np.asarray(y)
    reject_legacy_labels(arr)
    if arr.ndim == 1:
        return arr
    if arr.ndim == 2 and arr.shape[1] == 1:
        return arr.ravel()
    if arr.ndim == 0:
        raise ValueError(f"{name} must be a 1-D array-like of samples, got a scalar {arr!r}.")
    raise ValueError(
        f"{name} must be 1-D (n_samples,) or a column (n_samples, 1); got shape {arr.shape}. "
        "Multilabel and multioutput targets are not supported by this metric."
    )


def check_lengths(**arrays: Any) -> int:
    """Raise unless all given (non-None) arrays have the same first dimension."""
    lengths = {name: len(a) for name, a in arrays.items() if a is not None}
    if len(set(lengths.values())) > 1:  # scikit-learn's message, word for word
        raise ValueError(f"Found input variables with inconsistent numbers of samples: {list(lengths.values())}")
    return next(iter(lengths.values()))


def all_finite(a: np.ndarray) -> bool:
    """True when every element of the float array ``a`` is finite (one cheap sum first)."""
    if a.size == 0:
        return True
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.sum(a)):
            return True
    return bool(np.isfinite(a).all())


def assert_finite(a: np.ndarray, name: str) -> None:
    """Raise ``ValueError`` naming ``name`` if ``a`` (numeric) contains NaN or infinity."""
    if a.dtype.kind in "fc" and not all_finite(a):  # scikit-learn's message, word for word
        what = "NaN" if np.isnan(a).any() else f"infinity or a value too large for {a.dtype!r}"
        raise ValueError(f"Input {name} contains {what}.")


def check_scores(
    y_score: Any, name: str = "y_score", *, allow_2d: bool = False, finite: bool = True
) -> np.ndarray:
    """Validate numeric, finite scores; 1-D (or 2-D when ``allow_2d``).

    ``finite=False`` leaves the finiteness check to the caller (who must make it).
    """
    arr = np.asarray(y_score)
    if arr.dtype.kind not in "iufb":
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}.")
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr.ravel()
    if arr.ndim not in ((1, 2) if allow_2d else (1,)):
        raise ValueError(f"{name} must be 1-D (n_samples,){' or 2-D' if allow_2d else ''}; got {arr.shape}.")
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    if finite:
        assert_finite(arr, name)
    return arr


def check_sample_weight(
    sample_weight: Any, n_samples: int, *, allow_all_zero: bool = False
) -> np.ndarray | None:
    """Return ``sample_weight`` as a finite numeric 1-D array of length ``n_samples`` (or None)."""
    if sample_weight is None:
        return None
    sw = np.asarray(sample_weight)
    if sw.dtype.kind == "c":
        raise ValueError(f"Complex data not supported\n{sw}\n")  # scikit-learn's message
    if sw.dtype.kind == "O":  # numbers held in an object array: converted, as scikit-learn does
        try:
            sw = sw.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"sample_weight must be numeric, got dtype {sw.dtype}.") from exc
    if sw.ndim == 0:
        sw = np.full(n_samples, sw)
    if sw.ndim != 1:
        raise ValueError(f"Sample weights must be 1D array or scalar (got shape {sw.shape}).")  # scikit-learn's words
    if sw.dtype.kind not in "iufb":
        raise ValueError(f"sample_weight must be numeric, got dtype {sw.dtype}.")
    if sw.shape[0] != n_samples:  # scikit-learn's message (its check covers both inputs and the weights)
        raise ValueError(
            f"Found input variables with inconsistent numbers of samples: [{n_samples}, {n_samples}, {sw.shape[0]}]"
        )
    if sw.dtype.kind == "b":
        sw = sw.astype(np.int64)
    assert_finite(sw, "sample_weight")
    if not allow_all_zero and not sw.any():
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return sw


def weighted_mean(values: np.ndarray, weights: np.ndarray | None, axis: int | None = None) -> Any:
    """``np.average`` (same summation as scikit-learn) raising ValueError when the weights sum to zero."""
    if weights is None:
        return np.mean(values, axis=axis)
    total = np.sum(weights, dtype=np.float64)
    if total == 0:
        raise ValueError("sample_weight sums to zero; the weighted average is undefined.")
    w = weights if axis is None or values.ndim == 1 else weights.reshape((-1,) + (1,) * (values.ndim - 1))
    return np.sum(values * w, axis=axis) / total


def total_or_mean(values: np.ndarray, weights: np.ndarray | None, normalize: bool) -> float:
    """The (weighted) mean of per-sample ``values`` when ``normalize``, else their (weighted) sum."""
    if not normalize:
        return float(values.sum() if weights is None else np.dot(values, weights))
    return float(weighted_mean(values, weights))


def _label_array(y: Any, name: str) -> np.ndarray:
    arr = check_1d(y, name)
    kind = arr.dtype.kind
    if kind == "f":
        if not all_finite(arr):
            raise ValueError(f"Input {name} contains NaN or infinity; labels must be finite.")
        if arr.size and np.any(arr != np.floor(arr)):
            raise ValueError(
                f"{name} contains continuous (non-integer float) values; classification metrics "
                "expect discrete class labels (ints, strings or bools)."
            )
    elif kind not in _INT_KINDS and kind not in _STR_KINDS:
        raise ValueError(f"{name} has unsupported dtype {arr.dtype} for class labels.")
    return arr


def _is_str(arr: np.ndarray) -> bool:
    if arr.dtype.kind in "US":
        return True
    if arr.dtype.kind == "O":
        return arr.size > 0 and isinstance(arr.flat[0], str)
    return False


def encode_labels(*ys: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Sorted union of the labels of ``ys`` and each array as indices into it.

    Small non-negative-range integer/bool labels take a bincount path (no sort).
    """
    if all(y.dtype.kind in _INT_KINDS for y in ys):
        ys_i = [y.view(np.uint8) if y.dtype.kind == "b" else y for y in ys]
        nonempty = [y for y in ys_i if y.size]
        if nonempty:
            lo = min(int(y.min()) for y in nonempty)
            hi = max(int(y.max()) for y in nonempty)
            span = hi - lo + 1
            if span <= 2:
                # min and max are both present: no counting pass needed
                classes = np.array([lo, hi][:span]).astype(np.result_type(*ys))
                if lo == 0:
                    return classes, [y if y.dtype == np.uint8 else y.astype(np.intp, copy=False) for y in ys_i]
                return classes, [(y.astype(np.intp) - lo) for y in ys_i]
            if span <= max(_FAST_RANGE, 2 * sum(y.size for y in ys_i)):
                shifted = [(y.astype(np.intp) - lo) if lo else y for y in ys_i]
                present = np.zeros(span, dtype=bool)
                for s in shifted:
                    present |= np.bincount(s, minlength=span).astype(bool)
                classes = (np.flatnonzero(present) + lo).astype(np.result_type(*ys), copy=False)
                if present.all():
                    idx = [s.astype(np.intp, copy=False) for s in shifted]
                else:
                    lut = np.cumsum(present, dtype=np.intp) - 1
                    idx = [lut[s] for s in shifted]
                return classes, idx
    try:
        joined = np.concatenate(ys) if len(ys) > 1 else ys[0]
        classes, inverse = np.unique(joined, return_inverse=True)
    except TypeError as exc:  # object arrays mixing str and numbers
        raise ValueError("Mix of label input types (string and number) is not supported.") from exc
    inverse = inverse.ravel()
    out, start = [], 0
    for y in ys:
        out.append(inverse[start : start + y.size])
        start += y.size
    return classes, out


def _as_01(a: np.ndarray) -> np.ndarray | None:
    """Unsigned view of an int/bool array whose values are all 0 or 1 (one max pass), else None."""
    if a.dtype.kind == "b":
        return a.view(np.uint8)
    u = a.view(_UNSIGNED[a.dtype.itemsize])  # negative ints become huge: rejected by the max
    return u if u.max() <= 1 else None


_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def labels_01(y: np.ndarray) -> np.ndarray | None:
    """``y`` as an unsigned view when it is a non-empty 1-D bool/int array of 0s and 1s, else None."""
    if y.ndim != 1 or y.size == 0 or y.dtype.kind not in _INT_KINDS:
        return None
    return _as_01(y)


def binary01_confusion(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """``(classes, C)`` for the common unweighted case, or None to take the general path.

    Applies when ``y_true`` and ``y_pred`` are non-empty 1-D int/bool arrays of one length
    with values in {0, 1}: the confusion matrix then comes from three counts (no label
    encoding, no sort). ``classes`` are the labels present (as :func:`encode_labels` gives
    them) and ``C`` the int64 matrix over them. Any other input returns None, so the
    general path validates it and raises its usual errors.
    """
    yt = np.asarray(y_true)
    yp = np.asarray(y_pred)
    if (
        yt.ndim != 1
        or yt.shape != yp.shape
        or yt.size == 0
        or yt.dtype.kind not in _INT_KINDS
        or yp.dtype.kind not in _INT_KINDS
    ):
        return None
    tu = _as_01(yt)
    if tu is None:
        return None
    pu = _as_01(yp)
    if pu is None:
        return None
    n = tu.shape[0]
    # of 0/1 values the sum is the count, and a wide integer sum is faster than count_nonzero
    t1 = int(tu.sum()) if tu.dtype.itemsize > 1 else int(np.count_nonzero(tu))
    p1 = int(pu.sum()) if pu.dtype.itemsize > 1 else int(np.count_nonzero(pu))
    if tu.dtype == pu.dtype and tu.dtype.itemsize == 8:
        both = int(np.dot(tu, pu))  # integer dot of 0/1 values: the count of (1, 1)
    elif tu.dtype == pu.dtype:
        both = int(np.count_nonzero(np.bitwise_and(tu, pu)))
    else:
        both = int(np.count_nonzero(np.logical_and(tu, pu)))
    C = np.array([[n - t1 - p1 + both, p1 - both], [t1 - both, both]], dtype=np.int64)
    present = [t1 < n or p1 < n, t1 > 0 or p1 > 0]
    classes = np.array([0, 1])[present].astype(np.result_type(yt, yp))
    if not all(present):
        C = C[np.ix_(present, present)]
    return classes, C


def check_targets(
    y_true: Any, y_pred: Any, sample_weight: Any = None
) -> tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Validate a pair of label vectors.

    Returns ``(y_type, classes, true_idx, pred_idx, sample_weight)`` where
    ``y_type`` is ``'binary'`` (at most two distinct labels) or ``'multiclass'``,
    ``classes`` the sorted union of labels and ``*_idx`` indices into it.
    """
    try:
        yt = _label_array(y_true, "y_true")
        yp = _label_array(y_pred, "y_pred")
        n = check_lengths(y_true=yt, y_pred=yp)
    except ValueError:
        # not a pair of 1-D label vectors: scikit-learn's error for what it is (a continuous,
        # multioutput or multilabel target, a mix of types), else the layer's own
        from ._multilabel import raise_for_pair

        raise_for_pair(y_true, y_pred, sample_weight)
        raise
    if n == 0:
        raise ValueError(
            "Found empty input array (e.g., `y_true` or `y_pred`) while a minimum of 1 sample is required."
        )
    if _is_str(yt) != _is_str(yp):
        raise ValueError(
            "Mix of label input types (string and number): y_true has dtype "
            f"{yt.dtype}, y_pred has dtype {yp.dtype}; use the same kind of labels for both."
        )
    sw = check_sample_weight(sample_weight, n)
    classes, (ti, pi) = encode_labels(yt, yp)
    y_type = "binary" if classes.shape[0] <= 2 else "multiclass"
    return y_type, classes, ti, pi, sw


def unique_labels_1d(y: np.ndarray) -> np.ndarray:
    """Sorted unique labels of one validated label array."""
    return encode_labels(y)[0]


def label_array(y: Any, name: str) -> np.ndarray:
    """Validate a 1-D vector of class labels (finite, not continuous)."""
    return _label_array(y, name)


def check_pos_label(pos_label: Any, classes: np.ndarray) -> Any:
    """Infer ``pos_label`` like scikit-learn: 1 for {0,1}/{-1,1}-like labels, else it must be given."""
    if pos_label is not None:
        return pos_label
    if classes.dtype.kind in "USO" or classes.shape[0] > 2 or not any(
        np.array_equal(classes, ok) for ok in ([0, 1], [-1, 1], [0], [-1], [1])
    ):
        reprs = ", ".join(repr(c) for c in classes.tolist())
        raise ValueError(
            f"y_true takes value in {{{reprs}}} and pos_label is not specified: either make y_true "
            "take value in {0, 1} or {-1, 1} or pass pos_label explicitly."
        )
    return 1
