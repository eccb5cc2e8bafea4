"""The retrain launcher's actions: run bookkeeping around the pipeline and the retrain decision.

See ``docs/contracts.md`` for each action's input and output. Every action is idempotent under the state
machine's retries: ``start_run`` claims the trigger once, ``decide`` re-acquires its own lock and records its
retrain once, ``complete`` and ``fail`` overwrite the same fields.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from driftline_common.aws import client
from driftline_common.config import ModelConfig, parse_config
from driftline_common.datasets import capture_listing
from driftline_common.edge import check_run_request, failure_recordable, registered_config_item
from driftline_common.errors import InvalidEvent, RetrainInProgress, RunNotFound
from driftline_common.events import publish
from driftline_common.numbers import dumps
from driftline_common.observability import logger
from driftline_common.s3io import S3Uri, get_bytes
from driftline_common.settings import Settings
from driftline_common.store import LockStore, ModelStore, RunStore, iso, parse_iso, retrain_lock_id, utcnow

from retrain_launcher import policy as retrain_policy
from retrain_launcher.recalibration import binary_rows as recalibration_rows
from retrain_launcher.recalibration import fit_threshold
from retrain_launcher.training import build_training_request, evaluation_csv, training_csv

TRIGGER_TYPES = ("manual", "schedule", "ground_truth", "alarm", "api")
#: how long a trigger id is remembered (EventBridge retries for at most 24 h; the margin is generous)
TRIGGER_CLAIM_TTL_SECONDS = 7 * 24 * 3600
HISTORY_LIMIT = 500
RETRAIN_HISTORY_SIZE = 50
MAX_REASON_CHARS = 2000
#: the run status of a run whose endpoint switched but whose bookkeeping after the switch failed for good
DEPLOYED_BOOKKEEPING_FAILED = "DEPLOYED_BOOKKEEPING_FAILED"
#: the outcome of a run whose window held no row at all (a broken Data Capture feed must not look healthy)
NO_DATA = "no_data"
#: how far back the empty-window streak is counted
EMPTY_STREAK_LIMIT = 100


def lock_id(model_id: str) -> str:
    return retrain_lock_id(model_id)


@dataclass(frozen=True)
class Stores:
    models: ModelStore
    runs: RunStore
    locks: LockStore

    @classmethod
    def from_settings(cls, settings: Settings) -> Stores:
        return cls(ModelStore(settings), RunStore(settings), LockStore(settings))


# ---------------------------------------------------------------------------------------------- helpers
def _mapping(event: Mapping[str, Any], key: str, *, required: bool = True) -> dict[str, Any]:
    value = event.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidEvent(f"'{key}' must be a JSON object, got {type(value).__name__}", field=key)
    return dict(value)


def _string(event: Mapping[str, Any], key: str) -> str:
    value = event.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidEvent(f"'{key}' must be a non-empty string, got {value!r}", field=key)
    return value


def _time(value: Any, what: str) -> datetime:
    if not isinstance(value, str):
        raise InvalidEvent(f"{what} must be an ISO-8601 time, got {value!r}", field=what)
    try:
        return parse_iso(value)
    except (ValueError, OverflowError):  # OverflowError: year 1 with a positive offset
        raise InvalidEvent(f"{what} must be an ISO-8601 time, got {value!r}", field=what) from None


def _run_ids(run: Mapping[str, Any]) -> tuple[str, str]:
    return _string(run, "modelId"), _string(run, "runId")


# ---------------------------------------------------------------------------------------------- start_run
def parse_request(request: Mapping[str, Any], *, run_id: str, started_at: datetime) -> dict[str, Any]:
    """Normalise the pipeline input (a direct request or a ``Run Requested`` envelope).

    Returns ``{"modelId", "trigger": {"type", "id", "time"}, "windowEnd"}``. For an envelope the trigger id is
    the detail's ``trigger.id`` when the publisher set one (the source event, e.g. a schedule tick), else the
    envelope's own ``id`` — so a redelivery of either maps to the same trigger. A direct request without a
    trigger is a manual run identified by its run id.
    """
    if "detail-type" in request:
        if request.get("detail-type") != "Run Requested":
            raise InvalidEvent(
                f"expected a 'Run Requested' event, got detail-type {request.get('detail-type')!r}",
                field="detail-type",
            )
        body = _mapping(request, "detail")
        trigger = _mapping(body, "trigger", required=False)
        trigger = {
            "type": trigger.get("type", "manual"),
            "id": trigger.get("id") or _string(request, "id"),
            "time": trigger.get("time") or request.get("time") or iso(started_at),
        }
    else:
        body = dict(request)
        trigger = _mapping(body, "trigger", required=False)
        if not trigger:
            trigger = {"type": "manual", "id": run_id, "time": iso(started_at)}
    model_id = _string(body, "modelId")
    if trigger.get("type") not in TRIGGER_TYPES:
        raise InvalidEvent(f"trigger.type must be one of {TRIGGER_TYPES}, got {trigger.get('type')!r}",
                           field="trigger.type")
    if not isinstance(trigger.get("id"), str) or not trigger["id"]:
        raise InvalidEvent(f"trigger.id must be a non-empty string, got {trigger.get('id')!r}", field="trigger.id")
    trigger_time = _time(trigger.get("time") or iso(started_at), "trigger.time")
    window_end = body.get("windowEnd")
    return {
        "modelId": model_id,
        "trigger": {"type": trigger["type"], "id": trigger["id"], "time": iso(trigger_time)},
        "windowEnd": iso(_time(window_end, "windowEnd")) if window_end is not None else None,
    }


def window_of(cfg: ModelConfig, *, trigger_time: datetime, window_end: datetime | None) -> tuple[datetime, datetime]:
    """``[end - windowHours, end)``; ``end`` = ``window_end`` or the trigger time floored to the hour."""
    end = window_end or trigger_time.replace(minute=0, second=0, microsecond=0)
    return end - timedelta(hours=cfg.window_hours), end


def start_run(event: Mapping[str, Any], stores: Stores) -> dict[str, Any]:
    run_id = _string(event, "runId")
    started_at = _time(event["startedAt"], "startedAt") if event.get("startedAt") else utcnow()
    check_run_request(event.get("request"))  # InvalidEvent: model id, windowEnd and trigger at the edge
    req = parse_request(_mapping(event, "request"), run_id=run_id, started_at=started_at)
    model_id = req["modelId"]
    item = registered_config_item(stores.models, model_id)  # ModelNotFound, counted
    cfg = parse_config(item["config"], model_id=model_id)  # InvalidModelConfig
    window_end = parse_iso(req["windowEnd"]) if req["windowEnd"] else None
    start, end = window_of(cfg, trigger_time=parse_iso(req["trigger"]["time"]), window_end=window_end)
    run = {
        "runId": run_id,
        "modelId": model_id,
        "problemType": cfg.problem_type,
        "window": {"start": iso(start), "end": iso(end)},
        "trigger": req["trigger"],
        "duplicate": False,
        "configVersion": int(item.get("version", 0)),
    }
    run.update(sharding_of(cfg, start, end))
    owner = stores.locks.claim_once(
        f"trigger#{model_id}#{req['trigger']['id']}", run_id, ttl_seconds=TRIGGER_CLAIM_TTL_SECONDS
    )
    if owner != run_id:
        logger.info("duplicate trigger", extra={"modelId": model_id, "trigger": req["trigger"], "handledBy": owner})
        return {**run, "duplicate": True, "duplicateOf": owner}
    stores.runs.start(
        model_id, run_id,
        startedAt=iso(started_at), window=run["window"], trigger=run["trigger"], problemType=cfg.problem_type,
        configVersion=run["configVersion"], executionArn=event.get("executionArn"),
    )
    logger.info("run started", extra={"modelId": model_id, "runId": run_id, "window": run["window"]})
    return run


def sharding_of(cfg: ModelConfig, start: datetime, end: datetime) -> dict[str, Any]:
    """``{"sharded": bool}`` and, when sharded, where the Distributed Map lists the capture and its batch size.

    ``{"sharded": False}`` when the config sets no ``sharding.thresholdBytes`` (the flag is always present so
    the state machine's Choice reads a value rather than probing for a missing path). Sharded when the window's
    capture objects hold more than ``sharding.thresholdBytes`` bytes (sizes from ListObjectsV2). Multiclass
    models are never sharded: their ROC AUC and log loss have no mergeable state.
    """
    if cfg.sharding is None or cfg.sharding.threshold_bytes is None:
        return {"sharded": False}
    listing = capture_listing(cfg, start, end)
    sharded = listing["bytes"] > cfg.sharding.threshold_bytes and cfg.problem_type != "multiclass"
    if not sharded:
        return {"sharded": False}
    return {"sharded": True, "shards": {"bucket": listing["bucket"], "prefix": listing["prefix"],
                                        "objects": listing["objects"], "bytes": listing["bytes"],
                                        "filesPerShard": cfg.sharding.files_per_shard}}


# ---------------------------------------------------------------------------------------------- decide
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
            datasets.append((uri, get_bytes(uri).decode("utf-8")))
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
                current_dataset_uri, get_bytes(current_dataset_uri).decode("utf-8"), features
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


def decide(event: Mapping[str, Any], stores: Stores, settings: Settings, *, now: datetime | None = None
           ) -> dict[str, Any]:
    now = now or utcnow()
    run = _mapping(event, "run")
    model_id, run_id = _run_ids(run)
    window = _mapping(run, "window")
    start, end = _time(window.get("start"), "run.window.start"), _time(window.get("end"), "run.window.end")
    assessment = _mapping(event, "assessment")
    evaluation = _mapping(assessment, "evaluation", required=False)
    drift = _mapping(assessment, "drift", required=False)

    cfg = stores.models.get_config(model_id)
    policy = cfg.retrain_policy
    history = stores.runs.list(model_id, limit=HISTORY_LIMIT)
    state = stores.models.get_state(model_id)
    own = [r for r in state.get("retrains", []) if r.get("runId") == run_id]  # a retried decide
    policy_state = {**state, "retrains": [r for r in state.get("retrains", []) if r.get("runId") != run_id]}
    decision = retrain_policy.decide(
        policy, evaluation=evaluation, drift=drift, history=history, state=policy_state,
        window_start=start, window_end=end, now=now, run_id=run_id,
    )

    training: dict[str, Any] | None = None
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
            recalibration = fit_recalibration(cfg, state, history, run_id=run_id, start=start, read=read,
                                              breached=breached)
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
        if not own:
            entry = {"runId": run_id, "startedAt": iso(now), "jobName": training["TrainingJobName"],
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
        trainingJobName=training["TrainingJobName"] if training else None,
    )
    detail = {"modelId": model_id, "runId": run_id, **{k: v for k, v in summary.items() if k != "data"}}
    publish(settings, "Retrain Decision", detail)
    if training:
        publish(settings, "Retrain Started", {
            "modelId": model_id, "runId": run_id, "trainingJobName": training["TrainingJobName"],
            "reasons": decision.reasons, "trainRows": data["trainRows"] if data else 0,
        })
    logger.info("retrain decision", extra={"modelId": model_id, "runId": run_id, "decision": decision.to_dict()})
    return {**summary, "training": training}


def fit_recalibration(cfg: ModelConfig, state: dict[str, Any], history: list[dict[str, Any]], *, run_id: str,
                      start: datetime, read: tuple[list[tuple[str, str]], list[str]], breached: list[str]
                      ) -> dict[str, Any]:
    """The recalibration candidate: a decision threshold fitted on the earlier labelled windows the retrain
    trains on, limited to those the current champion model scored (never the current window, which both
    remedies are judged on). ``{"status": "FITTED", "threshold", ...}`` or ``{"status": "NOT_FITTED", ...}``."""
    champion = state.get("champion") or {}
    current = float(champion.get("decisionThreshold") or cfg.decision_threshold)
    since_raw = champion.get("modelSince") or champion.get("since")
    since = parse_iso(since_raw) if isinstance(since_raw, str) else None
    allowed = set(_training_sources(history, run_id=run_id, start=start, days=cfg.retrain_policy.training_window_days,
                                    since=since))
    texts = [text for uri, text in read[0] if uri in allowed]
    try:
        y, scores = recalibration_rows(cfg, texts)
    except ValueError as exc:
        return {"status": "NOT_FITTED", "reason": f"unreadable labelled window: {exc}"[:300],
                "previousThreshold": current}
    fit = fit_threshold(cfg, y, scores, breached)
    if fit is None:
        return {"status": "NOT_FITTED", "reason": "too few labelled rows scored by the champion before the window",
                "rows": int(y.size), "previousThreshold": current}
    return {"status": "FITTED", **fit, "previousThreshold": current, "windows": len(texts)}


# ---------------------------------------------------------------------------------------------- approval
def request_approval(event: Mapping[str, Any], stores: Stores, settings: Settings, *, topic_arn: str | None,
                     now: datetime | None = None) -> dict[str, Any]:
    run = _mapping(event, "run")
    model_id, run_id = _run_ids(run)
    token = _string(event, "taskToken")
    comparison = _mapping(event, "comparison", required=False)
    compact = {k: comparison.get(k) for k in ("metric", "champion", "challenger", "delta", "sampleSize",
                                              "resultUri", "remedy", "decisionThreshold", "reasons")
               if k in comparison}
    stores.runs.update(
        model_id, run_id,
        approval={"status": "PENDING", "requestedAt": iso(now or utcnow()), "comparison": compact},
        approvalToken=token,
    )
    notified = False
    if topic_arn:
        message = {
            "modelId": model_id, "runId": run_id, "comparison": compact,
            "approve": f"POST /models/{model_id}/runs/{run_id}/approval with {{\"approved\": true|false}}",
        }
        client("sns").publish(
            TopicArn=topic_arn, Subject=f"Driftline: approval needed for {model_id}"[:100],
            Message=dumps(message, default=str),
        )
        notified = True
    return {"modelId": model_id, "runId": run_id, "notified": notified}


# ---------------------------------------------------------------------------------------------- complete
def _count(value: Any) -> int | None:
    """A record count from a summary: an int, or the sum of a ``{reason: count}`` map; ``None`` if neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, Mapping) and all(isinstance(v, int | float) for v in value.values()):
        return int(sum(value.values()))
    return None


