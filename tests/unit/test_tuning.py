"""``training.tuning``: the config refuses every search SageMaker would refuse (naming the field), the
CreateHyperParameterTuningJob request is valid for botocore's service model and carries the run's training job
definition, and the local tuner samples reproducibly within the ranges."""

from __future__ import annotations

import copy
import json
import math
import re
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator
from driftline_common.config import parse_config
from driftline_common.errors import InvalidModelConfig
from retrain_launcher.training import build_training_request
from retrain_launcher.tuning import build_tuning_request, tuning_job_name
from samlocal.sagemaker_tuner import sample_trials

CONFIG = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "model_config_binary.json").read_text())
TUNING: dict[str, Any] = {
    "strategy": "Random",
    "objective": {"metric": "train:loss", "type": "Minimize", "regex": r"train:loss=([0-9.]+);"},
    "ranges": {"continuous": [{"name": "l2", "min": 0.01, "max": 10.0, "scaling": "Logarithmic"}],
               "integer": [{"name": "max_iter", "min": 20, "max": 200}],
               "categorical": [{"name": "solver", "values": ["newton", "gd"]}]},
    "maxJobs": 3,
    "maxParallelJobs": 2,
}
TUNING_JOB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$")


def config(**tuning: Any) -> dict[str, Any]:
    cfg = copy.deepcopy(CONFIG)
    cfg["training"]["tuning"] = {**copy.deepcopy(TUNING), **tuning}
    return cfg


def problems(cfg: dict[str, Any]) -> list[str]:
    with pytest.raises(InvalidModelConfig) as info:
        parse_config(cfg, scope=None)
    return list(info.value.details["problems"])


def request(cfg: dict[str, Any], run_id: str = "run-1") -> tuple[dict[str, Any], dict[str, Any]]:
    parsed = parse_config(cfg, scope=None)
    training = build_training_request(parsed, run_id=run_id, role_arn="arn:aws:iam::123456789012:role/sm",
                                      train_uri="s3://b/td/r/train/", evaluation_uri="s3://b/td/r/evaluation/")
    return training, build_tuning_request(parsed, training, run_id=run_id)


@pytest.fixture(scope="module")
def tuning_shape():  # type: ignore[no-untyped-def]
    model = botocore.session.get_session().get_service_model("sagemaker")
    return model.operation_model("CreateHyperParameterTuningJob").input_shape


def test_a_config_without_tuning_is_stored_as_before() -> None:
    cfg = parse_config(CONFIG, scope=None)
    assert cfg.training.tuning is None
    assert "tuning" not in cfg.to_item()["training"]


def test_a_tuning_config_round_trips() -> None:
    cfg = parse_config(config(), scope=None)
    assert cfg.training.tuning is not None
    assert cfg.training.tuning.max_jobs == 3
    assert parse_config(cfg.to_item(), scope=None) == cfg
    assert cfg.to_item()["training"]["tuning"]["ranges"]["continuous"][0]["scaling"] == "Logarithmic"


