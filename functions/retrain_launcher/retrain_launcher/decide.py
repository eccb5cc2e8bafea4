"""The retrain launcher's ``decide`` action: the retrain policy, the training channels and the recalibration fit."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from driftline_common.aws import client
from driftline_common.config import ModelConfig, RetrainPolicy
from driftline_common.contracts import parse_event
from driftline_common.contracts.retrain_launcher import Decide
from driftline_common.datasets import parse_dataset_csv, read_dataset_text
from driftline_common.errors import DataFormatError, InvalidEvent, RetrainInProgress
from driftline_common.events import publish
from driftline_common.observability import logger
from driftline_common.s3io import S3Uri
from driftline_common.settings import Settings
from driftline_common.store import RunStore, iso, parse_iso, utcnow

from retrain_launcher import policy as retrain_policy
from retrain_launcher import signals
from retrain_launcher.common import (
    HISTORY_LIMIT,
    RETRAIN_HISTORY_SIZE,
    Stores,
    lock_id,
)
from retrain_launcher.policy_sensitivity import score_psi
from retrain_launcher.recalibration import binary_rows as recalibration_rows
from retrain_launcher.recalibration import (
    crossfit_class_offsets,
    crossfit_threshold,
    fit_class_offsets,
    fit_prior_threshold,
    fit_threshold,
    multiclass_rows,
)
from retrain_launcher.training import build_training_request, evaluation_csv, training_csv
from retrain_launcher.tuning import build_tuning_request


def _training_sources(history: list[dict[str, Any]], *, run_id: str, start: datetime, days: int,
                      since: datetime | None = None) -> list[str]:
    """Dataset URIs of the completed windows in ``[start - days, start)`` (and starting at/after ``since``), one
    per window (the newest run)."""
    earliest = start - timedelta(days=days)
    if since is not None and since > earliest:
        earliest = since
    chosen: dict[str, dict[str, Any]] = {}
    for run in history:
        window = run.get("window") or {}
        if run.get("runId") == run_id or run.get("status") != "SUCCEEDED" or not run.get("datasetUri"):
            continue
        if not window.get("start") or not window.get("end"):
            continue
        if parse_iso(window["start"]) < earliest or parse_iso(window["end"]) > start:
            continue
        kept = chosen.get(window["end"])
        if kept is None or str(run.get("startedAt", "")) > str(kept.get("startedAt", "")):
            chosen[window["end"]] = run
    return [chosen[k]["datasetUri"] for k in sorted(chosen, key=parse_iso)]


def _put_text(uri: S3Uri, text: str) -> None:
    client("s3").put_object(Bucket=uri.bucket, Key=uri.key, Body=text.encode(), ContentType="text/csv")


def read_sources(sources: list[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """``([(uri, text)], missing)``: the labelled dataset CSVs that still exist, and the URIs that do not."""
    datasets, missing = [], []
    for uri in sources:
        try:
            datasets.append((uri, read_dataset_text(uri)))
        except FileNotFoundError:
            missing.append(uri)
    if missing:
        logger.warning("training datasets no longer exist", extra={"missing": missing})
    return datasets, missing


def prepare_training_data(
    cfg: ModelConfig, *, run_id: str, sources: list[str], current_dataset_uri: str | None,
    read: tuple[list[tuple[str, str]], list[str]] | None = None,
) -> dict[str, Any]:
    """Write the ``train`` and ``evaluation`` channels under ``<trainingDataUri>/<runId>/``; return their URIs."""
    features = [f.name for f in cfg.features]
    base = S3Uri.parse(cfg.training.training_data_uri).child(run_id)
    datasets, missing = read if read is not None else read_sources(sources)
    train_text, n_train = training_csv(datasets, features)
    n_eval, eval_text = 0, ""
    if current_dataset_uri:
        try:
            eval_text, n_eval = evaluation_csv(
                current_dataset_uri, read_dataset_text(current_dataset_uri), features
            )
        except FileNotFoundError:
            logger.warning("the window's dataset does not exist", extra={"datasetUri": current_dataset_uri})
    out = {
        "trainUri": str(base.child("train")) + "/",
        "evaluationUri": str(base.child("evaluation")) + "/",
        "trainRows": n_train,
        "evaluationRows": n_eval,
        "sources": len(datasets),
        "missingSources": len(missing),
    }
    if n_train and n_eval:
        _put_text(base.child("train", "train.csv"), train_text)
        _put_text(base.child("evaluation", "evaluation.csv"), eval_text)
    return out


def decide(event: Decide | Mapping[str, Any], stores: Stores, settings: Settings, *, now: datetime | None = None
           ) -> dict[str, Any]:
    """The ``decide`` action on its parsed contract (a plain event is parsed first: ``InvalidEvent`` naming the
    field)."""
    now = now or utcnow()
    ev = event if isinstance(event, Decide) else parse_event({"action": "decide", **event}, Decide)
    model_id, run_id = ev.run.model_id, ev.run.run_id
    start, end = ev.run.window.start, ev.run.window.end
    evaluation = dict(ev.assessment.evaluation or {})
    drift = dict(ev.assessment.drift or {})
    # the whole assessment as the state machine passed it (the monitor step's result included)
    assessment = {**(ev.assessment.model_extra or {}), "evaluation": evaluation, "drift": drift,
                  "monitor": ev.assessment.monitor}

    cfg = stores.models.get_config(model_id)
    policy = cfg.retrain_policy
    state = stores.models.get_state(model_id)
    history = read_history(stores.runs, model_id, policy, state, run_id=run_id, window_start=start, window_end=end)
    own = [r for r in state.get("retrains", []) if r.get("runId") == run_id]  # a retried decide
    policy_state = {**state, "retrains": [r for r in state.get("retrains", []) if r.get("runId") != run_id]}
    score_drift = None
    if drift.get("detected") and "drift" in policy.triggers and policy.score_drift_psi is not None:
        score_drift = measure_score_drift(cfg, state, history, run_id=run_id, window_uri=evaluation.get("datasetUri"))
    decision = retrain_policy.decide(
        policy, evaluation=signals.with_bias_breach(cfg, evaluation, assessment), drift=drift, history=history,
        state=policy_state, window_start=start, window_end=end, now=now, run_id=run_id, score_drift=score_drift,
    )
    decision = signals.annotate(decision, cfg, assessment, state, now)  # DATA_QUALITY, OPERATIONAL_BREACH, BIAS

    training: dict[str, Any] | None = None
    tuning: dict[str, Any] | None = None
    data: dict[str, Any] | None = None
    if decision.retrain:
        try:
            stores.locks.acquire(lock_id(model_id), run_id, ttl_seconds=policy.lock_ttl_minutes * 60, now=now)
        except RetrainInProgress as exc:
            decision = retrain_policy.with_lock_held(decision, exc.details.get("owner"))
    recalibration: dict[str, Any] | None = None
    if decision.retrain:
        sources = _training_sources(history, run_id=run_id, start=start, days=policy.training_window_days)
        read = read_sources(sources)
        data = prepare_training_data(
            cfg, run_id=run_id, sources=sources, current_dataset_uri=evaluation.get("datasetUri"), read=read,
        )
        breached = decision.details.get("breachedMetrics") or []
        if retrain_policy.wants_recalibration(cfg.problem_type, cfg.promotion.recalibration, breached):
            shift = decision.details.get("labelShift") or {}
            recalibration = fit_recalibration(cfg, state, history, run_id=run_id, start=start, read=read,
                                              breached=breached, window_uri=evaluation.get("datasetUri"),
                                              shift_since=parse_iso(shift["since"]) if shift.get("since") else None)
        if not data["trainRows"] or not data["evaluationRows"]:
            stores.locks.release(lock_id(model_id), run_id)
            decision = retrain_policy.with_no_training_data(decision)
    if decision.retrain and data is not None:
        role = cfg.training.role_arn or settings.sagemaker_role_arn
        if not role:
            stores.locks.release(lock_id(model_id), run_id)
            raise InvalidEvent(
                f"no SageMaker role for {model_id!r}: set training.roleArn in the config or SAGEMAKER_ROLE_ARN",
                modelId=model_id,
            )
        training = build_training_request(
            cfg, run_id=run_id, role_arn=role, train_uri=data["trainUri"], evaluation_uri=data["evaluationUri"]
        )
        if cfg.training.tuning is not None:  # docs/tuning.md: the best trial becomes the challenger
            tuning = build_tuning_request(cfg, training, run_id=run_id)
        if not own:
            entry = {"runId": run_id, "startedAt": iso(now), "jobName": training["TrainingJobName"],
                     **({"tuningJobName": tuning["HyperParameterTuningJobName"]} if tuning else {}),
                     "trigger": decision.details.get("trigger", "performance")}
            state["retrains"] = [*state.get("retrains", []), entry][-RETRAIN_HISTORY_SIZE:]
            stores.models.put_state(model_id, state)

    summary = {**decision.to_dict(), "policy": policy.model_dump(mode="json", by_alias=True)}
    if data is not None:
        summary["data"] = data
    if training and recalibration is not None:
        summary["recalibration"] = recalibration
    stores.runs.update(
        model_id, run_id,
        decision={k: v for k, v in summary.items() if k != "policy"},
        trainingJobName=training["TrainingJobName"] if training and not tuning else None,  # tuned: known at its end
        **({"tuningJobName": tuning["HyperParameterTuningJobName"]} if tuning else {}),
        intervals=evaluation.get("intervals") or {},  # the bounds later windows pool with (policy.pooled_breaches)
        **({"classCounts": evaluation["classCounts"]} if evaluation.get("classCounts") is not None else {}),
    )
    detail = {"modelId": model_id, "runId": run_id, **{k: v for k, v in summary.items() if k != "data"}}
    publish(settings, "Retrain Decision", detail)
    if training:
        publish(settings, "Retrain Started", {
            "modelId": model_id, "runId": run_id, "trainingJobName": None if tuning else training["TrainingJobName"],
            "reasons": decision.reasons, "trainRows": data["trainRows"] if data else 0,
            **({"tuningJobName": tuning["HyperParameterTuningJobName"]} if tuning else {}),
        })
    logger.info("retrain decision", extra={"modelId": model_id, "runId": run_id, "decision": decision.to_dict()})
    return {**summary, "training": training, **({"tuning": tuning} if tuning else {})}


def read_history(runs: RunStore, model_id: str, policy: RetrainPolicy, state: Mapping[str, Any], *, run_id: str,
                 window_start: datetime, window_end: datetime) -> list[dict[str, Any]]:
    """The run records the decision reads: the model's ``HISTORY_LIMIT`` newest runs, or of those only the runs
    whose window ended after :func:`~retrain_launcher.policy.history_since` when they hold every window the
    decision reads (:func:`~retrain_launcher.policy.history_suffices`; else a second read takes them all).

    Either way the decision is the one the whole history gives; the first read keeps a run's cost from growing
    with the model's age (the filter is applied by DynamoDB, to the same runs)."""
    since = retrain_policy.history_since(policy, state, window_start)
    if since is not None:
        recent = runs.list(model_id, limit=HISTORY_LIMIT, window_end_after=since)
        if retrain_policy.history_suffices(policy, recent, run_id=run_id, window_end=window_end):
            return recent
    return runs.list(model_id, limit=HISTORY_LIMIT)


