"""Lambda entry point of the HTTP API: routes (Powertools) → :mod:`api.logic`; errors → HTTP codes, here only."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from driftline_common.edge import check_model_id as _check_model_id
from driftline_common.edge import check_run_id as _check_run_id
from driftline_common.errors import DriftlineError, InternalError, InvalidEvent
from driftline_common.numbers import dumps
from driftline_common.observability import logger, metrics, tracer
from driftline_common.settings import get_settings
from pydantic import ValidationError

from api.logic import Api, ApprovalBody, InvalidRequest

MAX_LIMIT = 500


def to_json(value: Any) -> str:
    """Every response body through the number boundary: strict JSON, never a bare ``NaN`` token."""
    return dumps(value, default=str, separators=(",", ":"))


app = APIGatewayHttpResolver(serializer=to_json)


def _api() -> Api:
    return Api.from_settings(get_settings())


def _caller() -> str | None:
    iam = ((app.current_event.raw_event.get("requestContext") or {}).get("authorizer") or {}).get("iam") or {}
    return iam.get("userArn")


def check_model_id(value: str) -> str:
    """The path's model id, or 400 ``InvalidRequest`` (DynamoDB cannot key a 3,000-character id)."""
    try:
        return _check_model_id(value)
    except InvalidEvent as exc:
        raise InvalidRequest(exc.message, field="modelId") from None


def check_run_id(value: str) -> str:
    try:
        return _check_run_id(value)
    except InvalidEvent as exc:
        raise InvalidRequest(exc.message, field="runId") from None


def _reject_constant(name: str) -> Any:
    raise InvalidRequest(f"the body is not valid JSON: {name} is not a JSON value", field="body")


def _body() -> Any:
    """The request's JSON body: UTF-8, standard JSON (no ``NaN``/``Infinity``), nested at most as Python parses.

    Anything else is :class:`InvalidRequest` (400): a body that is not UTF-8, invalid base64, JSON nested
    deeper than the parser's recursion limit.
    """
    raw = app.current_event.body
    if not raw:
        raise InvalidRequest("the request needs a JSON body", field="body")
    try:
        data = base64.b64decode(raw, validate=True) if app.current_event.is_base64_encoded else raw.encode("utf-8")
        text = data.decode("utf-8")
    except (binascii.Error, ValueError):  # UnicodeError is a ValueError
        raise InvalidRequest("the body must be UTF-8 encoded JSON", field="body") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InvalidRequest(f"the body is not valid JSON: {exc.msg} at position {exc.pos}", field="body") from None
    except RecursionError:
        raise InvalidRequest("the body is not valid JSON: nested too deeply", field="body") from None


def _limit() -> int:
    raw = app.current_event.get_query_string_value("limit", "50") or "50"
    if not re.fullmatch(r"[0-9]{1,4}", raw) or not 1 <= int(raw) <= MAX_LIMIT:
        raise InvalidRequest(f"'limit' must be an integer in [1, {MAX_LIMIT}], got {raw[:20]!r}", field="limit")
    return int(raw)


@app.put("/models/<modelId>")
def put_model(modelId: str) -> dict[str, Any]:
    return _api().put_model(check_model_id(modelId), _body())


@app.get("/models/<modelId>")
def get_model(modelId: str) -> dict[str, Any]:
    return _api().get_model(check_model_id(modelId))


@app.get("/models")
def list_models() -> dict[str, Any]:
    return _api().list_models()


@app.post("/models/<modelId>/runs")
def start_run(modelId: str) -> Response:
    request_id = app.current_event.request_context.request_id
    out = _api().start_run(check_model_id(modelId), request_id=request_id, caller=_caller())
    return Response(202, content_types.APPLICATION_JSON, to_json(out))


@app.get("/models/<modelId>/runs")
def list_runs(modelId: str) -> dict[str, Any]:
    return _api().list_runs(check_model_id(modelId), limit=_limit())


@app.get("/models/<modelId>/runs/<runId>")
def get_run(modelId: str, runId: str) -> dict[str, Any]:
    return _api().get_run(check_model_id(modelId), check_run_id(runId))