def window_is_empty(evaluation: Mapping[str, Any], drift: Mapping[str, Any]) -> bool:
    """No row at all in the window: nothing captured (good or bad) by the drift checker, nothing joined, unlabelled
    or bad in the evaluation. A window with captured rows but no labels yet is not empty (its labels are late)."""
    counts = [_count(drift.get("sampleSize")), _count(drift.get("badRecords")),
              _count(evaluation.get("sampleSize")), _count(evaluation.get("unlabelled")),
              _count(evaluation.get("badRecords"))]
    return bool(evaluation) and bool(drift) and all(c == 0 for c in counts)


def empty_window_streak(history: list[dict[str, Any]], run_id: str) -> int:
    """How many windows in a row, this one included, held no data (runs newest first; failed runs are skipped)."""
    streak = 1
    for run in history:
        if run.get("runId") == run_id or run.get("status") != "SUCCEEDED":
            continue
        if run.get("outcome") != NO_DATA:
            break
        streak += 1
    return streak


def outcome_of(decision: Mapping[str, Any], state: Mapping[str, Any], *, empty: bool = False) -> str:
    """``no_data | healthy | retrain_skipped | champion_kept | deployed | rolled_back | rejected``.

    ``empty``: the window held no row at all (:func:`window_is_empty`): ``no_data`` unless it retrained.
    """
    if not decision.get("retrain") and empty:
        return NO_DATA
    if not decision.get("retrain"):
        return "healthy" if retrain_policy.HEALTHY in decision.get("reasons", []) else "retrain_skipped"
    approval = state.get("approval")
    if isinstance(approval, Mapping) and approval.get("approved") is False:
        return "rejected"
    status = (state.get("deployment") or {}).get("status")
    if status == "InService":
        return "deployed"
    if status == "RolledBack":
        return "rolled_back"
    return "champion_kept"