def measure_score_drift(cfg: ModelConfig, state: dict[str, Any], history: list[dict[str, Any]], *, run_id: str,
                        window_uri: str | None) -> dict[str, Any] | None:
    """The PSI of the champion's scores on this window against its first labelled window since it became champion
    in which no drift was detected (the population its baseline describes; :mod:`retrain_launcher.policy_sensitivity`);
    ``None`` when there is no such window or either is unreadable (no gate)."""
    first = score_drift_reference(state, history, run_id=run_id)
    reference_text = _window_text(str(first["datasetUri"])) if first else None
    current_text = _window_text(window_uri)
    if reference_text is None or current_text is None:
        return None
    try:
        measured = score_psi(parse_dataset_csv(cfg, reference_text).scores, parse_dataset_csv(cfg, current_text).scores)
    except ValueError as exc:
        logger.warning("score drift not measured: unreadable window", extra={"error": str(exc)[:300]})
        return None
    if measured is None or first is None:
        return None
    return {**measured, "referenceRunId": first.get("runId"), "threshold": cfg.retrain_policy.score_drift_psi}


def _model_since(state: Mapping[str, Any]) -> datetime | None:
    """Since when the champion's model has served (its ``modelSince``: a recalibration keeps the model and moves
    ``since``), else ``since``; ``None`` when neither is known."""
    champion = state.get("champion") or {}
    since_raw = champion.get("modelSince") or champion.get("since")
    return parse_iso(since_raw) if isinstance(since_raw, str) else None


