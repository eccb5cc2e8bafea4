"""The CreateTrainingJob request is valid for SageMaker (botocore's own service model) and script-mode shaped."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import botocore.session
import pytest
from botocore.validate import ParamValidator
from driftline_common.config import parse_config
from driftline_common.errors import DataFormatError
from retrain_launcher.training import build_training_request, evaluation_csv, training_csv, training_job_name

CONFIG = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "model_config_binary.json").read_text())
JOB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")


@pytest.fixture(scope="module")
def create_training_job_shape():  # type: ignore[no-untyped-def]
    model = botocore.session.get_session().get_service_model("sagemaker")
    return model.operation_model("CreateTrainingJob").input_shape


def request(**overrides: object) -> dict:
    cfg = parse_config({**CONFIG, **overrides})
    return build_training_request(
        cfg, run_id="run_2024-05-02:0001", role_arn="arn:aws:iam::123456789012:role/sm",
        train_uri="s3://b/td/run/train/", evaluation_uri="s3://b/td/run/evaluation/",
    )


def test_request_is_valid_for_botocore(create_training_job_shape) -> None:  # type: ignore[no-untyped-def]
    report = ParamValidator().validate(request(), create_training_job_shape)
    assert not report.has_errors(), report.generate_report()


def test_validator_catches_a_broken_request(create_training_job_shape) -> None:  # type: ignore[no-untyped-def]
    broken = request()
    del broken["AlgorithmSpecification"]["TrainingInputMode"]
    assert ParamValidator().validate(broken, create_training_job_shape).has_errors()


def test_script_mode_hyperparameters_are_json_encoded() -> None:
    hp = request()["HyperParameters"]
    assert json.loads(hp["sagemaker_program"]) == CONFIG["training"]["entryPoint"]
    assert json.loads(hp["sagemaker_submit_directory"]) == CONFIG["training"]["sourceUri"]
    assert {k: json.loads(v) for k, v in hp.items() if not k.startswith("sagemaker_")} == \
        CONFIG["training"]["hyperparameters"]


def test_request_fields_come_from_the_config() -> None:
    r = request()
    t = CONFIG["training"]
    assert r["AlgorithmSpecification"] == {"TrainingImage": t["imageUri"], "TrainingInputMode": "File"}
    assert r["OutputDataConfig"] == {"S3OutputPath": t["outputUri"]}
    assert r["ResourceConfig"]["InstanceType"] == t["instanceType"]
    channels = {c["ChannelName"]: c for c in r["InputDataConfig"]}
    assert set(channels) == {"train", "evaluation"}
    assert channels["train"]["DataSource"]["S3DataSource"]["S3Uri"] == "s3://b/td/run/train/"
    assert all(c["ContentType"] == "text/csv" for c in channels.values())
    assert {tag["Key"]: tag["Value"] for tag in r["Tags"]} == {
        "driftline:modelId": "example-classifier", "driftline:runId": "run_2024-05-02:0001"}


def test_job_name_is_deterministic_unique_and_valid() -> None:
    a = training_job_name("example-classifier", "run-1")
    assert a == training_job_name("example-classifier", "run-1")
    assert a != training_job_name("example-classifier", "run-2")
    long_model, long_run = "m" * 63, "r" * 80
    names = {training_job_name(long_model, long_run), training_job_name(long_model, long_run + "x"),
             training_job_name("a_b", "c"), training_job_name("a-b", "c")}
    assert len(names) == 4  # truncation and sanitising never collide
    for name in [*names, a, training_job_name("--", "__:")]:
        assert len(name) <= 63
        assert JOB_NAME.match(name), name
        # the state machine may only create training jobs the template's IAM policy names
        assert name.startswith("driftline-"), name


def test_job_names_match_the_state_machine_iam_scope() -> None:
    from cfnlint.decode import decode

    from tests.conftest import ROOT

    template, _ = decode(str(ROOT / "template.yaml"))
    statements = template["Resources"]["PipelineStateMachine"]["Properties"]["Policies"][-1]["Statement"]
    training = next(s for s in statements if s["Sid"] == "TrainingJobs")
    prefix = training["Resource"]["Fn::Sub"].split("training-job/")[1].rstrip("*")
    assert training_job_name("example-classifier", "3f2a9c1e-0b4d-4f7e-9a11-5c6d7e8f9a0b").startswith(prefix)


DATASET = "inference_id,label,score,f1,f0\n" "a,1,0.9,10,0.5\n" "b,0,0.1,20,0.25\n" "c,,0.3,30,0.1\n"


def test_training_csv_label_first_features_in_config_order_no_header() -> None:
    text, n = training_csv([("s3://x/1.csv", DATASET), ("s3://x/2.csv", DATASET)], ["f0", "f1"])
    rows = list(csv.reader(io.StringIO(text)))
    assert n == 4
    assert rows == [["1", "0.5", "10"], ["0", "0.25", "20"]] * 2  # the unlabelled row is skipped


def test_evaluation_csv_has_ids_and_features() -> None:
    text, n = evaluation_csv("s3://x/1.csv", DATASET, ["f0", "f1"])
    rows = list(csv.reader(io.StringIO(text)))
    assert n == 3
    assert rows[0] == ["inference_id", "f0", "f1"]
    assert rows[1:] == [["a", "0.5", "10"], ["b", "0.25", "20"], ["c", "0.1", "30"]]


def test_missing_feature_column_is_a_typed_error() -> None:
    with pytest.raises(DataFormatError, match=r"lacks column\(s\) \['f9'\]"):
        training_csv([("s3://x/1.csv", DATASET)], ["f0", "f9"])
