"""The model config is validated on write and on read, with messages naming every wrong field."""

from __future__ import annotations

import copy
import json
import math

import botocore.session
import pytest
from botocore.validate import ParamValidator
from driftline_common.config import MAX_HYPERPARAMETERS, StackScope, parse_config
from driftline_common.errors import InvalidModelConfig
from driftline_common.store import from_ddb, to_ddb
from retrain_launcher.training import build_training_request

from tests.conftest import ROOT

VALID = json.loads((ROOT / "tests" / "fixtures" / "model_config_binary.json").read_text())


def mutated(**changes):
    cfg = copy.deepcopy(VALID)
    for path, value in changes.items():
        node = cfg
        keys = path.split("__")
        for k in keys[:-1]:
            node = node[k]
        if value is KeyError:
            del node[keys[-1]]
        else:
            node[keys[-1]] = value
    return cfg


def test_valid_config_round_trips() -> None:
    cfg = parse_config(VALID)
    assert cfg.model_id == "example-classifier"
    assert cfg.positive_label == "1"
    again = parse_config(cfg.to_item())
    assert again == cfg


def test_positive_label_defaults_to_second_label() -> None:
    cfg = parse_config(mutated(positiveLabel=KeyError))
    assert cfg.positive_label == "1"


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"modelId": "bad id!"}, "modelId"),
        ({"problemType": "ranking"}, "problemType"),
        ({"dataCapture__s3Uri": "http://x/y"}, "dataCapture.s3Uri"),
        ({"features": []}, "features"),
        ({"labels": ["0", "1", "2"]}, "exactly two labels"),
        ({"positiveLabel": "yes"}, "positiveLabel"),
        ({"thresholds": [{"metric": "rmse", "max": 1.0}]}, "does not apply to a binary model"),
        ({"thresholds": [{"metric": "accuracy"}]}, "needs 'min' or 'max'"),
        ({"retrainPolicy__consecutiveBreaches": 0}, "consecutiveBreaches"),
        ({"drift__alpha": 1.5}, "drift.alpha"),
        ({"unknownField": 1}, "unknownField"),
        ({"training": KeyError}, "training"),
        ({"features": [{"name": "a"}, {"name": "a"}]}, "duplicate feature names"),
    ],
)
def test_invalid_configs_name_what_was_wrong(changes, fragment) -> None:
    with pytest.raises(InvalidModelConfig) as err:
        parse_config(mutated(**changes))
    assert fragment in str(err.value)
    assert err.value.details["problems"]


def test_non_object_config_is_rejected() -> None:
    with pytest.raises(InvalidModelConfig, match="JSON object"):
        parse_config(["not", "a", "dict"])


def test_model_id_must_match_the_key() -> None:
    with pytest.raises(InvalidModelConfig, match="does not match"):
        parse_config(VALID, model_id="other-model")


# ------------------------------------------------------------------ what is stored must be valid (issue 8.4)
SCOPE = StackScope(frozenset({"driftline-test-data"}), "123456789012")


def problems_of(cfg: dict, scope: StackScope | None = None) -> list[str]:
    with pytest.raises(InvalidModelConfig) as err:
        parse_config(cfg, scope=scope)
    problems = err.value.details["problems"]
    assert problems
    return problems


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize(
    "path",
    ["thresholds__0__min", "drift__psi", "retrainPolicy__cooldownHours", "promotion__minImprovement",
     "decisionThreshold"],
)
def test_non_finite_numbers_are_rejected(path: str, value: float) -> None:
    cfg = mutated(**{path: value}) if "__0__" not in path else _threshold(min=value)
    field = path.replace("__", ".")
    assert any(p.startswith(field) for p in problems_of(cfg)), field


def _threshold(**bounds: float) -> dict:
    cfg = copy.deepcopy(VALID)
    cfg["thresholds"] = [{"metric": "roc_auc", **bounds}]
    return cfg