def complete(event: Mapping[str, Any], stores: Stores, settings: Settings, *, now: datetime | None = None
             ) -> dict[str, Any]:
    now = now or utcnow()
    run = _mapping(event, "run")
    model_id, run_id = _run_ids(run)
    assessment = _mapping(event, "assessment", required=False)
    evaluation = _mapping(assessment, "evaluation", required=False)
    drift = _mapping(assessment, "drift", required=False)
    decision = _mapping(event, "decision", required=False)
    pipeline = _mapping(event, "state", required=False)
    training = pipeline.get("training") or None
    comparison = pipeline.get("comparison") or None
    deployment = pipeline.get("deployment") or None
    outcome = outcome_of(decision, pipeline, empty=window_is_empty(evaluation, drift))

    if outcome == "deployed" and deployment:
        stores.models.record_champion(model_id, {
            "modelName": deployment.get("modelName"), "endpointConfigName": deployment.get("endpointConfigName"),
            "version": deployment.get("version"), "runId": run_id,
            "trainingJobName": (training or {}).get("jobName"),
            "modelArtifacts": (training or {}).get("modelArtifacts"),
        }, now=now)
    if training:
        state = stores.models.get_state(model_id)
        window = run.get("window") or {}
        state.update({"lastTrainedAt": iso(now), "lastTrainingJob": training.get("jobName"),
                      "trainingDataEnd": window.get("start") or iso(now)})
        stores.models.put_state(model_id, state)

    settle_drift_acknowledgement(stores, model_id, run_id, decision=decision, evaluation=evaluation, drift=drift,
                                 outcome=outcome, deployment=deployment, now=now)
    drift_summary = {k: drift.get(k) for k in ("detected", "driftedFeatures", "share", "sampleSize", "resultUri")
                     if k in drift}
    decision_summary: dict[str, Any] = {
        k: decision.get(k) for k in ("retrain", "reasons", "breachStreak") if k in decision
    }
    if decision.get("training"):
        decision_summary["trainingJobName"] = decision["training"].get("TrainingJobName")
    baseline = baseline_refresh(pipeline)
    stores.runs.update(
        model_id, run_id,
        status="SUCCEEDED", outcome=outcome, finishedAt=iso(now),
        breached=bool(evaluation.get("breached")), driftDetected=bool(drift.get("detected")),
        sampleSize=int(evaluation.get("sampleSize") or 0), metrics=evaluation.get("metrics") or {},
        breaches=evaluation.get("breaches") or [], evaluationStatus=evaluation.get("status"),
        evaluationUri=evaluation.get("resultUri"), datasetUri=evaluation.get("datasetUri"),
        drift=drift_summary, decision=decision_summary, training=training, comparison=comparison,
        deployment=deployment, **({"baselineRefresh": baseline} if baseline else {}),
    )
    if decision.get("retrain"):
        stores.locks.release(lock_id(model_id), run_id)
    result = {
        "runId": run_id, "modelId": model_id, "status": "SUCCEEDED", "outcome": outcome,
        "metrics": evaluation.get("metrics") or {}, "drift": drift_summary, "decision": decision_summary,
        "deployment": deployment, **({"baselineRefresh": baseline} if baseline else {}),
    }
    if outcome == NO_DATA:
        result["emptyWindowStreak"] = empty_window_streak(
            stores.runs.list(model_id, limit=EMPTY_STREAK_LIMIT), run_id)
    publish(settings, "Evaluation Completed", {
        **result, "sampleSize": int(evaluation.get("sampleSize") or 0), "breached": bool(evaluation.get("breached")),
        "breaches": evaluation.get("breaches") or [], "thresholds": evaluation.get("thresholds") or [],
        "intervals": evaluation.get("intervals") or {},
    })
    if outcome == NO_DATA:
        alert_no_data(settings, result, run.get("window") or {})
    return result


