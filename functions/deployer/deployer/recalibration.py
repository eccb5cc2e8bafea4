"""The deployer's ``recalibrate`` action: deploy a recalibration remedy as a new model version, no new endpoint.

A recalibration keeps the champion's SageMaker model, endpoint config and endpoint; only its decision threshold
changes. The new version is recorded as the champion (``kind: "recalibration"``, ``decisionThreshold`` — or, for a
multiclass model, ``classOffsets``: per-class score offsets the evaluator adds to the log scores), the old
one becomes ``previousChampion`` (so the change can be reverted like any deployment), and the metric evaluator
uses the champion's threshold for every threshold metric from the next run on. Idempotent under retries: a
second call of the same run finds its own version already recorded and returns it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from driftline_common.contracts.deployer import Recalibrate
from driftline_common.errors import DeploymentFailed, InvalidEvent
from driftline_common.events import publish
from driftline_common.observability import logger
from driftline_common.settings import Settings
from driftline_common.store import LockStore, ModelStore, RunStore, iso, retrain_lock_id, utcnow

KIND = "recalibration"
HISTORY_SIZE = 20


def _result(champion: Mapping[str, Any], endpoint: str) -> dict[str, Any]:
    return {
        "status": "InService", "kind": KIND, "endpointName": endpoint, "modelName": champion.get("modelName"),
        "endpointConfigName": champion.get("endpointConfigName"), "previousEndpointConfigName": None,
        "version": champion.get("version"), "decisionThreshold": champion.get("decisionThreshold"),
        "previousDecisionThreshold": champion.get("previousDecisionThreshold"),
        **({"classOffsets": champion["classOffsets"], "previousClassOffsets": champion.get("previousClassOffsets")}
           if champion.get("classOffsets") is not None else {}),
        "strategy": "classOffsets" if champion.get("classOffsets") is not None else "threshold",
        "reason": None,
    }


def recalibrate(event: Recalibrate, settings: Settings, models: ModelStore, runs: RunStore,
                locks: LockStore | None = None, *, now: datetime | None = None) -> dict[str, Any]:
    model_id, run_id = event.run.model_id, event.run.run_id
    threshold = event.comparison.decision_threshold
    offsets = [float(v) for v in event.comparison.class_offsets] if event.comparison.class_offsets else None
    if offsets is None and threshold is None:
        raise InvalidEvent("'comparison' must carry a finite 'decisionThreshold' (binary) or 'classOffsets' "
                           "(multiclass)", field="comparison.decisionThreshold")
    cfg = models.get_config(model_id)
    if offsets is not None and len(offsets) != len(cfg.labels or []):
        raise InvalidEvent(f"'comparison.classOffsets' has {len(offsets)} values, the model has "
                           f"{len(cfg.labels or [])} classes", field="comparison.classOffsets")
    state = models.get_state(model_id)
    current = state.get("champion") or {}
    if current.get("runId") == run_id and current.get("kind") == KIND:  # a retried call: already recorded
        return _result(current, cfg.endpoint_name)
    if not current.get("modelName"):
        raise DeploymentFailed(f"model {model_id!r} has no champion to recalibrate", modelId=model_id)
    recorded_at = iso(now or utcnow())
    champion = {
        # the same SageMaker model and endpoint config (explicit keys: the pipeline's last step only fills in
        # keys a champion record lacks, never the retrained challenger's artifacts into this one)
        "modelName": current.get("modelName"), "endpointConfigName": current.get("endpointConfigName"),
        "trainingJobName": current.get("trainingJobName"), "modelArtifacts": current.get("modelArtifacts"),
        "version": int(current.get("version") or 0) + 1, "runId": run_id, "kind": KIND,
        "decisionThreshold": (float(threshold) if offsets is None and isinstance(threshold, int | float)
                              else current.get("decisionThreshold")),
        "previousDecisionThreshold": current.get("decisionThreshold", cfg.decision_threshold),
        **({"classOffsets": offsets, "previousClassOffsets": current.get("classOffsets")} if offsets is not None
           else {}),
        "modelSince": current.get("modelSince") or current.get("since") or recorded_at, "since": recorded_at,
    }
    state["previousChampion"] = current
    state["championHistory"] = [*state.get("championHistory", []), current][-HISTORY_SIZE:]
    state["champion"] = champion
    models.put_state(model_id, state)
    result = _result(champion, cfg.endpoint_name)
    runs.update(model_id, run_id, deployment=result)
    publish(settings, "Model Deployed", {"modelId": model_id, "runId": run_id, **result})
    released = locks.release(retrain_lock_id(model_id), run_id) if locks else False
    logger.info("recalibrated", extra={"modelId": model_id, "version": champion["version"],
                                       "decisionThreshold": champion["decisionThreshold"],
                                       "classOffsets": champion.get("classOffsets")})
    return {**result, "lockReleased": released}