@pytest.mark.parametrize(
    ("metric", "bounds"),
    [
        ("roc_auc", {"min": -1}),
        ("accuracy", {"min": 5}),
        ("f1", {"min": 0.9, "max": 0.5}),
        ("average_precision", {"max": 1.01}),
        ("precision", {"min": -0.01}),
        ("recall", {"max": 2}),
        ("brier", {"max": 1.5}),
        ("mcc", {"min": -2}),
        ("log_loss", {"max": -0.1}),
    ],
)
def test_thresholds_outside_their_metrics_range_are_rejected(metric: str, bounds: dict) -> None:
    cfg = copy.deepcopy(VALID)
    cfg["thresholds"] = [{"metric": metric, **bounds}]
    assert any(p.startswith("thresholds.0") for p in problems_of(cfg))


@pytest.mark.parametrize(
    ("metric", "bounds"),
    [("rmse", {"max": -1}), ("mse", {"min": 3, "max": 2}), ("mae", {"max": -0.5}), ("mape", {"min": -1}),
     ("r2", {"min": 1.5})],
)
def test_regression_thresholds_outside_their_range_are_rejected(metric: str, bounds: dict) -> None:
    cfg = mutated(problemType="regression", labels=None, positiveLabel=None, promotion__metric="rmse")
    cfg["thresholds"] = [{"metric": metric, **bounds}]
    assert any(p.startswith("thresholds.0") for p in problems_of(cfg))


def test_thresholds_inside_their_range_are_accepted() -> None:
    cfg = mutated(problemType="regression", labels=None, positiveLabel=None, promotion__metric="rmse")
    cfg["thresholds"] = [{"metric": "r2", "min": -5.0}, {"metric": "mse", "max": 1e6}, {"metric": "mae", "min": 0,
                                                                                       "max": 3}]
    assert len(parse_config(cfg).thresholds) == 3
    cfg = copy.deepcopy(VALID)
    cfg["thresholds"] = [{"metric": "mcc", "min": -0.5}, {"metric": "roc_auc", "min": 0, "max": 1}]
    assert len(parse_config(cfg).thresholds) == 2


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("windowHours", True),
        ("windowHours", "24"),
        ("windowHours", 24.0),
        ("promotion__requireApproval", 1),
        ("promotion__requireApproval", "true"),
        ("retrainPolicy__minSamples", 500.0),
        ("drift__bins", False),
        ("labels", [0, 1]),
        ("training__hyperparameters", {"l2": 1.0}),
        ("decisionThreshold", "0.5"),
    ],
)
def test_types_are_not_coerced(path: str, value: object) -> None:
    field = path.replace("__", ".")
    assert any(p.startswith(field) for p in problems_of(mutated(**{path: value}))), field


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("retrainPolicy__minSamples", 10**40),  # DynamoDB numbers hold 38 digits
        ("retrainPolicy__cooldownHours", 1e300),
        ("decisionThreshold", 1e-200),  # below DynamoDB's smallest magnitude (1e-130)
        ("sharding", {"thresholdBytes": 10**20}),
        ("deployment__initialInstanceCount", 10**6),
    ],
)
def test_numbers_dynamodb_cannot_store_are_rejected(path: str, value: object) -> None:
    field = path.replace("__", ".")
    assert any(p.startswith(field) for p in problems_of(mutated(**{path: value}))), field


def test_hyperparameters_fit_create_training_job() -> None:
    hp = {f"h{i}": str(i) for i in range(MAX_HYPERPARAMETERS)}
    assert len(parse_config(mutated(training__hyperparameters=hp)).training.hyperparameters) == MAX_HYPERPARAMETERS
    for bad in (
        {f"h{i}": "1" for i in range(150)},
        {f"h{i}": "1" for i in range(MAX_HYPERPARAMETERS + 1)},
        {"k" * 257: "1"},
        {"k": "v" * 2499},  # 2,501 characters JSON-encoded
        {"sagemaker_program": "other.py"},
    ):
        problems = problems_of(mutated(training__hyperparameters=bad))
        assert any(p.startswith("training.hyperparameters") for p in problems)


