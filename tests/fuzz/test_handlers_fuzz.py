"""Property-based tests: generated malformed input to every handler under moto (issue 8.10).

Whatever the input — any JSON, wrong types, missing fields, huge and odd strings, impossible times, ids DynamoDB
cannot key, deep nesting — a handler returns, or raises a typed Driftline error (a subclass of
``DriftlineError``, which the state machine catches by name), and it never writes to S3 outside the run's own
prefix. The HTTP API answers 2xx/4xx with strict JSON, never a 500. The examples are derandomized (the same ones
on every run) and few (``max_examples``: 25 in ``make test``, 80 in ``make test-slow`` with ``DRIFTLINE_FUZZ=deep``),
so the suite stays fast and a found failure stays found.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import load_event
from tests.fuzz._strategies import EDGE_TIMES, JSON, MODEL_IDS, ODD_STRINGS, RUN, RUN_IDS, TIMES, mutated
from tests.fuzz.conftest import EXAMPLES, typed_or_result

FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])


def _json_safe(value: Any) -> Any:
    """What an event can hold after its JSON trip through Lambda (NaN/Infinity survive Python's json)."""
    return json.loads(json.dumps(value))


def any_event(base_names: list[str], actions: list[str]) -> st.SearchStrategy[Any]:
    bases = [load_event(n) for n in base_names]
    return st.one_of(
        JSON,  # anything at all
        st.fixed_dictionaries({"action": st.sampled_from(actions)}, optional={"run": RUN, "modelId": MODEL_IDS}),
        st.sampled_from(bases).flatmap(lambda b: mutated(b)),
        st.sampled_from(bases).flatmap(lambda b: mutated(b, keep=())),
        st.tuples(st.sampled_from(bases), st.sampled_from(actions), RUN).map(
            lambda t: {**t[0], "action": t[1], "run": t[2]}),
    ).map(_json_safe)


# ------------------------------------------------------------------------------------------------ HTTP API
ROUTES = [("GET", "/models"), ("GET", "/models/{m}"), ("PUT", "/models/{m}"), ("POST", "/models/{m}/runs"),
          ("GET", "/models/{m}/runs"), ("GET", "/models/{m}/runs/{r}"), ("GET", "/models/{m}/metrics"),
          ("POST", "/models/{m}/runs/{r}/approval"), ("DELETE", "/models/{m}"), ("GET", "/models//{m}"),
          ("GET", "/{m}")]


@st.composite
def api_events(draw: st.DrawFn) -> dict[str, Any]:
    event = load_event("api_get_model.json")
    method, template = draw(st.sampled_from(ROUTES))
    model, run = draw(st.one_of(MODEL_IDS.filter(lambda v: isinstance(v, str)), st.just("example-classifier"))), \
        draw(st.one_of(RUN_IDS.filter(lambda v: isinstance(v, str)), st.just("run-1")))
    path = template.format(m=model, r=run)
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} {template}"
    event["pathParameters"] = {"modelId": model, "runId": run}
    body_kind = draw(st.sampled_from(["none", "json", "config", "raw", "base64", "nested"]))
    if body_kind == "json":
        event["body"] = json.dumps(draw(JSON))
    elif body_kind == "config":
        event["body"] = json.dumps(draw(mutated(json.loads(load_event("api_put_model.json")["body"]), keep=())))
    elif body_kind == "raw":
        event["body"] = draw(st.text(max_size=200))
    elif body_kind == "base64":
        event["body"], event["isBase64Encoded"] = draw(st.text(max_size=60)), True
    elif body_kind == "nested":
        depth = draw(st.integers(100, 50_000))
        event["body"] = "[" * depth + "]" * depth
    if draw(st.booleans()):
        event["queryStringParameters"] = {"limit": draw(ODD_STRINGS)}
    return event


@FUZZ
@given(event=api_events())
def test_api_answers_bad_requests_with_4xx_and_strict_json(world: dict[str, str], event: dict[str, Any]) -> None:
    from api.handler import lambda_handler

    response = typed_or_result(lambda_handler, event)  # a domain error escaping the resolver fails here too
    assert isinstance(response, dict), response
    assert response["statusCode"] < 500, response

    def refuse(name: str) -> None:
        raise AssertionError(f"bare {name} in a response")
    json.loads(response["body"], parse_constant=refuse)


# ------------------------------------------------------------------------------------------------ trigger router
@FUZZ
@given(event=st.one_of(
    JSON,
    st.sampled_from(["trigger_schedule.json", "trigger_s3_ground_truth.json", "trigger_alarm.json"]).flatmap(
        lambda n: mutated(load_event(n), keep=())),
    st.sampled_from(["trigger_schedule.json", "trigger_s3_ground_truth.json"]).flatmap(
        lambda n: TIMES.map(lambda t: {**load_event(n), "time": t})),
).map(_json_safe))
def test_trigger_router_raises_only_typed_errors(world: dict[str, str], event: Any) -> None:
    from trigger_router.handler import lambda_handler

    typed_or_result(lambda_handler, event)


