"""Answering a run's approval request: one code path for the API (``POST .../approval``) and for the Model
Registry (a version approved or rejected in SageMaker Studio or with ``aws sagemaker update-model-package``).

The answer is claimed first with a conditional write on the run (``approvalClaim``, only while the stored task
token is the one being answered): of two concurrent answers exactly one reaches Step Functions, the other is
:class:`ApprovalNotPending`. Then ``SendTaskSuccess`` completes the ``WaitForApproval`` task and the answer is
recorded on the run. An expired or already answered token is recorded as ``EXPIRED``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from botocore.exceptions import ClientError

from driftline_common.aws import client
from driftline_common.errors import DriftlineError
from driftline_common.store import RunStore, iso, utcnow

#: the error codes of a task token Step Functions no longer accepts
GONE = ("TaskTimedOut", "TaskDoesNotExist", "InvalidToken")


class ApprovalNotPending(DriftlineError):
    """The run is not waiting for an approval (never asked, already answered or expired)."""

    http_status = 409


def answer(runs: RunStore, model_id: str, run_id: str, *, approved: bool, by: str | None, comment: str | None,
           source: str) -> dict[str, Any]:
    """Complete the run's ``WaitForApproval`` task with ``{"approved", "by", "comment"}``; the recorded answer.

    ``source``: ``api`` or ``registry`` (where the answer was given). Raises :class:`ApprovalNotPending`.
    """
    run = runs.get(model_id, run_id)
    token = run.get("approvalToken")
    approval = run.get("approval") or {}
    if not token or approval.get("status") != "PENDING":
        raise ApprovalNotPending(f"run {run_id!r} of {model_id!r} is not waiting for an approval",
                                 modelId=model_id, runId=run_id)
    key = {"modelId": model_id, "runId": run_id}
    try:
        runs.table.update_item(
            Key=key, UpdateExpression="SET approvalClaim = :c",
            ConditionExpression="attribute_not_exists(approvalClaim) AND approvalToken = :t",
            ExpressionAttributeValues={":c": uuid.uuid4().hex, ":t": token})
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise ApprovalNotPending(f"the approval of run {run_id!r} is being answered or was answered",
                                     modelId=model_id, runId=run_id) from None
        raise
    reply = {"approved": approved, "by": by, "comment": comment}
    try:
        client("stepfunctions").send_task_success(taskToken=token, output=json.dumps(reply, allow_nan=False))
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in GONE:
            runs.update(model_id, run_id, approval={**approval, "status": "EXPIRED"}, approvalToken=None)
            raise ApprovalNotPending(f"the approval of run {run_id!r} expired or was already answered ({code})",
                                     modelId=model_id, runId=run_id) from None
        runs.table.update_item(Key=key, UpdateExpression="REMOVE approvalClaim")  # the answer may be given again
        raise
    answered = {**approval, **reply, "status": "APPROVED" if approved else "REJECTED", "source": source,
                "answeredAt": iso(utcnow())}
    runs.update(model_id, run_id, approval=answered, approvalToken=None)
    return answered
