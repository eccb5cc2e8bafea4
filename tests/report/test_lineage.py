"""Lineage in the run report (issue 14.4): the version in service and the version the run registered, as the
deployer's ``register`` action wrote them into moto's Model Registry, read by the ReportFunction."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import boto3
import pytest
from deployer.handler import lambda_handler as deployer_handler
from driftline_common import model_registry as mr
from driftline_common.config import parse_config
from driftline_common.settings import Settings
from driftline_common.store import ModelStore, RunStore
from report.handler import lambda_handler as report_handler

from tests.conftest import REGION
from tests.handlers.test_registry import CODE, CONFIG, MODEL, reg, register_event  # noqa: F401 - the fixture
from tests.report.test_render import _Page
from tests.report.test_report_aws import CTX, report_event

RUN = "run-2024-05-02-0001"


def _report(run_id: str) -> tuple[dict[str, Any], _Page]:
    report_handler(report_event(run_id), CTX)
    s3 = boto3.client("s3", region_name=REGION)
    doc = json.loads(s3.get_object(Bucket="driftline-test-data", Key=f"runs/{MODEL}/{run_id}/report.json")["Body"]
                     .read())
    html = s3.get_object(Bucket="driftline-test-data", Key=f"runs/{MODEL}/{run_id}/report.html")["Body"].read()
    return doc, _Page(html.decode())


@pytest.fixture
def registered(reg: dict[str, Any]) -> dict[str, Any]:  # noqa: F811 - the registry fixture
    """The run registered its challenger (the real writer), won, and was deployed: the champion record names the
    challenger's package, as the deployer records it."""
    runs: RunStore = reg["runs"]
    runs.start(MODEL, RUN, startedAt="2024-05-02T00:00:00Z", window={"start": "2024-05-01T00:00:00Z",
                                                                       "end": "2024-05-02T00:00:00Z"})
    event = register_event(RUN)
    out = deployer_handler(event, CTX)
    assert out["status"] == "Approved"
    models: ModelStore = reg["models"]
    models.record_champion(MODEL, {"modelName": "challenger-model", "endpointConfigName": "challenger-config",
                                   "version": 2, "runId": RUN, "modelPackageArn": out["modelPackageArn"]})
    return {**reg, "event": event, "registration": out}


def test_the_report_shows_the_deployed_versions_lineage(registered: dict[str, Any]) -> None:
    doc, page = _report(RUN)
    deployed = doc["lineage"]["deployed"]
    lin = deployed["lineage"]
    event = registered["event"]
    assert deployed["serving"] is True
    assert deployed["modelPackageArn"] == registered["registration"]["modelPackageArn"]
    assert lin["trainingJobName"] == event["training"]["jobName"]
    train_uri = f"s3://driftline-test-data/training-data/{MODEL}/{RUN}/train/"
    assert lin["trainDataUri"] == train_uri
    assert lin["codeSha256"] == hashlib.sha256(CODE).hexdigest()
    assert lin["imageUri"] == registered["models"].get_config(MODEL).training.image_uri
    assert lin["promotedBy"] == RUN
    assert lin["comparisonUri"] == event["comparison"]["resultUri"]
    # the same lineage as GET /models/{id}/versions shows (one reader: model_registry.version_of)
    package = registered["sm"].describe_model_package(ModelPackageName=deployed["modelPackageArn"])
    assert lin == mr.version_of(package)["lineage"]
    text = page.page_text
    assert "Lineage" in text
    assert "The version in service" in text
    for value in (event["training"]["jobName"], train_uri, hashlib.sha256(CODE).hexdigest(), lin["imageUri"],
                  event["comparison"]["resultUri"], "promoted by run"):
        assert value in text, value
    # registered by this run and now serving: shown once
    assert "registered" not in doc["lineage"]
    assert not any(m.startswith("lineage") for m in doc["missing"])


def test_a_losing_challenger_is_shown_next_to_the_version_in_service(reg: dict[str, Any]) -> None:  # noqa: F811
    reg["runs"].start(MODEL, RUN, startedAt="2024-05-02T00:00:00Z")
    out = deployer_handler(register_event(RUN, promote=False), CTX)
    assert out["status"] == "Rejected"
    reg["runs"].update(MODEL, RUN, registration=out)
    doc, page = _report(RUN)
    deployed, registered = doc["lineage"]["deployed"], doc["lineage"]["registered"]
    assert deployed["modelPackageArn"] == out["championModelPackageArn"]  # the initial champion, registered once
    assert deployed["role"] == "champion"
    assert registered["status"] == "Rejected"
    assert registered["lineage"]["runId"] == RUN
    assert registered["lineage"]["promotedBy"] is None
    assert "The version this run registered" in page.page_text


def test_missing_lineage_is_named_not_an_error(stack_env: dict[str, str]) -> None:
    settings = Settings.from_env()
    models, runs = ModelStore(settings), RunStore(settings)
    models.put_config(parse_config(CONFIG))
    runs.start(MODEL, RUN, startedAt="2024-05-02T00:00:00Z")
    doc, _ = _report(RUN)
    assert "lineage" not in doc
    assert any("no version of this model has been deployed" in m for m in doc["missing"])
    models.record_champion(MODEL, {"modelName": "old-model", "version": 1, "trainingJobName": "job-1",
                                   "runId": "run-0"})
    doc, page = _report(RUN)
    assert doc["lineage"]["deployed"]["source"] == "champion record"
    assert "job-1" in page.page_text
    assert any("has no Model Registry version" in m for m in doc["missing"])
    arn = "arn:aws:sagemaker:us-east-1:123456789012:model-package/driftline-example-classifier/9"
    models.record_champion(MODEL, {"modelName": "gone-model", "version": 9, "modelPackageArn": arn})
    doc, _ = _report(RUN)  # a package that cannot be read: the report is still written, and says so
    assert "lineage" not in doc
    assert any("could not be read" in m and arn in m for m in doc["missing"])
