"""Uncertainty of the evaluator's numbers: confidence bounds of a window's metric, paired champion-vs-candidate
tests, Holm's correction. numpy only, vectorised, cheap at a million rows.

Which method for which metric (one table, used by both the breach check and the promotion tests):

========================  ==================================  ==========================================
metric                    bound of one window                 paired test (candidate vs champion)
========================  ==================================  ==========================================
accuracy                  Wilson (correct / rows)             McNemar on the discordant pairs (exact or
                                                              mid-p binomial), Wald interval of the delta
precision, recall         Wilson (binary: TP / predicted      multinomial bootstrap of the joint
(binary)                  positives, TP / actual positives)   (label, champion, candidate) table
f1, balanced_accuracy,    multinomial bootstrap of the        multinomial bootstrap of the joint table
mcc, macro precision /    confusion matrix (its cells are     (the table is a sufficient statistic: the
recall / f1               sufficient: cost independent of n)  cost does not depend on n)
roc_auc                   DeLong variance (multiclass OvR     paired DeLong (multiclass: per class,
                          macro: mean of the per-class SDs,   the macro SD bounded by the mean of the
                          an upper bound of the macro SD)     per-class SDs)
average_precision         logit interval (Boyd et al. 2013)   Poisson-weight bootstrap in batches
mse, rmse, mae, mape,     normal interval of the mean of the  Poisson-weight bootstrap in batches on the
log_loss, brier           per-row losses (rmse: its square    per-row sums (weights drawn from a 16-bit
                          root), r2: delta method             lookup table of the Poisson(1) law)
========================  ==================================  ==========================================

Bounds are one-sided: ``lower`` holds with probability ``confidence`` and so does ``upper``. A deterministic seed
keeps every bootstrap reproducible.
"""

from __future__ import annotations

# re-exported: one window's bounds and the paired tests live in two modules; this one keeps the import path
from metric_evaluator.stats_bounds import *  # noqa: F403
from metric_evaluator.stats_bounds import _EPS  # noqa: F401
from metric_evaluator.stats_paired import *  # noqa: F403