@pytest.mark.parametrize(("tuning", "field", "fragment"), [
    ({"ranges": {"continuous": [{"name": "l2", "min": 1.0, "max": 1.0}]}}, "training.tuning.ranges.continuous.0",
     "must be below max"),
    ({"ranges": {"integer": [{"name": "max_iter", "min": 50, "max": 10}]}}, "training.tuning.ranges.integer.0",
     "must be below max"),
    ({"ranges": {"categorical": [{"name": "solver", "values": []}]}}, "training.tuning.ranges.categorical.0",
     "no values"),
    ({"ranges": {"continuous": [{"name": "l2", "min": 0.0, "max": 1.0, "scaling": "Logarithmic"}]}},
     "training.tuning.ranges.continuous.0", "min > 0"),
    ({"ranges": {"continuous": [{"name": "l2", "min": 0.5, "max": 2.0, "scaling": "ReverseLogarithmic"}]}},
     "training.tuning.ranges.continuous.0", "0 <= min < max < 1"),
    ({"ranges": {}}, "training.tuning.ranges", "at least one"),
    ({"ranges": {"categorical": [{"name": "sagemaker_program", "values": ["a.py"]}]}}, "training.tuning.ranges",
     "set by Driftline"),
    ({"maxJobs": 2, "maxParallelJobs": 3}, "training.tuning.maxParallelJobs", "must not exceed maxJobs"),
    ({"maxJobs": None}, "training.tuning.maxJobs", "required"),
    ({"strategy": "Annealing"}, "training.tuning.strategy", "'Bayesian'"),
    ({"objective": {"metric": "validation:auc", "type": "Maximize"}}, "training.tuning.objective.metric",
     "has no definition"),
    ({"objective": {"metric": "auc", "type": "Maximize", "regex": "auc=[0-9.]+"}}, "training.tuning.objective.regex",
     "capture group"),
    ({"objective": {"metric": "auc", "type": "Maximize", "regex": "auc=([0-9.]+"}}, "training.tuning.objective.regex",
     "not a valid regular expression"),
    ({"objective": {"metric": "auc", "type": "Best", "regex": "auc=([0-9.]+)"}}, "training.tuning.objective.type",
     "'Maximize'"),
    ({"strategy": "Hyperband"}, "training.tuning.hyperband", "needs {minResource, maxResource}"),
    ({"strategy": "Hyperband", "hyperband": {"minResource": 5, "maxResource": 5}}, "training.tuning.hyperband",
     "must be below maxResource"),
    ({"strategy": "Hyperband", "hyperband": {"minResource": 1, "maxResource": 9}, "earlyStopping": "Auto"},
     "training.tuning.earlyStopping", "must be 'Off'"),
    ({"hyperband": {"minResource": 1, "maxResource": 9}}, "training.tuning.hyperband", "only for the Hyperband"),
    ({"strategy": "Grid", "maxJobs": None}, "training.tuning.ranges", "categorical ranges only"),
    ({"strategy": "Grid", "ranges": {"categorical": [{"name": "solver", "values": ["newton", "gd"]}]}},
     "training.tuning.maxJobs", "leave maxJobs out"),
    ({"maxJobs": 0}, "training.tuning.maxJobs", "greater than or equal to 1"),
    ({"surprise": 1}, "training.tuning.surprise", "Extra inputs"),
])
def test_an_impossible_search_is_refused_naming_the_field(tuning: dict, field: str, fragment: str) -> None:
    found = [p for p in problems(config(**tuning)) if p.startswith(field)]
    assert found, problems(config(**tuning))
    assert any(fragment in p for p in found), found


def test_every_tuning_problem_is_named_at_once_with_the_rest_of_the_config() -> None:
    cfg = config(maxJobs=1, maxParallelJobs=4, ranges={"continuous": [{"name": "l2", "min": 3.0, "max": 1.0}],
                                                      "categorical": [{"name": "solver", "values": []}]})
    cfg["windowHours"] = 0
    fields = {p.split(":", 1)[0] for p in problems(cfg)}
    assert {"windowHours", "training.tuning.maxParallelJobs", "training.tuning.ranges.continuous.0",
            "training.tuning.ranges.categorical.0"} <= fields


def test_an_objective_defined_in_metric_definitions_is_accepted() -> None:
    cfg = config(objective={"metric": "train:auc", "type": "Maximize"},
                 metricDefinitions=[{"name": "train:auc", "regex": r"train:auc=([0-9.]+)"},
                                    {"name": "train:loss", "regex": r"train:loss=([0-9.]+)"}])
    _, tuning = request(cfg)
    definitions = tuning["TrainingJobDefinition"]["AlgorithmSpecification"]["MetricDefinitions"]
    assert [d["Name"] for d in definitions] == ["train:auc", "train:loss"]


@pytest.mark.parametrize("tuning", [
    {},
    {"strategy": "Bayesian", "randomSeed": 7, "earlyStopping": "Auto", "maxRuntimeSeconds": 3600},
    {"strategy": "Hyperband", "hyperband": {"minResource": 1, "maxResource": 27}, "maxJobs": 10},
    {"strategy": "Grid", "maxJobs": None, "maxParallelJobs": 2,
     "ranges": {"categorical": [{"name": "solver", "values": ["newton", "gd"]}, {"name": "l2", "values": ["1", "2"]}]}},
])
def test_the_request_is_valid_for_botocore(tuning_shape, tuning: dict) -> None:  # type: ignore[no-untyped-def]
    training, req = request(config(**tuning))
    report = ParamValidator().validate(req, tuning_shape)
    assert not report.has_errors(), report.generate_report()
    definition = req["TrainingJobDefinition"]
    for key in ("RoleArn", "InputDataConfig", "OutputDataConfig", "ResourceConfig", "StoppingCondition"):
        assert definition[key] == training[key]
    assert definition["AlgorithmSpecification"]["TrainingImage"] == training["AlgorithmSpecification"]["TrainingImage"]
    limits = req["HyperParameterTuningJobConfig"]["ResourceLimits"]
    assert ("MaxNumberOfTrainingJobs" in limits) == (req["HyperParameterTuningJobConfig"]["Strategy"] != "Grid")


