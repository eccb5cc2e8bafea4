"""driftline_metrics: numpy-only, scikit-learn-compatible model-quality metrics.

Same names, signatures and semantics as ``sklearn.metrics`` so that code can swap
it in inside AWS Lambda. Drift, bias and mergeable partial states live in the
submodules ``driftline_metrics.drift``, ``driftline_metrics.bias`` and
``driftline_metrics.partial`` (imported on demand, not here, to keep cold starts short).

ROC AUC, average precision and the two curves share one sort of the same input: the last
unweighted binary input ranked is remembered (a private copy, verified equal before reuse; one
entry of 32,768 to 2,097,152 rows). ``set_rank_memo(False)`` or ``DRIFTLINE_RANK_MEMO=0`` switches
that off, ``clear_rank_memo()`` drops the entry.

Examples
--------
>>> from driftline_metrics import f1_score, roc_auc_score
>>> f1_score([0, 1, 1, 0], [0, 1, 0, 0])
0.6666666666666666
>>> roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
0.75
"""

from __future__ import annotations

from ._classification import (
    accuracy_score,
    balanced_accuracy_score,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    fbeta_score,
    log_loss,
    matthews_corrcoef,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
)
from ._rank_memo import clear as clear_rank_memo
from ._rank_memo import set_enabled as set_rank_memo
from ._ranking import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve
from ._regression import (
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    r2_score,
    root_mean_squared_error,
)
from .exceptions import UndefinedMetricWarning

__all__ = [
    "UndefinedMetricWarning",
    "accuracy_score",
    "average_precision_score",
    "balanced_accuracy_score",
    "brier_score_loss",
    "clear_rank_memo",
    "confusion_matrix",
    "f1_score",
    "fbeta_score",
    "log_loss",
    "matthews_corrcoef",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "precision_recall_curve",
    "precision_recall_fscore_support",
    "precision_score",
    "r2_score",
    "recall_score",
    "roc_auc_score",
    "roc_curve",
    "root_mean_squared_error",
    "set_rank_memo",
]
