"""The retrain launcher's ``request_approval`` action: record the pending approval and notify."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from driftline_common.aws import client
from driftline_common.contracts.retrain_launcher import RequestApproval
from driftline_common.numbers import dumps
from driftline_common.settings import Settings
from driftline_common.store import iso, utcnow

from retrain_launcher.common import Stores


def request_approval(event: RequestApproval, stores: Stores, settings: Settings, *, topic_arn: str | None,
                     now: datetime | None = None) -> dict[str, Any]:
    model_id, run_id = event.run.model_id, event.run.run_id
    token = event.task_token
    comparison = event.comparison or {}
    compact = {k: comparison.get(k) for k in ("metric", "champion", "challenger", "delta", "sampleSize",
                                              "resultUri", "remedy", "decisionThreshold", "reasons")
               if k in comparison}
    package_arn = (event.registration or {}).get("modelPackageArn")
    stores.runs.update(
        model_id, run_id,
        approval={"status": "PENDING", "requestedAt": iso(now or utcnow()), "comparison": compact,
                  **({"modelPackageArn": package_arn} if package_arn else {})},
        approvalToken=token,
    )
    notified = False
    if topic_arn:
        message = {
            "modelId": model_id, "runId": run_id, "comparison": compact,
            "approve": f"POST /models/{model_id}/runs/{run_id}/approval with {{\"approved\": true|false}}",
            **({"modelPackageArn": package_arn,
                "orInTheRegistry": "approve or reject this model package version (SageMaker Studio or "
                                   "aws sagemaker update-model-package --model-approval-status Approved|Rejected)"}
               if package_arn else {}),
        }
        client("sns").publish(
            TopicArn=topic_arn, Subject=f"Driftline: approval needed for {model_id}"[:100],
            Message=dumps(message, default=str),
        )
        notified = True
    return {"modelId": model_id, "runId": run_id, "notified": notified}
