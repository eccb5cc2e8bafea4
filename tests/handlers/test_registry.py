"""deployer ``register`` / deploy-from-package / registry outcomes, against moto's SageMaker Model Registry.

The requests Driftline sends are also checked against botocore's SageMaker service model (``ParamValidator``),
so a field moto accepts but SageMaker would refuse fails here.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.validate import ParamValidator
from deployer import registry_ops
from deployer.handler import lambda_handler
from deployer.registry import challenger_status, inference_specification, model_metrics
from deployer.requests import create_model_from_package_request, resource_name
from driftline_common import model_registry as mr
from driftline_common.config import parse_config
from driftline_common.settings import Settings
from driftline_common.store import ModelStore, RunStore

from tests.conftest import REGION, load_event
from tests.handlers._support import Context

CONFIG = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "model_config_binary.json").read_text())
CTX = Context()
MODEL = "example-classifier"
CODE = b"sourcedir tarball bytes"
CHAMPION_ARTIFACTS = "s3://driftline-test-data/models/example-classifier/champion/model.tar.gz"


@pytest.fixture
def reg(stack_env: dict[str, str]) -> Iterator[dict[str, Any]]:
    settings = Settings.from_env()
    models, runs = ModelStore(settings), RunStore(settings)
    models.put_config(parse_config(CONFIG))
    models.record_champion(MODEL, {"modelName": "champion-model", "endpointConfigName": "champion-config",
                                   "version": 1, "modelArtifacts": CHAMPION_ARTIFACTS})
    boto3.client("s3", region_name=REGION).put_object(
        Bucket="driftline-test-data", Key="code/example-classifier/sourcedir.tar.gz", Body=CODE)
    return {"models": models, "runs": runs, "sm": boto3.client("sagemaker", region_name=REGION)}


def register_event(run_id: str = "run-2024-05-02-0001", **comparison: Any) -> dict[str, Any]:
    deploy = load_event("deployer_deploy.json")
    decide = load_event("retrain_launcher_decide.json")
    run = {**deploy["run"], "runId": run_id}
    training = {"TrainingJobName": deploy["training"]["jobName"],
                "HyperParameters": {"l2": "\"1.0\"", "sagemaker_program": "\"train.py\""},
                "InputDataConfig": [
                    {"ChannelName": "train", "DataSource": {"S3DataSource": {
                        "S3Uri": f"s3://driftline-test-data/training-data/{MODEL}/{run_id}/train/"}}},
                    {"ChannelName": "evaluation", "DataSource": {"S3DataSource": {
                        "S3Uri": f"s3://driftline-test-data/training-data/{MODEL}/{run_id}/evaluation/"}}}]}
    assert decide["action"] == "decide"
    return {"action": "register", "run": run, "training": deploy["training"],
            "comparison": {**deploy["comparison"], "requireApproval": False, "remedy": "retrain", **comparison},
            "decision": {"retrain": True, "training": training},
            "assessment": {"evaluation": {"resultUri": f"s3://driftline-test-data/runs/{MODEL}/{run_id}/evaluation.json"},
                           "drift": {"resultUri": f"s3://driftline-test-data/runs/{MODEL}/{run_id}/drift.json"}}}


def shape(operation: str) -> Any:
    return botocore.session.get_session().get_service_model("sagemaker").operation_model(operation).input_shape


def test_package_requests_are_valid_sagemaker_requests() -> None:
    cfg = parse_config(CONFIG)
    request = {"ModelPackageGroupName": "driftline-x", "ModelApprovalStatus": "Approved",
               "InferenceSpecification": inference_specification(cfg, CHAMPION_ARTIFACTS),
               "ModelMetrics": model_metrics({"resultUri": "s3://b/c.json"}, "s3://b/d.json", cfg.baseline_uri),
               "CustomerMetadataProperties": mr.meta_properties({"runId": "r", "long": "s3://" + "a" * 400})}
    report = ParamValidator().validate(request, shape("CreateModelPackage"))
    assert not report.has_errors(), report.generate_report()
    assert len(request["CustomerMetadataProperties"]["driftline:long"]) == mr.MAX_META_VALUE
    model = create_model_from_package_request(
        cfg, name="n", model_package_arn="arn:aws:sagemaker:us-east-1:123456789012:model-package/driftline-x/1",
        role_arn="arn:aws:iam::123456789012:role/r", run_id="r")
    report = ParamValidator().validate(model, shape("CreateModel"))
    assert not report.has_errors(), report.generate_report()


@pytest.mark.parametrize(("comparison", "status"), [
    ({"promote": True, "requireApproval": True, "remedy": "retrain"}, "PendingManualApproval"),
    ({"promote": True, "requireApproval": False, "remedy": "retrain"}, "Approved"),
    ({"promote": False, "requireApproval": True, "remedy": None}, "Rejected"),
    ({"promote": True, "requireApproval": False, "remedy": "recalibration"}, "Rejected"),
])
def test_challenger_status_follows_the_comparison(comparison: dict[str, Any], status: str) -> None:
    assert challenger_status(comparison) == status


def test_group_names_fit_sagemaker() -> None:
    names = {mr.group_name("a" * 63), mr.group_name("a" * 62 + "b"), mr.group_name("x")}
    assert len(names) == 3
    assert all(len(n) <= 63 and n.startswith("driftline-") for n in names)


def test_register_records_champion_and_challenger_with_lineage(reg: dict[str, Any]) -> None:
    event = register_event(requireApproval=True)
    out = lambda_handler(event, CTX)
    assert (out["status"], out["version"], out["modelPackageGroupName"]) == ("PendingManualApproval", 2,
                                                                            "driftline-example-classifier")
    champion, challenger = sorted(mr.list_packages(reg["sm"], MODEL), key=lambda p: p["ModelPackageVersion"])
    assert champion["ModelApprovalStatus"] == "Approved"
    assert champion["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] == CHAMPION_ARTIFACTS
    assert reg["models"].get_state(MODEL)["champion"]["modelPackageArn"] == champion["ModelPackageArn"]
    assert out["championModelPackageArn"] == champion["ModelPackageArn"]
    version = mr.version_of(challenger)
    lineage = version["lineage"]
    assert lineage["runId"] == event["run"]["runId"]
    assert lineage["trainingJobName"] == event["training"]["jobName"]
    assert lineage["trainDataUri"] == event["decision"]["training"]["InputDataConfig"][0]["DataSource"][
        "S3DataSource"]["S3Uri"]
    assert lineage["window"] == event["run"]["window"]
    assert lineage["codeSha256"] == hashlib.sha256(CODE).hexdigest()
    assert lineage["imageUri"] == CONFIG["training"]["imageUri"]
    assert lineage["modelArtifacts"] == event["training"]["modelArtifacts"]
    assert lineage["evaluationUri"] == event["assessment"]["evaluation"]["resultUri"]
    assert lineage["endpointConfigName"] == resource_name(MODEL, event["run"]["runId"])
    assert version["documents"] == {"comparison": event["comparison"]["resultUri"],
                                    "drift": event["assessment"]["drift"]["resultUri"],
                                    "dataQualityBaseline": CONFIG["baselineUri"]}
    assert json.loads(mr.metadata(challenger["CustomerMetadataProperties"])["hyperparameters"]) == {"l2": "\"1.0\""}
    assert reg["runs"].get(MODEL, event["run"]["runId"])["registration"]["modelPackageArn"] == out["modelPackageArn"]
    # a retried step registers nothing new
    again = lambda_handler(copy.deepcopy(event), CTX)
    assert again["modelPackageArn"] == out["modelPackageArn"]
    assert len(mr.list_packages(reg["sm"], MODEL)) == 2
    # the next run's challenger is version 3; the champion is not registered twice
    third = lambda_handler(register_event("run-2024-05-03-0001", promote=False), CTX)
    assert (third["version"], third["status"]) == (3, "Rejected")


def deploy_and_check(out: dict[str, Any], run_id: str) -> dict[str, Any]:
    deploy = load_event("deployer_deploy.json")
    event = {**deploy, "run": {**deploy["run"], "runId": run_id}, "registration": out}
    started = lambda_handler(event, CTX)
    assert started["modelPackageArn"] == out["modelPackageArn"]
    return lambda_handler({"action": "status", "run": event["run"], "deployment": started}, CTX)


def test_deploy_from_the_package_and_record_the_outcome(reg: dict[str, Any]) -> None:
    run_id = "run-2024-05-02-0001"
    out = lambda_handler(register_event(run_id), CTX)
    status = deploy_and_check(out, run_id)
    assert status["status"] == "InService"
    model = reg["sm"].describe_model(ModelName=resource_name(MODEL, run_id))
    assert model["PrimaryContainer"]["ModelPackageName"] == out["modelPackageArn"]
    champion = reg["models"].get_state(MODEL)["champion"]
    assert champion["modelPackageArn"] == out["modelPackageArn"]
    package = reg["sm"].describe_model_package(ModelPackageName=out["modelPackageArn"])
    meta = mr.metadata(package["CustomerMetadataProperties"])
    assert meta["deployedBy"] == run_id
    assert meta["runId"] == run_id
    assert package["ModelApprovalStatus"] == "Approved"


def test_a_rolled_back_version_is_rejected(reg: dict[str, Any]) -> None:
    out = lambda_handler(register_event(), CTX)
    registry_ops.rolled_back(out["modelPackageArn"], reason="alarm driftline-example-classifier-5xx")
    package = reg["sm"].describe_model_package(ModelPackageName=out["modelPackageArn"])
    assert package["ModelApprovalStatus"] == "Rejected"
    assert "5xx" in package["ApprovalDescription"]
    assert mr.metadata(package["CustomerMetadataProperties"])["runId"] == "run-2024-05-02-0001"


@pytest.fixture
def switching_endpoints(reg: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """moto 5.2.5 has no ``UpdateEndpoint``: the update switches the endpoint's config at once (as offline does
    with an all-at-once deployment)."""
    from driftline_common.aws import client
    from moto.sagemaker.models import sagemaker_backends

    def update_endpoint(EndpointName: str, EndpointConfigName: str, **_: Any) -> dict[str, Any]:
        endpoint = sagemaker_backends["123456789012"][REGION].endpoints[EndpointName]
        endpoint.endpoint_config_name = EndpointConfigName
        return {"EndpointArn": endpoint.arn}

    monkeypatch.setattr(client("sagemaker"), "update_endpoint", update_endpoint)


@pytest.mark.usefixtures("switching_endpoints")
def test_rollback_redeploys_the_last_approved_version_that_served(reg: dict[str, Any]) -> None:
    first = lambda_handler(register_event("run-a"), CTX)
    assert deploy_and_check(first, "run-a")["status"] == "InService"
    lambda_handler(register_event("run-b", promote=False), CTX)  # rejected, never served
    second = lambda_handler(register_event("run-c"), CTX)
    assert deploy_and_check(second, "run-c")["status"] == "InService"
    # the decision names the previous champion record; the registry's last Approved served version wins
    target = {"endpointConfigName": "stale-config", "from": resource_name(MODEL, "run-c"), "reason": "OPERATIONAL"}
    run = {"runId": "run-d", "modelId": MODEL}
    reg["runs"].start(MODEL, "run-d")
    out = lambda_handler({"action": "rollback", "run": run, "decision": {"rollback": target}}, CTX)
    assert out["endpointConfigName"] == resource_name(MODEL, "run-a")
    champion = reg["models"].get_state(MODEL)["champion"]
    assert champion["modelPackageArn"] == first["modelPackageArn"]
    rejected = reg["sm"].describe_model_package(ModelPackageName=second["modelPackageArn"])
    assert rejected["ModelApprovalStatus"] == "Rejected"
    # a retried rollback keeps its target (it does not walk further back)
    again = lambda_handler({"action": "rollback", "run": run, "decision": {"rollback": target}}, CTX)
    assert again["endpointConfigName"] == resource_name(MODEL, "run-a")


def test_api_lists_the_versions_with_their_lineage(reg: dict[str, Any]) -> None:
    from api.handler import lambda_handler as api_handler

    out = lambda_handler(register_event(requireApproval=True), CTX)
    response = api_handler(load_event("api_list_versions.json"), CTX)
    assert response["statusCode"] == 200, response["body"]
    body = json.loads(response["body"])
    assert body["modelPackageGroupName"] == "driftline-example-classifier"
    newest, champion = body["versions"]
    assert (newest["version"], newest["status"], newest["serving"]) == (2, "PendingManualApproval", False)
    assert newest["modelPackageArn"] == out["modelPackageArn"]
    assert newest["lineage"]["codeSha256"] == hashlib.sha256(CODE).hexdigest()
    assert newest["lineage"]["promotedBy"] == "run-2024-05-02-0001"  # its comparison promoted it
    assert (champion["version"], champion["role"], champion["serving"]) == (1, "champion", True)
    missing = load_event("api_list_versions.json")
    missing["pathParameters"] = {"modelId": "nope"}
    missing["rawPath"] = missing["requestContext"]["http"]["path"] = "/models/nope/versions"
    assert api_handler(missing, CTX)["statusCode"] == 404


def test_cli_versions_prints_the_api_answer(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
                                            ) -> None:
    from driftline_cli import commands
    from driftline_cli.main import main

    answer = {"modelId": MODEL, "modelPackageGroupName": "driftline-example-classifier", "versions": [
        {"version": 2, "status": "Approved", "role": "challenger", "serving": True, "createdAt": "2024-05-02",
         "lineage": {"runId": "run-b", "trainingJobName": "job-b", "deployedBy": "run-b"}},
        {"version": 1, "status": "Rejected", "role": "champion", "serving": False, "lineage": {}}]}
    calls: list[tuple[str, str]] = []

    class FakeTarget:
        def call(self, method: str, path: str, *_: Any, **__: Any) -> dict[str, Any]:
            calls.append((method, path))
            return answer

    monkeypatch.setattr(commands.Target, "from_args", classmethod(lambda cls, args: FakeTarget()))
    assert main(["versions", MODEL]) == 0
    printed = capsys.readouterr().out
    assert calls == [("GET", f"/models/{MODEL}/versions")]
    assert "* 2" in printed
    assert "job-b" in printed
    assert "Rejected" in printed


def test_an_unreadable_code_tarball_is_recorded_as_unavailable(reg: dict[str, Any]) -> None:
    boto3.client("s3", region_name=REGION).delete_object(Bucket="driftline-test-data",
                                                         Key="code/example-classifier/sourcedir.tar.gz")
    out = lambda_handler(register_event(), CTX)
    package = reg["sm"].describe_model_package(ModelPackageName=out["modelPackageArn"])
    assert mr.metadata(package["CustomerMetadataProperties"])["codeSha256"] == "unavailable: NoSuchKey"