def score_drift_reference(state: Mapping[str, Any], history: list[dict[str, Any]], *, run_id: str
                          ) -> dict[str, Any] | None:
    """The run of the champion's first labelled window without detected drift since it became champion (its
    ``modelSince``, else ``since``; every window when neither is known), or ``None``."""
    since = _model_since(state)
    first: dict[str, Any] | None = None
    for run in history:
        window = run.get("window") or {}
        if run.get("runId") == run_id or run.get("status") != "SUCCEEDED" or not run.get("datasetUri"):
            continue
        if run.get("driftDetected") or not window.get("start") or (
                since is not None and parse_iso(window["start"]) < since):
            continue
        if first is None or parse_iso(window["start"]) < parse_iso(first["window"]["start"]):
            first = run
    return first


def fit_recalibration(cfg: ModelConfig, state: dict[str, Any], history: list[dict[str, Any]], *, run_id: str,
                      start: datetime, read: tuple[list[tuple[str, str]], list[str]], breached: list[str],
                      window_uri: str | None = None, shift_since: datetime | None = None) -> dict[str, Any]:
    """The recalibration candidate: a decision threshold fitted on the earlier labelled windows the retrain
    trains on, limited to those the current champion model scored (never the current window, which both
    remedies are judged on). ``{"status": "FITTED", "threshold", ...}`` or ``{"status": "NOT_FITTED", ...}``.
    With the current window's labelled rows (``window_uri``) it also carries ``crossFit``: the mirror fold of a
    cross-fitted test (fitted on the window, applied to the earlier rows), which the comparison pools.
    ``shift_since``: the start of the first window after a detected label shift (``decision.labelShift``); the
    fit then uses every window the champion scored since the shift (the new population, more rows than
    ``trainingWindowDays`` may give) and no window before it."""
    champion = state.get("champion") or {}
    current = float(champion.get("decisionThreshold") or cfg.decision_threshold)
    if shift_since is not None and shift_since >= start:  # the shift is in the current window alone
        reason = "the label shift is in the current window alone: no labelled rows since it to fit on"
        if cfg.problem_type == "multiclass":
            return {"status": "NOT_FITTED", "reason": reason, "previousClassOffsets": champion.get("classOffsets")}
        return {"status": "NOT_FITTED", "reason": reason, "previousThreshold": current}
    chosen = recalibration_sources(state, history, run_id=run_id, start=start,
                                   days=cfg.retrain_policy.training_window_days, shift_since=shift_since)
    have = dict(read[0])
    extra = [uri for uri in chosen if uri not in have]
    if extra:
        have.update(read_sources(extra)[0])
    texts = [have[uri] for uri in chosen if uri in have]
    window_text = _window_text(window_uri)
    if cfg.problem_type == "multiclass":
        return _fit_multiclass(cfg, champion, texts, window_text)
    try:
        y, scores = recalibration_rows(cfg, texts)
    except ValueError as exc:
        return {"status": "NOT_FITTED", "reason": f"unreadable labelled window: {exc}"[:300],
                "previousThreshold": current}
    # after a detected label shift: the prior correction (one intercept fitted by likelihood) rather than the
    # error-counting cut, whose threshold is several times noisier on a few hundred rows (docs/decisions.md). The
    # intercept is fitted on the model's own scores, so it is the whole offset from the population the model was
    # trained for: it corrects the configured threshold (what the model version served before any
    # recalibration), not a threshold an earlier correction already moved
    base = float(cfg.decision_threshold)
    fit = fit_prior_threshold(cfg, y, scores, breached, base) if shift_since is not None else None
    prior = fit is not None
    if fit is None:
        fit = fit_threshold(cfg, y, scores, breached)
    if fit is None:
        return {"status": "NOT_FITTED", "reason": "too few labelled rows scored by the champion before the window",
                "rows": int(y.size), "previousThreshold": current}
    out = {"status": "FITTED", **fit, "previousThreshold": current, "windows": len(texts)}
    if window_text is not None:
        _add_crossfit(out, len(texts), lambda: crossfit_threshold(
            cfg, (y, scores), recalibration_rows(cfg, [window_text]), breached, current, prior=prior, base=base))
    return out