# ------------------------------------------------------------------------------------------------ retrain launcher
@st.composite
def start_requests(draw: st.DrawFn) -> dict[str, Any]:
    event = load_event("retrain_launcher_start_run.json")
    detail = event["request"]["detail"]
    detail["modelId"] = "example-classifier" if draw(st.integers(0, 9)) < 7 else draw(MODEL_IDS)
    if draw(st.integers(0, 4)) < 4:
        detail["windowEnd"] = draw(EDGE_TIMES) if draw(st.booleans()) else draw(TIMES)
    if draw(st.booleans()):
        detail["trigger"] = draw(st.one_of(JSON, st.fixed_dictionaries(
            {"type": st.sampled_from(["schedule", "api", "bogus"]), "id": ODD_STRINGS, "time": TIMES})))
    event["runId"] = draw(st.one_of(st.just("run-fuzz-1"), RUN_IDS))
    if draw(st.booleans()):
        event["request"] = detail  # a direct request instead of the envelope
    return _json_safe(event)


LAUNCHER_EVENTS = ["retrain_launcher_start_run.json", "retrain_launcher_decide.json",
                   "retrain_launcher_request_approval.json", "retrain_launcher_complete.json",
                   "retrain_launcher_fail.json"]
LAUNCHER_ACTIONS = ["start_run", "decide", "request_approval", "complete", "fail", "bogus"]


@FUZZ
@given(event=st.one_of(start_requests(), any_event(LAUNCHER_EVENTS, LAUNCHER_ACTIONS)))
def test_retrain_launcher_raises_only_typed_errors(world: dict[str, str], event: Any) -> None:
    from retrain_launcher.handler import lambda_handler

    from tests.fuzz.conftest import run_prefixes

    typed_or_result(lambda_handler, event, run_prefixes(event))


# ------------------------------------------------------------------------------------------------ data functions
EVALUATOR_EVENTS = ["metric_evaluator_evaluate.json", "metric_evaluator_compare.json"]
EVALUATOR_ACTIONS = ["evaluate", "compare", "evaluate_shard", "reduce", "bogus"]


@FUZZ
@given(event=any_event(EVALUATOR_EVENTS, EVALUATOR_ACTIONS))
def test_metric_evaluator_raises_only_typed_errors(world: dict[str, str], event: Any) -> None:
    from metric_evaluator.handler import lambda_handler

    from tests.fuzz.conftest import run_prefixes

    typed_or_result(lambda_handler, event, run_prefixes(event))


DRIFT_EVENTS = ["drift_checker_check.json", "drift_checker_build_baseline.json"]
DRIFT_ACTIONS = ["check", "build_baseline", "check_shard", "reduce", "bogus"]


@FUZZ
@given(event=any_event(DRIFT_EVENTS, DRIFT_ACTIONS))
def test_drift_checker_raises_only_typed_errors(world: dict[str, str], event: Any) -> None:
    from drift_checker.handler import lambda_handler

    from tests.fuzz.conftest import run_prefixes

    allowed = run_prefixes(event)
    if isinstance(event, dict) and event.get("action") == "build_baseline":
        allowed = (*allowed, "baselines/example-classifier/baseline.json")  # the config's baselineUri, only
    typed_or_result(lambda_handler, event, allowed)


class _Ok:
    status_code = 200


@pytest.fixture
def endpoint(world: dict[str, str]) -> dict[str, str]:
    """The example's endpoint in moto; ``UpdateEndpoint`` (which moto lacks) answered after botocore validated it."""
    from driftline_common.aws import client

    sm = client("sagemaker")
    sm.create_model(ModelName="m0", ExecutionRoleArn="arn:aws:iam::123456789012:role/sm",
                    PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1"})
    sm.create_endpoint_config(EndpointConfigName="driftline-example-classifier-initial", ProductionVariants=[
        {"VariantName": "AllTraffic", "ModelName": "m0", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])
    sm.create_endpoint(EndpointName="driftline-example-classifier",
                       EndpointConfigName="driftline-example-classifier-initial")
    sm.meta.events.register(
        "before-call.sagemaker.UpdateEndpoint",
        lambda params, **_: (_Ok(), {"EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/"
                                                    + json.loads(params["body"])["EndpointName"]}),
    )
    return world


@FUZZ
@given(event=any_event(["deployer_deploy.json", "deployer_status.json"], ["deploy", "status", "bogus"]))
def test_deployer_raises_only_typed_errors(endpoint: dict[str, str], event: Any) -> None:
    from deployer.handler import lambda_handler

    typed_or_result(lambda_handler, event)