def alert_no_data(settings: Settings, result: Mapping[str, Any], window: Mapping[str, Any]) -> None:
    """An empty window alerts like a failure does (the alerts topic): a broken Data Capture feed must surface."""
    if not settings.alerts_topic_arn:
        return
    model_id = result["modelId"]
    client("sns").publish(
        TopicArn=settings.alerts_topic_arn, Subject=f"Driftline: no data in the window of {model_id}"[:100],
        Message=dumps({"modelId": model_id, "runId": result["runId"], "outcome": NO_DATA, "window": window,
                       "emptyWindowStreak": result.get("emptyWindowStreak")}),
    )


def settle_drift_acknowledgement(stores: Stores, model_id: str, run_id: str, *, decision: Mapping[str, Any],
                                 evaluation: Mapping[str, Any], drift: Mapping[str, Any], outcome: str,
                                 deployment: Mapping[str, Any] | None, now: datetime) -> bool:
    """Acknowledge the window's drift when a drift-only retrain did not deploy while performance was healthy
    (the model state remembers the features and effect sizes, the run records ``driftAcknowledged``); clear it
    when a retrained model was deployed (its baseline is refreshed). Returns whether drift was acknowledged."""
    if retrain_policy.should_acknowledge(decision, evaluation, outcome):
        state = retrain_policy.acknowledge(stores.models.get_state(model_id), drift=drift, run_id=run_id, now=now)
        stores.models.put_state(model_id, state)
        stores.runs.update(model_id, run_id, driftAcknowledged=state["driftAcknowledged"])
        logger.info("drift acknowledged", extra={"modelId": model_id, "features": state["driftAcknowledged"]})
        return True
    if outcome == "deployed" and (deployment or {}).get("kind") != "recalibration":
        state = stores.models.get_state(model_id)
        if state.pop("driftAcknowledged", None) is not None:
            stores.models.put_state(model_id, state)
    return False