@app.get("/models/<modelId>/metrics")
def get_metrics(modelId: str) -> dict[str, Any]:
    return _api().metrics(check_model_id(modelId), limit=_limit())


@app.get("/models/<modelId>/versions")
def list_versions(modelId: str) -> dict[str, Any]:
    return _api().versions(check_model_id(modelId))


@app.delete("/models/<modelId>")
def delete_model(modelId: str) -> dict[str, Any]:
    return _api().delete_model(check_model_id(modelId))


def _report(model_id: str, run_id: str | None) -> Response:
    """``text/html`` unless the caller's ``Accept`` asks for JSON (then the run's ``report.json``)."""
    accept = (app.current_event.get_header_value("accept", default_value="", case_sensitive=False) or "").lower()
    as_json = "application/json" in accept and "text/html" not in accept
    found, body = _api().report(model_id, run_id, as_json=as_json)
    kind = content_types.APPLICATION_JSON if as_json else "text/html; charset=utf-8"
    return Response(200, kind, body.decode("utf-8"), headers={"X-Driftline-Run-Id": found, "Vary": "Accept"})


@app.get("/models/<modelId>/report")
def latest_report(modelId: str) -> Response:
    return _report(check_model_id(modelId), None)


@app.get("/models/<modelId>/runs/<runId>/report")
def run_report(modelId: str, runId: str) -> Response:
    return _report(check_model_id(modelId), check_run_id(runId))


@app.post("/models/<modelId>/runs/<runId>/approval")
def approval(modelId: str, runId: str) -> dict[str, Any]:
    model_id, run_id = check_model_id(modelId), check_run_id(runId)
    body = ApprovalBody.model_validate(_body())
    return _api().approve(model_id, run_id, body, caller=_caller())


# ------------------------------------------------------------------------------------------------ errors
def _error(status: int, payload: dict[str, Any]) -> Response:
    return Response(status, content_types.APPLICATION_JSON, to_json(payload))


@app.exception_handler(DriftlineError)
def _domain_error(exc: DriftlineError) -> Response:
    logger.info("request refused", extra={"error": type(exc).__name__, "status": exc.http_status})
    if exc.http_status >= 500:
        return _error(exc.http_status, {"error": type(exc).__name__, "message": "internal error"})
    return _error(exc.http_status, exc.to_dict())


@app.exception_handler(ValidationError)
def _invalid_body(exc: ValidationError) -> Response:
    problems = [f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors()]
    return _error(400, {"error": "InvalidRequest", "message": "; ".join(problems), "details": {"problems": problems}})


@app.not_found
def _no_route(exc: NotFoundError) -> Response:
    http = app.current_event.request_context.http
    return _error(404, {"error": "RouteNotFound",
                        "message": f"no route {http.method} {http.path[:200]!r}; see the API's routes in the README"})


@app.exception_handler(Exception)
def _unexpected(exc: Exception) -> Response:
    error = InternalError.from_exception(exc)  # class and message to the log with the traceback, not to the caller
    logger.exception("unhandled error", extra={"error": "InternalError", **error.details})
    return _error(500, {"error": "InternalError", "message": "internal error",
                        "requestId": app.current_event.request_context.request_id})


def record_metrics(event: dict[str, Any], response: dict[str, Any]) -> None:
    """One ``ApiRequests`` per request; the ``modelId`` dimension only once the model answered (status < 400).

    The path's model id is caller input: refused requests (404 for an unknown id...) must not create metric
    series at will.
    """
    model_id = (event.get("pathParameters") or {}).get("modelId")
    if isinstance(model_id, str) and model_id and int(response.get("statusCode", 500)) < 400:
        metrics.add_dimension(name="modelId", value=model_id)
    metrics.add_metric(name="ApiRequests", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    iam = ((event.get("requestContext") or {}).get("authorizer") or {}).get("iam") or {}
    logger.append_keys(caller={k: iam.get(k) for k in ("userArn", "accountId", "callerId", "principalOrgId")})
    response = app.resolve(event, context)
    record_metrics(event, response)
    return response