def test_the_request_carries_the_search_and_the_fixed_hyperparameters() -> None:
    training, req = request(config(ranges={"continuous": [{"name": "l2", "min": 0.01, "max": 10.0,
                                                           "scaling": "Logarithmic"}]}))
    cfg = req["HyperParameterTuningJobConfig"]
    assert cfg["Strategy"] == "Random"
    assert cfg["HyperParameterTuningJobObjective"] == {"Type": "Minimize", "MetricName": "train:loss"}
    assert cfg["ResourceLimits"] == {"MaxParallelTrainingJobs": 2, "MaxNumberOfTrainingJobs": 3}
    assert cfg["ParameterRanges"] == {"ContinuousParameterRanges": [
        {"Name": "l2", "MinValue": "0.01", "MaxValue": "10.0", "ScalingType": "Logarithmic"}]}
    static = req["TrainingJobDefinition"]["StaticHyperParameters"]
    # the ranged l2 is tuned, not fixed; the rest (and script mode's two entries) stay as the training job has them
    assert "l2" not in static
    assert "l2" in training["HyperParameters"]
    assert static == {k: v for k, v in training["HyperParameters"].items() if k != "l2"}
    assert static["sagemaker_program"] == '"train.py"'
    assert req["TrainingJobDefinition"]["AlgorithmSpecification"]["MetricDefinitions"] == [
        {"Name": "train:loss", "Regex": r"train:loss=([0-9.]+);"}]
    assert "StrategyConfig" not in cfg
    assert "RandomSeed" not in cfg


def test_tuning_job_names_fit_sagemaker_and_the_iam_prefix() -> None:
    names = {tuning_job_name(m, r) for m in ("example-classifier", "a", "x" * 63, "a_b")
             for r in ("run-1", "run-2", "3f2a9c1e-0b4d-4f7e-9a11-5c6d7e8f9a0b")}
    assert len(names) == 12
    for name in names:
        assert TUNING_JOB_NAME.match(name), name
        assert name.startswith("driftline-"), name
    assert tuning_job_name("m", "r") == tuning_job_name("m", "r")


def test_the_local_tuner_samples_reproducibly_within_the_ranges() -> None:
    _, req = request(config(maxJobs=40))
    cfg = req["HyperParameterTuningJobConfig"]
    trials = sample_trials("driftline-x", cfg)
    assert trials == sample_trials("driftline-x", cfg)  # the same job samples the same values
    assert trials != sample_trials("driftline-y", cfg)
    assert len(trials) == 40
    l2 = [float(t["l2"]) for t in trials]
    assert all(0.01 <= v <= 10.0 for v in l2)
    assert sum(v < 0.316 for v in l2) >= 12  # log-uniform: about half below the geometric midpoint
    assert all(20 <= int(t["max_iter"]) <= 200 for t in trials)
    assert {t["solver"] for t in trials} == {"newton", "gd"}
    seeded = {**cfg, "RandomSeed": 3}
    assert sample_trials("driftline-x", seeded) == sample_trials("driftline-y", seeded)


def test_the_local_tuner_runs_every_grid_combination() -> None:
    _, req = request(config(strategy="Grid", maxJobs=None, ranges={"categorical": [
        {"name": "solver", "values": ["newton", "gd"]}, {"name": "l2", "values": ["0.1", "1", "10"]}]}))
    trials = sample_trials("driftline-g", req["HyperParameterTuningJobConfig"])
    assert trials == [{"solver": s, "l2": v} for s in ("newton", "gd") for v in ("0.1", "1", "10")]


def test_reverse_logarithmic_sampling_stays_in_range() -> None:
    cfg = {"Strategy": "Random", "ResourceLimits": {"MaxNumberOfTrainingJobs": 200, "MaxParallelTrainingJobs": 1},
           "ParameterRanges": {"ContinuousParameterRanges": [
               {"Name": "momentum", "MinValue": "0.5", "MaxValue": "0.999", "ScalingType": "ReverseLogarithmic"}]}}
    values = [float(t["momentum"]) for t in sample_trials("driftline-m", cfg)]
    assert all(0.5 <= v <= 0.999 for v in values)
    assert sum(v > 0.98 for v in values) > 40  # dense near 1 (linear would put ~4 % there)
    assert not any(math.isnan(v) for v in values)