def baseline_refresh(pipeline: Mapping[str, Any]) -> dict[str, Any] | None:
    """What the RefreshBaseline state did after a deployment: the new baseline, or why it was not rebuilt."""
    if isinstance(pipeline.get("baseline"), Mapping):
        done = pipeline["baseline"]
        return {"status": "REFRESHED", **{k: done[k] for k in ("baselineUri", "sampleSize", "source") if k in done}}
    if isinstance(pipeline.get("baselineError"), Mapping):
        return {"status": "FAILED", "reason": failure_reason(pipeline["baselineError"])}
    return None


# ---------------------------------------------------------------------------------------------- fail
def _model_id_of(state: Mapping[str, Any]) -> str | None:
    for candidate in (
        (state.get("run") or {}).get("modelId") if isinstance(state.get("run"), Mapping) else None,
        state.get("modelId"),
        (state.get("detail") or {}).get("modelId") if isinstance(state.get("detail"), Mapping) else None,
    ):
        if isinstance(candidate, str) and candidate:
            return candidate
    return None


def failure_reason(error: Mapping[str, Any]) -> str:
    """``"<Error>: <message>"`` from a Step Functions error; a Lambda error's JSON ``Cause`` is unwrapped."""
    name = str(error.get("Error") or "UnknownError")
    cause = error.get("Cause")
    message = cause if isinstance(cause, str) else ""
    if message.startswith("{"):
        try:
            parsed = json.loads(message)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, Mapping) and parsed.get("errorMessage"):
            message = str(parsed["errorMessage"])
        elif isinstance(parsed, Mapping) and parsed.get("FailureReason"):
            # a failed .sync service task (SageMaker training job): its Cause is the Describe* output
            job = parsed.get("TrainingJobName") or parsed.get("TransformJobName")
            message = (f"job {job}: " if job else "") + str(parsed["FailureReason"])
    return (f"{name}: {message}" if message else name)[:MAX_REASON_CHARS]


