"""The retrain launcher's ``request_approval`` action: record the pending approval and notify."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from driftline_common.aws import client
from driftline_common.numbers import dumps
from driftline_common.settings import Settings
from driftline_common.store import iso, utcnow

from retrain_launcher.common import (
    Stores,
    _mapping,
    _run_ids,
    _string,
)


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
