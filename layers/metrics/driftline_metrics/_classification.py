"""Classification metrics with scikit-learn's names, signatures and semantics (numpy only).

The implementations live in one module per concept: ``_confusion`` (accuracy, confusion matrix,
balanced accuracy, MCC), ``_prf`` (precision, recall, F-beta) and ``_losses`` (log loss, Brier).
"""

from __future__ import annotations

from ._confusion import accuracy_score, balanced_accuracy_score, confusion_matrix, matthews_corrcoef
from ._losses import brier_score_loss, log_loss
from ._prf import f1_score, fbeta_score, precision_recall_fscore_support, precision_score, recall_score

__all__ = [
    "accuracy_score",
    "balanced_accuracy_score",
    "brier_score_loss",
    "confusion_matrix",
    "f1_score",
    "fbeta_score",
    "log_loss",
    "matthews_corrcoef",
    "precision_recall_fscore_support",
    "precision_score",
    "recall_score",
]