def fail(event: Mapping[str, Any], stores: Stores, *, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    raw_state = event.get("state")
    state: Mapping[str, Any] = raw_state if isinstance(raw_state, Mapping) else {}
    raw_run = state.get("run")
    run: Mapping[str, Any] = raw_run if isinstance(raw_run, Mapping) else {}
    run_id = event.get("runId") or run.get("runId")
    raw_error = event.get("error") if isinstance(event.get("error"), Mapping) else state.get("error")
    error: Mapping[str, Any] = raw_error if isinstance(raw_error, Mapping) else {}
    reason = failure_reason(error)
    model_id = _model_id_of(state)
    released = False
    # ReconcileDeployment (a step at or after the endpoint switch failed) says whether the endpoint serves this
    # run's model: then the run is recorded as deployed with its bookkeeping failed, not as a plain failure
    raw_reconciliation = state.get("reconciliation")
    reconciliation: Mapping[str, Any] = raw_reconciliation if isinstance(raw_reconciliation, Mapping) else {}
    deployed = reconciliation.get("deployed")
    if model_id and isinstance(run_id, str) and run_id and failure_recordable(model_id, error, stores.runs, run_id):
        try:
            stores.runs.get(model_id, run_id)
        except RunNotFound:
            stores.runs.start(model_id, run_id, startedAt=iso(now),
                              **({"window": run["window"]} if run.get("window") else {}))
        fields: dict[str, Any] = {"status": "FAILED"}
        if deployed is True:
            fields = {"status": DEPLOYED_BOOKKEEPING_FAILED, "outcome": "deployed",
                      "deployment": reconciliation.get("deployment")}
        elif deployed is None and reconciliation.get("status") == "Updating":
            fields["deployment"] = {**(state.get("deployment") or {}), "status": "Updating"}
        stores.runs.update(model_id, run_id, **fields, reason=reason, finishedAt=iso(now),
                           error={"Error": error.get("Error"), "Cause": str(error.get("Cause"))[:4000]})
        if not (deployed is None and reconciliation.get("status") == "Updating"):
            # an endpoint update still in progress keeps the lock (its TTL bounds it): no second deployment
            released = stores.locks.release(lock_id(model_id), run_id)
    logger.warning("run failed", extra={"modelId": model_id, "runId": run_id, "reason": reason,
                                        "deployed": deployed})
    return {"modelId": model_id, "runId": run_id, "reason": reason, "lockReleased": released,
            "errorName": terminal_error_name(error), "deployed": deployed is True}


def terminal_error_name(error: Mapping[str, Any]) -> str:
    """The error name the execution fails with: the domain error raised by a function as is; a reserved
    ``States.*`` error of a service task mapped to a domain name (the ASL spec reserves the ``States.`` prefix,
    so a Fail state may not re-raise it).
    """
    name = str(error.get("Error") or "RunFailed")
    if not name.startswith("States."):
        return name
    cause = error.get("Cause")
    if isinstance(cause, str) and '"TrainingJobName"' in cause:
        return "TrainingFailed"
    return {"States.Timeout": "RunTimedOut", "States.HeartbeatTimeout": "RunTimedOut"}.get(name, "RunFailed")
