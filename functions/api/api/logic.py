"""What the HTTP routes do, without HTTP: read/write configs and runs, start executions, answer approvals."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from driftline_common.aws import client
from driftline_common.config import parse_config
from driftline_common.errors import ConfigurationError, DriftlineError
from driftline_common.settings import Settings
from driftline_common.store import ModelStore, RunStore, iso, utcnow
from pydantic import BaseModel, ConfigDict, Field

#: run fields never returned by the API (the approval task token is a credential for the execution)
PRIVATE_RUN_FIELDS = ("approvalToken",)
SUMMARY_FIELDS = ("runId", "status", "outcome", "startedAt", "finishedAt", "trigger", "window", "reason")


class ApprovalNotPending(DriftlineError):
    """The run is not waiting for an approval (never asked, already answered or expired)."""

    http_status = 409


class ApprovalBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

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
        version = self.models.put_config(cfg)
        return {"modelId": model_id, "version": version, "config": cfg.to_item()}

    def get_model(self, model_id: str) -> dict[str, Any]:
        item = self.models.get_config_item(model_id)
        return {"modelId": model_id, "version": item.get("version"), "updatedAt": item.get("updatedAt"),
                "config": item["config"], "state": self.models.get_state(model_id)}

    def list_models(self) -> dict[str, Any]:
        return {"models": self.models.list_models()}

    # -------------------------------------------------------------------------------------------- runs
    def start_run(self, model_id: str, *, request_id: str, caller: str | None) -> dict[str, Any]:
        self.models.get_config_item(model_id)  # 404 before starting anything
        if not self.settings.state_machine_arn:
            raise ConfigurationError("STATE_MACHINE_ARN is not set: the API cannot start runs")
        now = iso(utcnow())
        # the execution name is derived from the request id: a retried request starts no second run
        digest = hashlib.sha256(request_id.encode()).hexdigest()[:16]
        name = f"{re.sub(r'[^A-Za-z0-9-]', '-', model_id)[:48]}-api-{digest}"
        payload = {"modelId": model_id, "trigger": {"type": "api", "id": request_id, "time": now}}
        resp = client("stepfunctions").start_execution(
            stateMachineArn=self.settings.state_machine_arn, name=name, input=json.dumps(payload, allow_nan=False)
        )
        return {"modelId": model_id, "runId": name, "executionArn": resp["executionArn"], "startedBy": caller,
                "trigger": payload["trigger"]}

    def list_runs(self, model_id: str, *, limit: int) -> dict[str, Any]:
        self.models.get_config_item(model_id)
        runs = self.runs.list(model_id, limit=limit)
        return {"modelId": model_id, "runs": [{k: r.get(k) for k in SUMMARY_FIELDS} for r in runs]}

    def get_run(self, model_id: str, run_id: str) -> dict[str, Any]:
        run = self.runs.get(model_id, run_id)
        return {k: v for k, v in run.items() if k not in PRIVATE_RUN_FIELDS}

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

    # -------------------------------------------------------------------------------------------- approvals
    def approve(self, model_id: str, run_id: str, body: ApprovalBody, *, caller: str | None) -> dict[str, Any]:
        run = self.runs.get(model_id, run_id)
        token = run.get("approvalToken")
        if not token or (run.get("approval") or {}).get("status") != "PENDING":
            raise ApprovalNotPending(f"run {run_id!r} of {model_id!r} is not waiting for an approval",
                                     modelId=model_id, runId=run_id)
        answer = {"approved": body.approved, "by": caller, "comment": body.comment}
        try:
            client("stepfunctions").send_task_success(taskToken=token, output=json.dumps(answer, allow_nan=False))
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("TaskTimedOut", "TaskDoesNotExist", "InvalidToken"):
                self.runs.update(model_id, run_id, approval={**run["approval"], "status": "EXPIRED"},
                                 approvalToken=None)
                raise ApprovalNotPending(f"the approval of run {run_id!r} expired or was already answered ({code})",
                                         modelId=model_id, runId=run_id) from None
            raise
        answered = {**run["approval"], **answer, "status": "APPROVED" if body.approved else "REJECTED",
                    "answeredAt": iso(utcnow())}
        self.runs.update(model_id, run_id, approval=answered, approvalToken=None)
        return {"modelId": model_id, "runId": run_id, "approval": answered}
