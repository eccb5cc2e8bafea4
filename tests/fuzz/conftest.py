"""The world the fuzz tests run in: the stack under moto, the example config registered, a small labelled window
in SageMaker's formats, a training set and its drift baseline — so generated input reaches deep into each handler.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import boto3
import numpy as np
import pytest
from driftline_common.config import parse_config
from driftline_common.errors import DriftlineError, InternalError
from driftline_common.settings import Settings
from driftline_common.store import ModelStore

from tests.conftest import REGION, ROOT
from tests.handlers._support import Context
from tests.unit.test_datasets import capture_line, gt_line

CONFIG = json.loads((ROOT / "tests/fixtures/model_config_binary.json").read_text())
BUCKET = "driftline-test-data"
MODEL = CONFIG["modelId"]
CAPTURE = "datacapture/driftline-example-classifier/AllTraffic/2025/01/01"
GT = "ground-truth/example-classifier/2025/01/01"
CTX = Context()
#: examples per fuzz test (derandomized: the same ones every run). ``make test`` runs the quick count;
#: ``make test-slow`` (CI runs it too) sets ``DRIFTLINE_FUZZ=deep`` and runs tests/fuzz again with the deep count
DEEP = os.environ.get("DRIFTLINE_FUZZ", "") == "deep"
EXAMPLES = 80 if DEEP else 25


def s3() -> Any:
    return boto3.client("s3", region_name=REGION)


def snapshot() -> dict[str, str]:
    """Every object of the data bucket with its ETag."""
    out: dict[str, str] = {}
    for page in s3().get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        out.update({o["Key"]: o["ETag"] for o in page.get("Contents", [])})
    return out


def written(before: dict[str, str], after: dict[str, str]) -> set[str]:
    """Keys created, changed or deleted between two snapshots."""
    return {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}


def run_prefixes(event: Any) -> tuple[str, ...]:
    """Where a handler may write for ``event``: its run's prefix and the run's training-data prefix."""
    run = event.get("run") if isinstance(event, dict) else None
    if not isinstance(run, dict) or not isinstance(run.get("modelId"), str) or not isinstance(run.get("runId"), str):
        return ()
    model, run_id = run["modelId"], run["runId"]
    return (f"runs/{model}/{run_id}/", f"training-data/{model}/{run_id}/")


def write_window(n: int = 60, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(size=(n, 5)) + 0.5 * y[:, None]
    score = 1 / (1 + np.exp(-(x.sum(axis=1) - 1.25)))
    caps, gts = [], []
    for i in range(n):
        row = [*(round(float(v), 6) for v in x[i]), str(i % 3)]
        caps.append(capture_line(f"ev-{i}", row, repr(float(score[i])), iid=f"inf-{i}",
                                 when="2025-01-01T02:10:00Z"))
        gts.append(gt_line(f"inf-{i}", int(y[i])))
    s3().put_object(Bucket=BUCKET, Key=f"{CAPTURE}/02/capture.jsonl", Body="\n".join(caps).encode())
    s3().put_object(Bucket=BUCKET, Key=f"{GT}/04/labels.jsonl", Body="\n".join(gts).encode())


@pytest.fixture
def world(stack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    from drift_checker.handler import lambda_handler as drift

    settings = Settings.from_env()
    ModelStore(settings).put_config(parse_config(CONFIG))
    rng = np.random.default_rng(1)
    train = "\n".join(",".join([str(i % 2), *(f"{v:.5f}" for v in rng.normal(size=5)), str(i % 3)])
                      for i in range(300))
    s3().put_object(Bucket=BUCKET, Key="training-data/example-classifier/train.csv", Body=train.encode())
    drift({"action": "build_baseline", "modelId": MODEL,
           "dataUri": f"s3://{BUCKET}/training-data/example-classifier/train.csv"}, CTX)
    write_window()
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = sfn.create_state_machine(
        name="driftline-fuzz", roleArn="arn:aws:iam::123456789012:role/sfn",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
    )["stateMachineArn"]
    monkeypatch.setenv("STATE_MACHINE_ARN", arn)
    return stack_env


def typed_or_result(handler: Callable[[Any, Any], Any], event: Any, allowed: tuple[str, ...] = ()) -> Any:
    """Call ``handler``: it returns, or raises a Driftline error; it writes to S3 only under ``allowed`` prefixes.

    Any other exception type fails the test (it propagates with its traceback), and so does ``InternalError``: the
    handlers' catch-all types an unexpected exception as ``InternalError``, which is exactly what must not happen
    on bad input.
    """
    before = snapshot()
    try:
        result = handler(event, CTX)
    except InternalError as exc:
        raise AssertionError(f"an unexpected exception behind the typed boundary: {exc.message} {exc.details}") from exc
    except DriftlineError as exc:
        result = exc
    changed = written(before, snapshot())
    outside = sorted(k for k in changed if not k.startswith(allowed or ("\x00",)))
    assert not outside, f"S3 writes outside the run's prefix {allowed}: {outside[:5]}"
    return result
