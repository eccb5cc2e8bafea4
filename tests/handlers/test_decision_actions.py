"""The decision actions under moto: the deployer's ``recalibrate``, ``complete`` acknowledging drift, and
``Drift Detected`` for a single drifted feature."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from deployer.handler import lambda_handler as deployer_handler
from drift_checker.logic import publish_check
from driftline_common.config import parse_config
from driftline_common.errors import DeploymentFailed, InvalidEvent
from driftline_common.runs import RunRef
from driftline_common.settings import Settings
from driftline_common.store import LockStore, ModelStore, RunStore
from retrain_launcher.handler import lambda_handler as launcher_handler

from tests.conftest import ROOT, load_event
from tests.handlers._support import Context, bus_recorder, drain

CONFIG = json.loads((ROOT / "tests/fixtures/model_config_binary.json").read_text())
MODEL = CONFIG["modelId"]
CTX = Context()
RUN = {"runId": "run-recal", "modelId": MODEL, "window": {"start": "2024-05-01T00:00:00Z",
                                                          "end": "2024-05-02T00:00:00Z"}}


@pytest.fixture
def env(stack_env: dict[str, str]) -> dict[str, Any]:
    settings = Settings.from_env()
    models = ModelStore(settings)
    models.put_config(parse_config(CONFIG))
    return {"settings": settings, "models": models, "runs": RunStore(settings), "locks": LockStore(settings),
            "bus": bus_recorder(stack_env["EVENT_BUS_NAME"])}


def test_recalibrate_records_a_new_version_of_the_same_model(env: dict[str, Any]) -> None:
    models, runs, locks = env["models"], env["runs"], env["locks"]
    models.put_state(MODEL, {"champion": {"modelName": "m-v1", "endpointConfigName": "m-v1", "version": 3,
                                          "modelArtifacts": "s3://b/m.tar.gz", "since": "2024-04-01T00:00:00Z"}})
    runs.start(MODEL, RUN["runId"])
    locks.acquire(f"retrain#{MODEL}", RUN["runId"], ttl_seconds=3600)
    event = {"action": "recalibrate", "run": RUN, "comparison": {"promote": True, "remedy": "recalibration",
                                                                 "decisionThreshold": 0.31}}
    out = deployer_handler(copy.deepcopy(event), CTX)
    assert out["status"] == "InService"
    assert out["kind"] == "recalibration"
    assert (out["modelName"], out["endpointConfigName"], out["version"]) == ("m-v1", "m-v1", 4)
    assert out["decisionThreshold"] == 0.31
    assert out["previousDecisionThreshold"] == 0.5  # the config's
    assert out["lockReleased"] is True
    state = models.get_state(MODEL)
    assert state["champion"]["decisionThreshold"] == 0.31
    assert state["champion"]["modelSince"] == "2024-04-01T00:00:00Z"
    assert state["previousChampion"]["version"] == 3
    assert runs.get(MODEL, RUN["runId"])["deployment"]["kind"] == "recalibration"
    [ev] = drain(env["bus"])
    assert ev["detail-type"] == "Model Deployed"
    assert ev["detail"]["decisionThreshold"] == 0.31

    # a retry of the same run changes nothing
    again = deployer_handler(copy.deepcopy(event), CTX)
    assert again["version"] == 4
    assert models.get_state(MODEL)["previousChampion"]["version"] == 3

    # the pipeline's Complete records the champion again: the retrained challenger's artifacts are not merged in
    complete = load_event("retrain_launcher_complete.json")
    complete["run"] = {**complete["run"], "runId": RUN["runId"]}
    complete["state"]["deployment"] = out
    launcher_handler(complete, CTX)
    champion = models.get_state(MODEL)["champion"]
    assert champion["modelArtifacts"] == "s3://b/m.tar.gz"
    assert champion["decisionThreshold"] == 0.31


def test_recalibrate_bad_input(env: dict[str, Any]) -> None:
    with pytest.raises(InvalidEvent, match="decisionThreshold"):
        deployer_handler({"action": "recalibrate", "run": RUN, "comparison": {"decisionThreshold": "x"}}, CTX)
    with pytest.raises(InvalidEvent, match="decisionThreshold"):
        deployer_handler({"action": "recalibrate", "run": RUN, "comparison": {"decisionThreshold": float("nan")}},
                         CTX)
    with pytest.raises(DeploymentFailed, match="no champion"):
        deployer_handler({"action": "recalibrate", "run": RUN, "comparison": {"decisionThreshold": 0.4}}, CTX)


def _complete_event(run_id: str, *, breached: bool, trigger: str) -> dict[str, Any]:
    event = load_event("retrain_launcher_complete.json")
    event["run"]["runId"] = run_id
    event["assessment"]["evaluation"]["breached"] = breached
    event["assessment"]["drift"]["effects"] = {"f0": 0.9, "f2": 0.4}
    event["decision"]["trigger"] = trigger
    event["state"].pop("deployment")  # the challenger was not deployed
    return event


def test_complete_acknowledges_drift_that_did_not_hurt(env: dict[str, Any]) -> None:
    models, runs = env["models"], env["runs"]
    runs.start(MODEL, "drift-run")
    out = launcher_handler(_complete_event("drift-run", breached=False, trigger="drift"), CTX)
    assert out["outcome"] == "champion_kept"
    ack = models.get_state(MODEL)["driftAcknowledged"]
    assert ack["features"] == {"f0": 0.9, "f2": 0.4}
    assert ack["runId"] == "drift-run"
    assert runs.get(MODEL, "drift-run")["driftAcknowledged"]["features"] == ack["features"]

    # a performance-triggered retrain that was not deployed acknowledges nothing
    runs.start(MODEL, "perf-run")
    launcher_handler(_complete_event("perf-run", breached=True, trigger="performance"), CTX)
    assert models.get_state(MODEL)["driftAcknowledged"]["runId"] == "drift-run"

    # a deployed retrained model (new baseline) clears the acknowledgement
    runs.start(MODEL, "deployed-run")
    deployed = load_event("retrain_launcher_complete.json")
    deployed["run"]["runId"] = "deployed-run"
    launcher_handler(deployed, CTX)
    assert "driftAcknowledged" not in models.get_state(MODEL)


def test_drift_detected_is_published_for_a_single_drifted_feature(env: dict[str, Any]) -> None:
    run = RunRef(MODEL, "run-drift", datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 5, 2, tzinfo=UTC))
    features = {f"f{i}": {"drifted": False, "effectSize": 0.01} for i in range(6)}
    features["f3"] = {"drifted": True, "test": "ks_2samp", "pvalueAdjusted": 1e-30, "effect": "psi",
                      "effectSize": 3.2}
    doc = {"status": "ok", "detected": False, "driftedFeatures": ["f3"], "share": 1 / 6, "testedFeatures": 6,
           "sampleSize": 1000, "badRecords": 0, "correction": "benjamini-hochberg", "alpha": 0.01,
           "datasetShare": 0.3, "features": features}
    summary = publish_check(env["settings"], run, doc)
    assert summary["effects"] == {"f3": 3.2}
    [ev] = drain(env["bus"])
    assert ev["detail-type"] == "Drift Detected"
    assert ev["detail"]["datasetDrift"] is False
    assert ev["detail"]["driftedFeatures"] == ["f3"]
    assert ev["detail"]["features"]["f3"]["effectSize"] == 3.2

    # nothing drifted: nothing published
    publish_check(env["settings"], run, {**doc, "driftedFeatures": [], "features": {}})
    assert drain(env["bus"]) == []


def test_put_model_rejects_invalid_policy_fields_with_a_400_naming_them(stack_env: dict[str, str]) -> None:
    from api.handler import lambda_handler as api_handler

    event = load_event("api_put_model.json")
    cfg = json.loads(event["body"])
    cfg["promotion"] = {**cfg["promotion"], "nonInferiorityMargin": -0.1}
    cfg["retrainPolicy"] = {**cfg["retrainPolicy"], "thresholdConfidence": 1.5}
    event["body"] = json.dumps(cfg)
    resp = api_handler(event, CTX)
    body = json.loads(resp["body"])
    assert resp["statusCode"] == 400
    assert body["error"] == "InvalidModelConfig"
    assert any(p.startswith("promotion.nonInferiorityMargin") for p in body["details"]["problems"])
    assert any(p.startswith("retrainPolicy.thresholdConfidence") for p in body["details"]["problems"])
    # the same config without the new fields is accepted (documented defaults)
    ok = load_event("api_put_model.json")
    assert api_handler(ok, CTX)["statusCode"] == 200
    # sequential breaches: a non-positive limit, a negative reference, an unknown key -> 400 naming each field
    for bad, field in (({"limit": 0}, "limit"), ({"reference": -1}, "reference"), ({"h": 2}, "h"), ("on", "")):
        event = load_event("api_put_model.json")
        cfg = json.loads(event["body"])
        cfg["retrainPolicy"] = {**cfg["retrainPolicy"], "sequentialBreaches": bad}
        event["body"] = json.dumps(cfg)
        resp = api_handler(event, CTX)
        body = json.loads(resp["body"])
        assert resp["statusCode"] == 400, bad
        name = f"retrainPolicy.sequentialBreaches{'.' + field if field else ''}"
        assert any(p.startswith(name) for p in body["details"]["problems"]), (bad, body)
    # null turns the rule off; explicit settings are accepted
    for value in (None, {"reference": 0.5, "limit": 2}):
        event = load_event("api_put_model.json")
        cfg = json.loads(event["body"])
        cfg["retrainPolicy"] = {**cfg["retrainPolicy"], "sequentialBreaches": value}
        event["body"] = json.dumps(cfg)
        assert api_handler(event, CTX)["statusCode"] == 200, value
    # label-shift breaches: alpha outside (0, 0.05], an unknown dispersion or key, not an object -> 400; null, a
    # valid alpha or dispersion: 200
    for value, status, name in (({"alpha": 0}, 400, "retrainPolicy.labelShift.alpha"),
                                ({"alpha": 0.5}, 400, "retrainPolicy.labelShift.alpha"),
                                ({"level": 0.01}, 400, "retrainPolicy.labelShift.level"),
                                ({"dispersion": "quasi"}, 400, "retrainPolicy.labelShift.dispersion"),
                                (True, 400, "retrainPolicy.labelShift"),
                                (None, 200, ""), ({"alpha": 0.01}, 200, ""),
                                ({"alpha": 0.01, "dispersion": "binomial"}, 200, "")):
        event = load_event("api_put_model.json")
        cfg = json.loads(event["body"])
        cfg["retrainPolicy"] = {**cfg["retrainPolicy"], "labelShift": value}
        event["body"] = json.dumps(cfg)
        resp = api_handler(event, CTX)
        assert resp["statusCode"] == status, value
        if status == 400:
            assert any(p.startswith(name) for p in json.loads(resp["body"])["details"]["problems"]), value
