"""The paired challenger-versus-champion comparison (the ``compare`` action) on the same labelled rows.

See :mod:`metric_evaluator.evaluate` for what the metrics are and docs/decisions.md for the promotion rule.
"""

from __future__ import annotations

import csv
import io
import math
import tarfile
from typing import Any

import numpy as np
from aws_lambda_powertools.metrics import MetricUnit
from driftline_common.config import HIGHER_IS_BETTER, UNBOUNDED_METRICS, ModelConfig
from driftline_common.datasets import (
    Dataset,
    cached_labelled_window,
    norm_label,
    parse_dataset_csv,
    read_dataset_text,
)
from driftline_common.errors import DataFormatError, InvalidEvent
from driftline_common.events import publish
from driftline_common.observability import metrics
from driftline_common.runs import RunRef
from driftline_common.s3io import S3Uri, get_bytes, put_json, sanitize
from driftline_common.settings import Settings

from metric_evaluator import stats
from metric_evaluator.chart_data import comparison_charts
from metric_evaluator.evaluate import (
    compute_metrics,
)
from metric_evaluator.problem import (
    BOOTSTRAP_SEED,
    Problem,
    _class_index,
    apply_class_offsets,
    prepare,
)


def read_challenger_predictions(tar_bytes: bytes) -> tuple[np.ndarray, np.ndarray, int]:
    """``(ids, scores, bad)`` from a training job's ``output.tar.gz`` holding ``evaluation_predictions.csv``.

    Raises ValueError when the archive or the file is missing/unreadable (the caller maps it to a typed error).
    """
    try:
        with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:*") as tar:
            member = next((m for m in tar.getmembers()
                           if m.isfile() and m.name.rsplit("/", 1)[-1] == "evaluation_predictions.csv"), None)
            if member is None:
                raise ValueError("output.tar.gz holds no evaluation_predictions.csv")
            fh = tar.extractfile(member)
            raw = fh.read() if fh else b""
    except tarfile.TarError as exc:
        raise ValueError(f"output.tar.gz is not a readable tar archive: {exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("evaluation_predictions.csv is not UTF-8 text") from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header or header[0].strip() != "inference_id" or len(header) < 2:
        raise ValueError(f"evaluation_predictions.csv must start with a header 'inference_id,score...', got {header}")
    ids: list[str] = []
    scores: list[list[float]] = []
    bad = 0
    for row in reader:
        if not row:
            continue
        try:
            if len(row) != len(header) or not row[0].strip():
                raise ValueError
            vals = [float(v) for v in row[1:]]
            if not all(math.isfinite(v) for v in vals):
                raise ValueError
        except ValueError:
            bad += 1
            continue
        ids.append(row[0].strip())
        scores.append(vals)
    arr = np.asarray(scores, dtype=np.float64).reshape(len(ids), len(header) - 1)
    return np.asarray(ids, dtype=str), (arr[:, 0] if arr.shape[1] == 1 else arr), bad


def metric_value(cfg: ModelConfig, metric: str, y_true: np.ndarray, scores: np.ndarray) -> float:
    """One promotion metric of one model's scores on labelled rows (NaN when undefined)."""
    p = prepare(cfg, y_true, scores, np.full(len(y_true), "", dtype=str))
    return float(compute_metrics(p)["metrics"].get(metric, math.nan))


def mcnemar(y: np.ndarray, pred_champion: np.ndarray, pred_challenger: np.ndarray, *, mid_p: bool = True
            ) -> dict[str, Any]:
    """McNemar's counts, exact two-sided p-value and the one-sided p-value of "challenger more accurate"
    (exact or mid-p binomial on the discordant pairs) — the accuracy verdict of the promotion rule."""
    a = pred_champion == y
    b = pred_challenger == y
    only_champion = int(np.sum(a & ~b))
    only_challenger = int(np.sum(~a & b))
    m = only_champion + only_challenger
    if m == 0:
        p = 1.0
    else:
        k = min(only_champion, only_challenger)
        logs = [math.lgamma(m + 1) - math.lgamma(i + 1) - math.lgamma(m - i + 1) - m * math.log(2)
                for i in range(k + 1)]
        p = min(1.0, 2 * float(np.sum(np.exp(logs))))
    return {"method": "mcnemar", "bothCorrect": int(np.sum(a & b)), "bothWrong": int(np.sum(~a & ~b)),
            "championOnly": only_champion, "challengerOnly": only_challenger, "pvalue": p,
            "pvalueOneSided": stats.binom_sf_half(only_challenger, m, mid_p=mid_p),
            "oneSided": "mid-p" if mid_p else "exact"}


def squared_error_differences(y: np.ndarray, s_champion: np.ndarray, s_challenger: np.ndarray) -> dict[str, Any]:
    """Paired differences ``(e_champion^2 - e_challenger^2)``: mean, std error, normal 95% interval."""
    d = (s_champion - y) ** 2 - (s_challenger - y) ** 2
    n = d.size
    mean = float(d.mean()) if n else math.nan
    se = float(d.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    return {"method": "paired_squared_error", "meanDifference": mean, "stdError": se,
            "lower": mean - 1.959964 * se, "upper": mean + 1.959964 * se}


#: verdicts of one metric in a comparison (reason codes are ``VERDICT:metric``)
IMPROVED, NOT_SIGNIFICANT, BELOW_MARGIN = "IMPROVED", "NOT_SIGNIFICANT", "BELOW_MARGIN"
NON_INFERIOR, REGRESSED, UNDEFINED = "NON_INFERIOR", "REGRESSED", "UNDEFINED"
CHALLENGER_BETTER, RECALIBRATED = "CHALLENGER_BETTER", "RECALIBRATED"


def promotion_metrics(cfg: ModelConfig, breached: list[str] | None) -> tuple[list[str], list[str]]:
    """``(must_improve, must_not_regress)``: the breached thresholded metrics (the primary ``promotion.metric``
    when none breached), and every other thresholded metric."""
    thresholded = list(dict.fromkeys(t.metric for t in cfg.thresholds))
    must = [m for m in thresholded if m in set(breached or [])]
    if not must:
        must = [cfg.promotion.metric]
    return must, [m for m in thresholded if m not in must]


def _threshold_ok(cfg: ModelConfig, metric: str, value: float) -> bool:
    """The point estimate meets every threshold on ``metric``."""
    if not math.isfinite(value):
        return False
    return all((t.min is None or value >= t.min) and (t.max is None or value <= t.max)
               for t in cfg.thresholds if t.metric == metric)


def judge_candidate(cfg: ModelConfig, champion: Problem, candidate: Problem, *, must: list[str], others: list[str],
                    resamples: int, seed: int, extra_joint: np.ndarray | None = None,
                    alpha: float | None = None) -> dict[str, Any]:
    """Every metric's paired test and verdict for one candidate; ``passes`` when every must-improve metric
    improved (Holm-corrected one-sided tests at ``promotion.alpha``, delta >= ``minImprovement``) and no other
    thresholded metric regressed beyond its non-inferiority margin (one-sided bound at ``1 - alpha``).
    ``extra_joint``: a cross-fitted fold's paired table, pooled into every confusion-matrix metric's test;
    ``alpha``: the family-wise level of the must-improve tests (default ``promotion.alpha``)."""
    promo = cfg.promotion
    confidence = 1 - promo.alpha
    y = champion.y
    tests: dict[str, dict[str, Any]] = {}
    for m in [*must, *others]:
        if m in tests:
            continue
        tests[m] = stats.paired_test(
            m, kind=champion.kind, y=y, champion=(champion.y_pred, champion.scores),
            candidate=(candidate.y_pred, candidate.scores), confidence=confidence,
            mid_p=promo.mcnemar == "mid-p", resamples=resamples, seed=seed, extra_joint=extra_joint)
    rejected = stats.holm([tests[m]["pvalue"] for m in must], promo.alpha if alpha is None else alpha)
    for m, rej in zip(must, rejected, strict=True):
        t = tests[m]
        t["role"] = "must_improve"
        t["holmRejected"] = rej
        if not (math.isfinite(t["champion"]) and math.isfinite(t["candidate"])):
            t["verdict"] = UNDEFINED
        elif t["delta"] < promo.min_improvement:
            t["verdict"] = BELOW_MARGIN
        elif not rej:
            t["verdict"] = NOT_SIGNIFICANT
        else:
            t["verdict"] = IMPROVED
    for m in others:
        t = tests[m]
        margin = promo.margin(m)
        if m in UNBOUNDED_METRICS and math.isfinite(t["champion"]):
            margin *= abs(t["champion"])
        t["role"] = "non_inferior"
        t["margin"] = margin
        if not math.isfinite(t["lower"]):
            t["verdict"] = UNDEFINED
        else:
            t["verdict"] = REGRESSED if t["lower"] < -margin else NON_INFERIOR
    passes = all(tests[m]["verdict"] == IMPROVED for m in must) and not any(
        tests[m]["verdict"] == REGRESSED for m in others)
    fixes = all(_threshold_ok(cfg, m, tests[m]["candidate"]) for m in must if any(
        t.metric == m for t in cfg.thresholds))
    return {"passes": passes, "fixes": fixes, "tests": tests,
            "verdicts": [f"{tests[m]['verdict']}:{m}" for m in [*must, *others]]}


def _choose(candidates: dict[str, dict[str, Any]], must: list[str]) -> str | None:
    """The remedy to deploy: among the candidates that pass, those that bring every breached metric back within
    its threshold first, the cheapest of them (a recalibration before a retrained model); else the larger
    improvement of the first must-improve metric."""
    passing = [k for k in ("recalibrated", "retrained") if candidates.get(k, {}).get("passes")]
    if not passing:
        return None
    fixing = [k for k in passing if candidates[k]["fixes"]]
    if fixing:
        return fixing[0]
    return max(passing, key=lambda k: candidates[k]["tests"][must[0]]["delta"])


def compare_models(
    cfg: ModelConfig, y_true: np.ndarray, champion_scores: np.ndarray, challenger_scores: np.ndarray,
    *, breached: list[str] | None = None, champion_threshold: float | None = None,
    recalibration_threshold: float | None = None, resamples: int | None = None, seed: int = BOOTSTRAP_SEED,
    champion_offsets: list[float] | None = None, recalibration_offsets: list[float] | None = None,
    recalibration_crossfit: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Score the champion, the retrained challenger and (binary, when given) the champion with a recalibrated
    decision threshold on the same rows; apply the promotion rule to each; choose the remedy.

    ``breached``: the metrics that breached (from the decision); ``champion_threshold``: the champion's current
    decision threshold (its recalibrated one, else the config's); ``recalibration_threshold``: the candidate
    threshold fitted on earlier labelled windows (never on these rows). Multiclass: ``champion_offsets`` the
    champion's current per-class score offsets, ``recalibration_offsets`` the candidate ones (absolute: applied to
    the champion's captured scores, :func:`~metric_evaluator.problem.apply_class_offsets`).
    ``recalibration_crossfit``: the recalibration's cross-fitted fold (:func:`crossfit_from_decision`): the paired
    table of the earlier windows' rows under a recalibration fitted on these rows, pooled into the recalibrated
    candidate's confusion-matrix tests; its ``deploy`` threshold/offsets (fitted on both) is what a winning
    recalibration deploys.
    """
    promo = cfg.promotion
    must, others = promotion_metrics(cfg, breached)
    metric = must[0]
    higher = metric in HIGHER_IS_BETTER
    n = len(y_true)
    resamples = resamples or promo.bootstrap_resamples
    result: dict[str, Any] = {"metric": metric, "higherIsBetter": higher, "minImprovement": promo.min_improvement,
                              "minSamples": promo.min_samples, "sampleSize": n, "breachedMetrics": list(breached or []),
                              "mustImprove": must, "mustNotRegress": others, "alpha": promo.alpha,
                              "nonInferiorityMargin": promo.non_inferiority_margin, "remedy": None,
                              "candidates": {}, "metrics": {}}
    if n == 0:
        return {**result, "promote": False, "champion": math.nan, "challenger": math.nan, "delta": math.nan,
                "pairedTest": {}, "reasons": ["TOO_FEW_SAMPLES", "METRIC_UNDEFINED"]}
    blank = np.full(n, "", dtype=str)
    champ_cfg = cfg if champion_threshold is None else cfg.model_copy(
        update={"decision_threshold": champion_threshold})
    y_index = None if cfg.problem_type == "regression" else _class_index(
        np.asarray(y_true), [norm_label(lab) for lab in cfg.labels or []])
    raw_champion = champion_scores
    if cfg.problem_type == "multiclass":
        champion_scores = apply_class_offsets(champion_scores, champion_offsets)
    pc = prepare(champ_cfg, y_true, champion_scores, blank, y_index=y_index)
    pn = prepare(cfg, y_true, challenger_scores, blank, y_index=y_index)
    if pc.scores is None or pn.scores is None:
        return {**result, "promote": False, "champion": math.nan, "challenger": math.nan, "delta": math.nan,
                "pairedTest": {}, "reasons": ["METRIC_UNDEFINED"]}
    candidates = {"retrained": judge_candidate(cfg, pc, pn, must=must, others=others, resamples=resamples,
                                               seed=seed)}
    fold = recalibration_crossfit or {}
    extra = fold.get("joint")
    crossfit = {k: v for k, v in fold.items() if k != "joint"} if fold else None
    problems = {"retrained": pn}
    if recalibration_threshold is not None and pc.kind == "binary":
        pr = prepare(cfg.model_copy(update={"decision_threshold": recalibration_threshold}), y_true,
                     champion_scores, blank, y_index=y_index)
        problems["recalibrated"] = pr
        candidates["recalibrated"] = {
            **judge_candidate(cfg, pc, pr, must=must, others=others, resamples=resamples, seed=seed,
                              extra_joint=extra, alpha=None if extra is None else promo.alpha / 2),
            "decisionThreshold": recalibration_threshold,
            "championThreshold": champ_cfg.decision_threshold,
            "crossFit": crossfit,
        }
    if recalibration_offsets is not None and pc.kind == "multiclass":
        pr = prepare(cfg, y_true, apply_class_offsets(raw_champion, recalibration_offsets), blank, y_index=y_index)
        problems["recalibrated"] = pr
        candidates["recalibrated"] = {
            **judge_candidate(cfg, pc, pr, must=must, others=others, resamples=resamples, seed=seed,
                              extra_joint=extra, alpha=None if extra is None else promo.alpha / 2),
            "classOffsets": list(recalibration_offsets), "championClassOffsets": champion_offsets,
            "crossFit": crossfit,
        }
    too_few = n < promo.min_samples
    winner = None if too_few else _choose(candidates, must)
    shown = candidates[winner or "retrained"]
    test = shown["tests"][metric]
    paired: dict[str, Any] = {k: test[k] for k in ("method", "lower", "upper", "confidence", "pvalue") if k in test}
    if pc.kind == "regression":
        paired["squaredErrors"] = squared_error_differences(pc.y, pc.scores, pn.scores)
    else:
        paired["mcnemar"] = mcnemar(pc.y, pc.y_pred, problems[winner or "retrained"].y_pred,
                                    mid_p=promo.mcnemar == "mid-p")
    reasons = list(shown["verdicts"])
    if too_few:
        reasons.append("TOO_FEW_SAMPLES")
    if winner == "retrained":
        reasons.append(CHALLENGER_BETTER)
    elif winner == "recalibrated":
        reasons.append(RECALIBRATED)
    out = {**result, "promote": winner is not None, "remedy": {"retrained": "retrain",
                                                              "recalibrated": "recalibration"}.get(winner or ""),
           "champion": test["champion"], "challenger": test["candidate"], "delta": test["delta"],
           "pairedTest": paired, "reasons": reasons, "candidates": candidates, "metrics": shown["tests"]}
    deploy = (crossfit or {}).get("deploy") or {}
    out["charts"] = comparison_charts({"champion": pc, **problems})  # the report's per-model charts
    if winner == "recalibrated" and pc.kind == "multiclass":
        out["classOffsets"] = list(deploy.get("classOffsets") or recalibration_offsets or [])
    elif winner == "recalibrated":
        out["decisionThreshold"] = deploy.get("threshold", recalibration_threshold)
    return out




def champion_rows(settings: Settings, cfg: ModelConfig, run: RunRef, dataset_uri: str) -> Dataset:
    """The evaluated rows: from the run's window artifacts when they still describe the window's objects (the
    same rows the evaluator wrote to ``dataset_uri``), else parsed from ``dataset_uri``."""
    window = cached_labelled_window(cfg, run.start, run.end, run.prefix(settings.bucket).child("window"))
    if window is not None:
        ids = np.asarray([v.decode("utf-8", "surrogatepass") if isinstance(v, bytes) else v
                          for v in window.ids.tolist()], dtype=str)
        return Dataset(ids=ids, y_true=window.y_true, scores=window.scores, predicted=window.predicted)
    try:
        return parse_dataset_csv(cfg, read_dataset_text(dataset_uri))
    except FileNotFoundError:
        raise DataFormatError(f"the evaluated dataset {dataset_uri} does not exist", uri=dataset_uri) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataFormatError(f"the evaluated dataset {dataset_uri} is not readable: {exc}", uri=dataset_uri) from None


def _challenger_uri(cfg: ModelConfig, training: dict[str, Any]) -> S3Uri:
    base = S3Uri.parse(str(training.get("outputUri") or cfg.training.output_uri))
    return base.child(str(training["jobName"]), "output", "output.tar.gz")


def champion_class_offsets(state: dict[str, Any]) -> list[float] | None:
    """The per-class score offsets recorded with a multiclass champion (a recalibration), ``None`` when none."""
    value = (state.get("champion") or {}).get("classOffsets")
    if isinstance(value, list) and value and all(isinstance(v, int | float) and math.isfinite(float(v))
                                                 for v in value):
        return [float(v) for v in value]
    return None


def champion_decision_threshold(state: dict[str, Any]) -> float | None:
    """The decision threshold recorded with the champion (set by a recalibration), ``None`` when it has none."""
    value = (state.get("champion") or {}).get("decisionThreshold")
    if isinstance(value, int | float) and math.isfinite(float(value)):
        return float(value)
    return None


def crossfit_from_decision(cfg: ModelConfig, recal: Any) -> dict[str, Any] | None:
    """The recalibration's cross-fitted fold from ``decision.recalibration.crossFit`` (written by ``decide``):
    ``{"joint": (k, k, k) counts, "rows", "deploy": {...}, ...}``; ``None`` when there is none. A malformed one
    is an ``InvalidEvent`` naming the field (it would change the test)."""
    if not isinstance(recal, dict) or recal.get("status") != "FITTED" or recal.get("crossFit") is None:
        return None
    fold = recal["crossFit"]
    field = "decision.recalibration.crossFit"
    k = 2 if cfg.problem_type == "binary" else len(cfg.labels or [])
    if not isinstance(fold, dict) or not isinstance(fold.get("cells"), list):
        raise InvalidEvent(f"{field} must be an object with 'cells' ([[cell index, count], ...])", field=field)
    joint = np.zeros(k**3, dtype=np.int64)
    for cell in fold["cells"]:
        ok = isinstance(cell, list) and len(cell) == 2 and all(
            isinstance(v, int) and not isinstance(v, bool) for v in cell)
        if not ok or not 0 <= cell[0] < k**3 or cell[1] < 0:
            raise InvalidEvent(f"{field}.cells: every cell must be [index in [0, {k**3}), count >= 0], got "
                               f"{str(cell)[:80]}", field=f"{field}.cells")
        joint[cell[0]] += cell[1]
    raw = fold.get("deploy")
    deploy: dict[str, Any] = raw if isinstance(raw, dict) else {}
    out: dict[str, Any] = {"joint": joint.reshape(k, k, k), "rows": int(joint.sum()),
                           "windows": fold.get("windows"), "deploy": {}}
    if isinstance(deploy.get("threshold"), int | float) and math.isfinite(float(deploy["threshold"])):
        out["deploy"]["threshold"] = float(deploy["threshold"])
    offsets = champion_class_offsets({"champion": {"classOffsets": deploy.get("classOffsets")}})
    if offsets is not None and len(offsets) == k:
        out["deploy"]["classOffsets"] = offsets
    return out


def _decision_inputs(decision: Any) -> tuple[list[str] | None, float | None, list[float] | None]:
    """``(breached metrics, recalibration threshold, recalibration class offsets)`` from the decision the state
    machine passes (absent in a comparison requested without one: the primary metric only, no recalibration)."""
    if not isinstance(decision, dict):
        return None, None, None
    breached = decision.get("breachedMetrics")
    breached = [str(m) for m in breached] if isinstance(breached, list) else None
    recal = decision.get("recalibration")
    threshold, offsets = None, None
    if isinstance(recal, dict) and recal.get("status") == "FITTED" and isinstance(recal.get("threshold"), int | float):
        threshold = float(recal["threshold"])
    if isinstance(recal, dict) and recal.get("status") == "FITTED":
        offsets = champion_class_offsets({"champion": {"classOffsets": recal.get("classOffsets")}})
    return breached, threshold, offsets


def run_comparison(
    settings: Settings, cfg: ModelConfig, run: RunRef, evaluation: dict[str, Any], training: dict[str, Any],
    *, decision: Any = None, champion_threshold: float | None = None, champion_offsets: list[float] | None = None,
) -> dict[str, Any]:
    """Champion vs challenger (and the recalibrated champion) on the same labelled rows; result to S3;
    ``Challenger Evaluated`` published."""
    breached, recalibration_threshold, recalibration_offsets = _decision_inputs(decision)
    crossfit = crossfit_from_decision(cfg, decision.get("recalibration") if isinstance(decision, dict) else None)
    dataset_uri = str(evaluation["datasetUri"])
    dataset = champion_rows(settings, cfg, run, dataset_uri)
    tar_uri = _challenger_uri(cfg, training)
    try:
        ids, chall_scores, bad = read_challenger_predictions(get_bytes(tar_uri))
    except FileNotFoundError:
        raise DataFormatError(f"the training job output {tar_uri} does not exist", uri=str(tar_uri)) from None
    except ValueError as exc:
        raise DataFormatError(f"{tar_uri}: {exc}", uri=str(tar_uri)) from None
    pos = {rid: i for i, rid in enumerate(ids.tolist())}
    rows = [(i, pos[rid]) for i, rid in enumerate(dataset.ids.tolist()) if rid in pos]
    di = np.asarray([r[0] for r in rows], dtype=np.intp)
    ci = np.asarray([r[1] for r in rows], dtype=np.intp)
    champion = dataset.scores[di]
    challenger = chall_scores[ci]
    if champion.ndim != challenger.ndim or (champion.ndim == 2 and champion.shape[1] != challenger.shape[1]):
        raise DataFormatError(
            f"the challenger has {1 if challenger.ndim == 1 else challenger.shape[1]} score column(s), the champion "
            f"{1 if champion.ndim == 1 else champion.shape[1]}: they cannot be compared", uri=str(tar_uri))
    keep = np.all(np.isfinite(champion.reshape(len(di), -1)), axis=1)
    doc = compare_models(cfg, dataset.y_true[di][keep], champion[keep], challenger[keep], breached=breached,
                         champion_threshold=champion_threshold, recalibration_threshold=recalibration_threshold,
                         champion_offsets=champion_offsets, recalibration_offsets=recalibration_offsets,
                         recalibration_crossfit=crossfit)
    doc.update(
        modelId=run.model_id, runId=run.run_id, requireApproval=bool(cfg.promotion.require_approval),
        alignment={"datasetRows": int(dataset.ids.size), "challengerRows": int(ids.size),
                   "challengerBadRows": bad, "aligned": int(keep.sum()),
                   "championMissingScore": int((~keep).sum()),
                   "challengerUnmatched": int(ids.size - len(rows))},
        datasetUri=dataset_uri, challengerPredictionsUri=str(tar_uri),
        jobName=training.get("jobName"), modelArtifacts=training.get("modelArtifacts"),
    )
    result_uri = put_json(run.prefix(settings.bucket).child("comparison.json"), doc)
    summary = {k: doc[k] for k in ("promote", "requireApproval", "metric", "champion", "challenger", "delta",
                                   "minImprovement", "sampleSize", "pairedTest", "reasons", "remedy",
                                   "breachedMetrics", "mustImprove", "mustNotRegress")}
    summary["verdicts"] = {m: t["verdict"] for m, t in doc["metrics"].items()}
    for key in ("decisionThreshold", "classOffsets"):
        if doc.get(key) is not None:
            summary[key] = doc[key]
    summary["resultUri"] = result_uri
    summary = sanitize(summary)
    publish(settings, "Challenger Evaluated", {"modelId": run.model_id, "runId": run.run_id, **summary,
                                               "jobName": training.get("jobName")})
    metrics.add_dimension(name="modelId", value=run.model_id)
    metrics.add_metric(name="ChallengerDelta", unit=MetricUnit.NoUnit,
                       value=doc["delta"] if math.isfinite(doc["delta"]) else 0.0)
    metrics.add_metric(name="ChallengerPromoted", unit=MetricUnit.Count, value=int(doc["promote"]))
    return summary