def recalibration_sources(state: Mapping[str, Any], history: list[dict[str, Any]], *, run_id: str, start: datetime,
                          days: int, shift_since: datetime | None = None) -> list[str]:
    """The labelled windows a recalibration is fitted on (:func:`fit_recalibration`): the training sources of the
    last ``days`` the champion model scored (since its ``modelSince``, else ``since``); after a label shift
    (``shift_since`` before the window) every such window since the shift."""
    since = _model_since(state)
    if shift_since is not None and shift_since < start:
        since = shift_since if since is None else max(since, shift_since)
        days = max(days, (start - shift_since).days + 1)
    return _training_sources(history, run_id=run_id, start=start, days=days, since=since)


def _add_crossfit(out: dict[str, Any], windows: int, fold_of: Callable[[], Mapping[str, Any] | None]) -> None:
    """Record the cross-fitted fold ``fold_of`` computes on the current window (none when the window is unreadable)."""
    try:
        fold = fold_of()
    except ValueError as exc:
        logger.warning("no cross-fitted fold: unreadable window", extra={"error": str(exc)[:300]})
        return
    if fold is not None:
        out["crossFit"] = {**fold, "windows": windows}


def _window_text(uri: str | None) -> str | None:
    """The current window's labelled dataset CSV (``None`` when there is none)."""
    if not uri:
        return None
    try:
        return read_dataset_text(uri)
    except (FileNotFoundError, DataFormatError, ValueError):
        return None


def _fit_multiclass(cfg: ModelConfig, champion: Mapping[str, Any], texts: list[str], window_text: str | None = None
                    ) -> dict[str, Any]:
    """The multiclass recalibration candidate: per-class score offsets fitted on the champion's earlier windows."""
    previous = champion.get("classOffsets")
    try:
        y, scores = multiclass_rows(cfg, texts)
    except ValueError as exc:
        return {"status": "NOT_FITTED", "reason": f"unreadable labelled window: {exc}"[:300],
                "previousClassOffsets": previous}
    fit = fit_class_offsets(y, scores)
    if fit is None:
        return {"status": "NOT_FITTED", "reason": "too few labelled rows of every class scored by the champion "
                "before the window", "rows": int(y.size), "previousClassOffsets": previous}
    out = {"status": "FITTED", **fit, "previousClassOffsets": previous, "windows": len(texts)}
    if window_text is not None:
        _add_crossfit(out, len(texts), lambda: crossfit_class_offsets(
            (y, scores), multiclass_rows(cfg, [window_text]), previous))
    return out