def test_the_largest_accepted_hyperparameters_make_a_valid_training_request() -> None:
    """The limits are botocore's CreateTrainingJob limits, after script mode adds its two entries."""
    model = botocore.session.get_session().get_service_model("sagemaker")
    shape = model.operation_model("CreateTrainingJob").input_shape
    hp = {f"{i:03d}" + "k" * 253: "v" * 2498 for i in range(MAX_HYPERPARAMETERS)}  # 256-char keys, 2,500 encoded
    cfg = parse_config(mutated(training__hyperparameters=hp))
    request = build_training_request(cfg, run_id="r1", role_arn="arn:aws:iam::123456789012:role/sm",
                                     train_uri="s3://b/t/", evaluation_uri="s3://b/e/")
    assert len(request["HyperParameters"]) == 100
    report = ParamValidator().validate(request, shape)
    assert not report.has_errors(), report.generate_report()


@pytest.mark.parametrize(
    "path",
    ["dataCapture__s3Uri", "groundTruth__s3Uri", "baselineUri", "training__sourceUri", "training__outputUri",
     "training__trainingDataUri"],
)
def test_s3_uris_must_be_in_the_stacks_buckets(path: str) -> None:
    cfg = mutated(**{path: "s3://someone-elses-bucket/data"})
    problems = problems_of(cfg, SCOPE)
    assert any(p.startswith(path.replace("__", ".")) and "someone-elses-bucket" in p for p in problems)
    assert parse_config(cfg, scope=StackScope(SCOPE.buckets | {"someone-elses-bucket"}, SCOPE.account))


def test_scope_from_the_environment() -> None:
    env = {"DRIFTLINE_BUCKET": "stack-data", "ALLOWED_DATA_BUCKETS": " shared-a, shared-b ,,",
           "SAGEMAKER_ROLE_ARN": "arn:aws:iam::210987654321:role/driftline-sm"}
    assert StackScope.from_env(env) == StackScope(frozenset({"stack-data", "shared-a", "shared-b"}), "210987654321")
    assert StackScope.from_env({"DRIFTLINE_BUCKET": "stack-data"}) == StackScope(frozenset({"stack-data"}), None)
    assert StackScope.from_env({}) is None


def test_parse_config_reads_the_scope_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTLINE_BUCKET", "another-stack")
    monkeypatch.delenv("ALLOWED_DATA_BUCKETS", raising=False)
    assert any("driftline-test-data" in p for p in problems_of(VALID, scope="env"))  # type: ignore[arg-type]
    monkeypatch.setenv("ALLOWED_DATA_BUCKETS", "driftline-test-data")
    assert parse_config(VALID).model_id == VALID["modelId"]


@pytest.mark.parametrize("path", ["training__roleArn", "deployment__executionRoleArn"])
def test_role_arns_must_be_in_the_stacks_account(path: str) -> None:
    other = mutated(**{path: "arn:aws:iam::999999999999:role/elsewhere"})
    assert any(p.startswith(path.replace("__", ".")) and "999999999999" in p for p in problems_of(other, SCOPE))
    assert parse_config(mutated(**{path: "arn:aws:iam::123456789012:role/mine"}), scope=SCOPE)
    assert any(p.startswith(path.replace("__", ".")) for p in problems_of(mutated(**{path: "not-an-arn"})))


def test_every_wrong_field_is_named_at_once() -> None:
    cfg = mutated(windowHours=True, drift__psi=math.nan, baselineUri="s3://elsewhere/b.json",
                  labels=["a", "a"], training__hyperparameters={f"h{i}": "1" for i in range(150)})
    cfg["thresholds"] = [{"metric": "roc_auc", "min": 0.9, "max": 0.1}, {"metric": "rmse", "max": 1.0}]
    fields = {p.split(":", 1)[0] for p in problems_of(cfg, SCOPE)}
    assert {"windowHours", "drift.psi", "baselineUri", "labels", "training.hyperparameters", "thresholds.0",
            "thresholds.1.metric"} <= fields


def test_the_stored_form_parses_again_under_strict_types() -> None:
    """DynamoDB gives integral floats back as ints (``cooldownHours: 48.0`` → ``48``): still a valid config."""
    cfg = parse_config(mutated(retrainPolicy__cooldownHours=48.0, promotion__minImprovement=0.0), scope=SCOPE)
    stored = from_ddb(to_ddb(cfg.to_item()))
    assert stored["retrainPolicy"]["cooldownHours"] == 48
    assert isinstance(stored["retrainPolicy"]["cooldownHours"], int)
    assert parse_config(stored, scope=SCOPE) == cfg
