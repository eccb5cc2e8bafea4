"""What the HTTP routes do, without HTTP: read/write configs and runs, start executions, answer approvals."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from driftline_common import approvals, model_registry
from driftline_common import errors as domain_errors
from driftline_common.aws import client
from driftline_common.config import parse_config
from driftline_common.edge import MAX_ITEM_BYTES, item_size
from driftline_common.errors import ConfigurationError, InvalidEvent, PayloadTooLarge
from driftline_common.observability import logger
from driftline_common.settings import Settings
from driftline_common.store import ModelStore, RunStore, iso, to_ddb, utcnow
from pydantic import BaseModel, ConfigDict, Field

from api import monitoring, reports

#: run fields never returned by the API (the approval task token is a credential for the execution)
PRIVATE_RUN_FIELDS = ("approvalToken",)
SUMMARY_FIELDS = ("runId", "status", "outcome", "startedAt", "finishedAt", "trigger", "window", "reason")
#: what an API caller sees of a failure: the error's type and at most this much of its message
MAX_ERROR_MESSAGE = 500
#: the stored item around a config (key, kind, version, updatedAt) — added to the config's own size
CONFIG_ITEM_OVERHEAD = 200
_TRACE = re.compile(r"Traceback \(most recent call last\).*|\s*File \"[^\"]*\", line \d+.*", re.S)
_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[/\\][\w.\-]+)+\.py[cw]?\b")

#: names the state machine fails a run with besides the domain errors (see retrain_launcher.terminal_error_name)
_TERMINAL_NAMES = frozenset({"RunTimedOut", "RunFailed", "TrainingFailed"})


def _domain_error_names() -> frozenset[str]:
    seen: set[type] = set()
    todo: list[type] = [domain_errors.DriftlineError]
    while todo:
        cls = todo.pop()
        if cls not in seen:
            seen.add(cls)
            todo.extend(cls.__subclasses__())
    return frozenset(c.__name__ for c in seen)


def public_failure(run: dict[str, Any]) -> dict[str, Any] | None:
    """What a caller may see of a failed run: ``{"type", "message"}`` — never a stack trace or a file path.

    A Driftline error (typed, raised on purpose) keeps its message (shortened); anything else says only
    ``internal error``: the whole cause stays in the stored run and in the function's logs.
    """
    error = run.get("error")
    reason = run.get("reason")
    if not isinstance(error, dict) and not isinstance(reason, str):
        return None
    name = str((error or {}).get("Error") or (reason or "").split(":", 1)[0] or "UnknownError")[:100]
    message = reason.split(": ", 1)[1] if isinstance(reason, str) and ": " in reason else ""
    if name not in _domain_error_names() and not name.startswith("States.") and name not in _TERMINAL_NAMES:
        message = "internal error (the details are in the function's logs)"
    message = _PATH.sub("<path>", _TRACE.sub("", message)).strip()[:MAX_ERROR_MESSAGE]
    return {"type": name, "message": message}



def _public_run(run: dict[str, Any], fields: tuple[str, ...] | None = None) -> dict[str, Any]:
    if fields is None:
        out = {k: v for k, v in run.items() if k not in PRIVATE_RUN_FIELDS}
    else:
        out = {k: run.get(k) for k in fields}
    failure = public_failure(run)
    if failure is not None:
        if "error" in run:
            out["error"] = failure
        if run.get("reason") is not None:
            out["reason"] = f"{failure['type']}: {failure['message']}" if failure["message"] else failure["type"]
    return out


def _region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


class InvalidRequest(InvalidEvent):
    """The HTTP request itself is malformed: its body (not UTF-8, not JSON, nested too deeply), path or query."""

    http_status = 400


class ApprovalBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    approved: bool
    comment: str | None = Field(None, max_length=2000)


@dataclass(frozen=True)
class Api:
    settings: Settings
    models: ModelStore
    runs: RunStore

    @classmethod
    def from_settings(cls, settings: Settings) -> Api:
        return cls(settings, ModelStore(settings), RunStore(settings))

    # -------------------------------------------------------------------------------------------- models
    def put_model(self, model_id: str, body: Any) -> dict[str, Any]:
        cfg = parse_config(body, model_id=model_id)  # InvalidModelConfig (400) listing every problem
        size = item_size(to_ddb(cfg.to_item())) + CONFIG_ITEM_OVERHEAD
        if size > MAX_ITEM_BYTES:
            raise PayloadTooLarge(
                f"the config of {model_id!r} takes {size} bytes stored; DynamoDB items hold at most {MAX_ITEM_BYTES} "
                "(shorten feature names, labels or hyperparameters)", sizeBytes=size, maxBytes=MAX_ITEM_BYTES)
        version = self.models.put_config(cfg)
        monitoring_out = monitoring.sync_model(self.settings, cfg, _region())
        return {"modelId": model_id, "version": version, "config": cfg.to_item(), "monitoring": monitoring_out}

    def delete_model(self, model_id: str) -> dict[str, Any]:
        """Remove the model's config (no more scheduled runs), dashboard and alarms; its runs and results stay."""
        self.models.get_config_item(model_id)  # 404 for an unknown model
        self.models.table.delete_item(Key={"modelId": model_id, "kind": "CONFIG"})
        return {"modelId": model_id, "deleted": True, "monitoring": monitoring.remove_model(self.settings, model_id)}

    def report(self, model_id: str, run_id: str | None, *, as_json: bool) -> tuple[str, bytes]:
        """A run's report (the latest run's with ``run_id=None``): ``(runId, body)``."""
        self.models.get_config_item(model_id)
        if run_id is None:
            return reports.latest_report(self.settings, self.runs, model_id, as_json=as_json)
        self.runs.get(model_id, run_id)  # 404 RunNotFound before looking for its report
        return run_id, reports.run_report(self.settings, model_id, run_id, as_json=as_json)

    def get_model(self, model_id: str) -> dict[str, Any]:
        item = self.models.get_config_item(model_id)
        return {"modelId": model_id, "version": item.get("version"), "updatedAt": item.get("updatedAt"),
                "config": item["config"], "state": self.models.get_state(model_id)}

    def list_models(self) -> dict[str, Any]:
        return {"models": self.models.list_models()}

    # -------------------------------------------------------------------------------------------- runs
    def start_run(self, model_id: str, *, request_id: str, caller: str | None) -> dict[str, Any]:
        """Start the run of the window ending at the current hour, once: every request for the same model and
        window (retries, a burst of clicks, concurrent callers) gets that one run (the same ``runId``), whether it
        is still running or has ended; the next hour's window is a new run."""
        self.models.get_config_item(model_id)  # 404 before starting anything
        if not self.settings.state_machine_arn:
            raise ConfigurationError("STATE_MACHINE_ARN is not set: the API cannot start runs")
        window_end = utcnow().replace(minute=0, second=0, microsecond=0)
        # the execution name (and so the run id) is the model and the window: Step Functions starts one execution
        # per name (a second start with the same input while it runs returns it; after it ended, or with another
        # input, it answers ExecutionAlreadyExists)
        name = f"{re.sub(r'[^A-Za-z0-9-]', '-', model_id)[:48]}-api-{window_end.strftime('%Y%m%dT%H%MZ')}"
        payload = {"modelId": model_id, "trigger": {"type": "api", "id": name, "time": iso(window_end)}}
        sm_arn = self.settings.state_machine_arn
        try:
            arn = client("stepfunctions").start_execution(
                stateMachineArn=sm_arn, name=name, input=json.dumps(payload, allow_nan=False)
            )["executionArn"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
                raise
            arn = f"{sm_arn.replace(':stateMachine:', ':execution:', 1)}:{name}"
            logger.info("run already started", extra={"modelId": model_id, "runId": name, "requestId": request_id})
        return {"modelId": model_id, "runId": name, "executionArn": arn, "startedBy": caller,
                "trigger": payload["trigger"], "requestId": request_id}

    def list_runs(self, model_id: str, *, limit: int) -> dict[str, Any]:
        self.models.get_config_item(model_id)
        runs = self.runs.list(model_id, limit=limit)
        return {"modelId": model_id, "runs": [_public_run(r, SUMMARY_FIELDS) for r in runs]}

    def get_run(self, model_id: str, run_id: str) -> dict[str, Any]:
        run = self.runs.get(model_id, run_id)
        if run.get("error"):
            logger.info("failed run read", extra={"modelId": model_id, "runId": run_id, "error": run["error"]})
        return _public_run(run)

    def metrics(self, model_id: str, *, limit: int) -> dict[str, Any]:
        self.models.get_config_item(model_id)
        runs = [r for r in self.runs.list(model_id, limit=limit) if r.get("metrics")]
        points = [{
            "runId": r["runId"], "window": r.get("window"), "sampleSize": r.get("sampleSize"),
            "metrics": r["metrics"], "breached": r.get("breached"), "driftDetected": r.get("driftDetected"),
            "outcome": r.get("outcome"),
        } for r in runs]
        points.sort(key=lambda p: ((p.get("window") or {}).get("end") or "", p["runId"]))
        return {"modelId": model_id, "history": points}

    # -------------------------------------------------------------------------------------------- versions
    def versions(self, model_id: str) -> dict[str, Any]:
        """The model's Model Registry versions, newest first, with their lineage (docs/registry.md)."""
        self.models.get_config_item(model_id)  # 404 for an unknown model
        serving = (self.models.get_state(model_id).get("champion") or {}).get("modelPackageArn")
        versions = [{**model_registry.version_of(p), "serving": p.get("ModelPackageArn") == serving}
                    for p in model_registry.list_packages(client("sagemaker"), model_id)]
        return {"modelId": model_id, "modelPackageGroupName": model_registry.group_name(model_id),
                "versions": versions}

    # -------------------------------------------------------------------------------------------- approvals
    def approve(self, model_id: str, run_id: str, body: ApprovalBody, *, caller: str | None) -> dict[str, Any]:
        """Answer the run's approval (:func:`driftline_common.approvals.answer`); the run's Model Registry version
        gets the same status (``Approved`` / ``Rejected``): the registry and the run agree (docs/registry.md)."""
        answered = approvals.answer(self.runs, model_id, run_id, approved=body.approved, by=caller,
                                    comment=body.comment, source="api")
        arn = answered.get("modelPackageArn")
        if isinstance(arn, str) and arn:
            who = f" by {caller}" if caller else ""
            note = f"{'approved' if body.approved else 'rejected'} through the Driftline API{who}" + (
                f": {body.comment}" if body.comment else "")
            model_registry.update(client("sagemaker"), arn,
                                  status=model_registry.APPROVED if body.approved else model_registry.REJECTED,
                                  description=note)
        return {"modelId": model_id, "runId": run_id, "approval": answered}
