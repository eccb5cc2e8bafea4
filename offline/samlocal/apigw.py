"""The template's HTTP API served locally: requests become API Gateway HTTP API (payload 2.0) events.

:func:`routes_from_template` reads the ``HttpApi`` events of every ``AWS::Serverless::Function`` (``Method`` +
``Path`` with ``{param}`` / ``{proxy+}``) and the API's authorizer (``Auth.DefaultAuthorizer``, a route's own
``Auth.Authorizer``). :class:`HttpApiApp` is a WSGI application that matches a request to a route the way API
Gateway does (the most specific route wins, an unmatched request gets 404), enforces ``AWS_IAM`` authorization
with :class:`~samlocal.sigv4.SigV4Verifier` (an unsigned or badly signed request gets 403 and never
reaches the function), builds the event (:func:`build_event`) and maps the function's answer back
(:func:`response_from_result`, the payload 2.0 rules: a dict with ``statusCode`` is a full response, anything
else is a 200 JSON body; a function error is 500).

API Gateway's limits hold: a body over 10 MB is refused with 413 before the function is called (also when it
is sent chunked, without ``Content-Length``), and a function that has not answered within the integration
timeout (29 s) gets 504 ``{"message": "Endpoint request timed out"}`` while it runs on, as a Lambda function
does. Functions run in a pool of worker threads, so one slow request does not hold up the others.

Example
-------
>>> route = Route(method="GET", path="/models/{modelId}/runs", function="ApiFunction")
>>> route.match("/models/m1/runs")
{'modelId': 'm1'}
>>> route.route_key
'GET /models/{modelId}/runs'
>>> response_from_result({"statusCode": 201, "body": "{}"})[0]
201
"""

from __future__ import annotations

import base64
import json
import logging
import re
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from .sigv4 import SignatureError, SigV4Verifier

__all__ = [
    "ApiRouteError",
    "HttpApiApp",
    "Route",
    "build_event",
    "load_routes",
    "response_from_result",
    "routes_from_template",
]

LOG = logging.getLogger("samlocal.apigw")

_PARAM = re.compile(r"^\{([A-Za-z0-9_.\-]+)(\+?)\}$")
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript",
               "application/x-www-form-urlencoded", "+json", "+xml")
_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"}
#: API Gateway's quotas: request payload and integration timeout
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
INTEGRATION_TIMEOUT_S = 29.0


class ApiRouteError(ValueError):
    """The template's HTTP API routes cannot be served (bad method or path)."""


@dataclass(frozen=True)
class Route:
    """One ``METHOD /path`` route of an HTTP API, integrated with one function (by logical id)."""

    method: str
    path: str
    function: str
    authorizer: str | None = "AWS_IAM"
    segments: tuple[tuple[str, str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        method = self.method.upper()
        if method not in _METHODS:
            raise ApiRouteError(f"route {self.method} {self.path}: unsupported method")
        object.__setattr__(self, "method", method)
        if self.path == "$default":
            object.__setattr__(self, "segments", (("greedy", "proxy"),))
            return
        if not self.path.startswith("/"):
            raise ApiRouteError(f"route {self.method} {self.path}: the path must start with '/'")
        segments: list[tuple[str, str]] = []
        parts = [p for p in self.path.split("/") if p]
        for i, part in enumerate(parts):
            m = _PARAM.match(part)
            if m and m.group(2):
                if i != len(parts) - 1:
                    raise ApiRouteError(f"route {self.path}: a greedy {{{m.group(1)}+}} must be the last segment")
                segments.append(("greedy", m.group(1)))
            elif m:
                segments.append(("param", m.group(1)))
            else:
                segments.append(("literal", part))
        object.__setattr__(self, "segments", tuple(segments))

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"

    def specificity(self) -> tuple[int, int, int, int]:
        """Sort key, larger is more specific: literals, then fewer greedy, then a named method."""
        literals = sum(1 for kind, _ in self.segments if kind == "literal")
        greedy = sum(1 for kind, _ in self.segments if kind == "greedy")
        return (0 if self.path == "$default" else 1, literals, -greedy, int(self.method != "ANY"))

    def match(self, path: str) -> dict[str, str] | None:
        """Path parameters (decoded) if ``path`` (percent-encoded, no query) matches, else ``None``."""
        parts = [p for p in path.split("/") if p]
        params: dict[str, str] = {}
        for i, (kind, name) in enumerate(self.segments):
            if kind == "greedy":
                if i >= len(parts) and self.path != "$default":
                    return None
                if self.path != "$default":
                    params[name] = unquote("/".join(parts[i:]))
                return params
            if i >= len(parts):
                return None
            if kind == "literal":
                if unquote(parts[i]) != name:
                    return None
            else:
                params[name] = unquote(parts[i])
        return params if len(parts) == len(self.segments) else None


def routes_from_template(template: Mapping[str, Any], *, api: str | None = None) -> list[Route]:
    """The ``HttpApi`` routes of the template's functions (optionally of one ``ApiId`` logical id).

    The authorizer of a route is its ``Auth.Authorizer``, else the API's ``Auth.DefaultAuthorizer``
    (``NONE`` means none); ``AWS_IAM`` is the only kind the offline server enforces.
    """
    resources = template.get("Resources") or {}
    default_auth: dict[str, str | None] = {}
    for logical_id, res in resources.items():
        if res.get("Type") == "AWS::Serverless::HttpApi":
            auth = (res.get("Properties") or {}).get("Auth") or {}
            default_auth[logical_id] = auth.get("DefaultAuthorizer")
    routes: list[Route] = []
    for logical_id, res in resources.items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        for event_id, ev in ((res.get("Properties") or {}).get("Events") or {}).items():
            if ev.get("Type") != "HttpApi":
                continue
            props = ev.get("Properties") or {}
            api_ref = props.get("ApiId")
            api_id = api_ref.get("Ref") if isinstance(api_ref, Mapping) else None
            if api is not None and api_id != api:
                continue
            authorizer = (props.get("Auth") or {}).get("Authorizer") or default_auth.get(api_id or "")
            if authorizer == "NONE":
                authorizer = None
            if authorizer not in (None, "AWS_IAM"):
                raise ApiRouteError(
                    f"{logical_id}.Events.{event_id}: authorizer {authorizer!r} is not supported offline (AWS_IAM only)"
                )
            path = props.get("Path", "$default")
            method = props.get("Method", "ANY")
            routes.append(Route(method=str(method), path=str(path), function=logical_id, authorizer=authorizer))
    keys = [r.route_key for r in routes]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise ApiRouteError(f"duplicate routes: {', '.join(duplicates)}")
    return routes


def _is_text(content_type: str | None) -> bool:
    if not content_type:
        return True
    ct = content_type.lower()
    return any(t in ct for t in _TEXT_TYPES)


def build_event(
    *,
    route: Route,
    path_parameters: Mapping[str, str],
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    source_ip: str,
    stage: str,
    api_id: str,
    account_id: str,
    authorizer: Mapping[str, Any] | None,
    domain_name: str,
    now: datetime | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API payload 2.0 event for one request."""
    now = now or datetime.now(UTC)
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        lname = name.lower()
        if lname == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        merged[lname] = f"{merged[lname]},{value}" if lname in merged else value
    query: dict[str, str] = {}
    for part in raw_query.split("&") if raw_query else []:
        if not part:
            continue
        k, _, v = part.partition("=")
        k, v = unquote(k.replace("+", " ")), unquote(v.replace("+", " "))
        query[k] = f"{query[k]},{v}" if k in query else v
    request_id = request_id or str(uuid.uuid4())
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": merged,
        "requestContext": {
            "accountId": account_id,
            "apiId": api_id,
            "domainName": domain_name,
            "domainPrefix": domain_name.split(".")[0].split(":")[0],
            "http": {
                "method": method.upper(),
                "path": unquote(raw_path),
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": merged.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": route.route_key,
            "stage": stage,
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if authorizer:
        event["requestContext"]["authorizer"] = dict(authorizer)
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if body:
        if _is_text(merged.get("content-type")):
            try:
                event["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                event["body"] = base64.b64encode(body).decode("ascii")
                event["isBase64Encoded"] = True
        else:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


def response_from_result(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """``(status, headers, body)`` from a function's payload 2.0 response.

    A dict with ``statusCode`` is taken as the response (``headers``, ``cookies``, ``body``,
    ``isBase64Encoded``); any other value is returned as a 200 ``application/json`` body (a string as is).
    """
    if isinstance(result, Mapping) and "statusCode" in result:
        status = int(result["statusCode"])
        headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers.extend((str(name), str(v)) for v in values)
        headers.extend(("Set-Cookie", str(c)) for c in result.get("cookies") or [])
        raw = result.get("body")
        if raw is None:
            body = b""
        elif result.get("isBase64Encoded"):
            body = base64.b64decode(raw)
        else:
            body = raw.encode("utf-8") if isinstance(raw, str) else json.dumps(raw).encode("utf-8")
        if not any(k.lower() == "content-type" for k, _ in headers) and body:
            headers.append(("Content-Type", "application/json"))
        return status, headers, body
    body = result.encode("utf-8") if isinstance(result, str) else json.dumps(result).encode("utf-8")
    return 200, [("Content-Type", "application/json")], body


def _json_response(
    status: int, message: str, extra: list[tuple[str, str]] | None = None
) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [("Content-Type", "application/json"), *(extra or [])]
    return status, headers, json.dumps({"message": message}).encode("utf-8")


_REASONS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 400: "Bad Request", 403: "Forbidden",
            404: "Not Found", 409: "Conflict", 413: "Payload Too Large", 500: "Internal Server Error",
            503: "Service Unavailable", 504: "Gateway Timeout"}


class HttpApiApp:
    """WSGI application serving HTTP API routes by invoking their functions in-process.

    Parameters
    ----------
    routes : list of Route
    invoke : callable
        ``invoke(function_logical_id, event) -> result``; an exception is a function error (500).
    verifier : SigV4Verifier
        Checks ``AWS_IAM`` routes.
    stage, api_id, account_id : str, keyword-only
        Put in ``requestContext``.
    max_body : int, keyword-only
        Larger bodies get 413 (API Gateway's payload limit is 10 MB).
    integration_timeout : float, keyword-only
        Seconds a function has to answer before the client gets 504 (API Gateway: 29 s).
    workers : int, keyword-only
        Functions invoked at once (more requests wait for a worker; the wait counts towards the timeout).
    log_size : int, keyword-only
        Access-log records kept in :attr:`log` (the newest).
    """

    def __init__(
        self,
        routes: list[Route],
        invoke: Callable[[str, dict[str, Any]], Any],
        verifier: SigV4Verifier,
        *,
        stage: str = "$default",
        api_id: str = "offline",
        account_id: str = "123456789012",
        max_body: int = MAX_PAYLOAD_BYTES,
        integration_timeout: float = INTEGRATION_TIMEOUT_S,
        workers: int = 32,
        log_size: int = 1000,
    ) -> None:
        self.routes = sorted(routes, key=lambda r: r.specificity(), reverse=True)
        self.invoke = invoke
        self.verifier = verifier
        self.stage = stage
        self.api_id = api_id
        self.account_id = account_id
        self.max_body = max_body
        self.integration_timeout = integration_timeout
        self.log: deque[dict[str, Any]] = deque(maxlen=log_size)  # access log (one record per request)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="samlocal-api-fn")

    def close(self) -> None:
        """Stop the worker pool (functions still running finish; nothing new is started)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def find(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The most specific route for ``method`` and the percent-encoded ``path``."""
        method = method.upper()
        for route in self.routes:
            if route.method not in (method, "ANY"):
                continue
            params = route.match(path)
            if params is not None:
                return route, params
        return None

    def stage_paths(self, raw_path: str) -> tuple[str, str]:
        """``(path to route on, rawPath of the event)`` for a received path.

        With a named stage the deployed URL is ``https://{api}.execute-api.{region}.amazonaws.com/{stage}/...``
        and API Gateway puts the stage in ``rawPath``; locally a request may omit the ``/{stage}`` prefix, and
        the function still sees the path it would see deployed.
        """
        if self.stage == "$default":
            return raw_path, raw_path
        prefix = f"/{self.stage}"
        if raw_path == prefix or raw_path.startswith(prefix + "/"):
            return raw_path[len(prefix):] or "/", raw_path
        return raw_path, prefix + raw_path

    def handle(
        self,
        *,
        method: str,
        raw_path: str,
        raw_query: str,
        headers: list[tuple[str, str]],
        body: bytes,
        source_ip: str,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Route, authorize, invoke; returns ``(status, headers, body)``."""
        request_id = str(uuid.uuid4())
        started = time.perf_counter()
        record: dict[str, Any] = {"requestId": request_id, "method": method, "path": raw_path, "ip": source_ip}
        try:
            response = self._handle(method, raw_path, raw_query, headers, body, source_ip, request_id, record)
        except Exception:  # a bug here must still answer (and be logged), like API Gateway's 500
            LOG.exception("request %s %s failed", method, raw_path)
            response = _json_response(500, "Internal Server Error")
        response[1].append(("apigw-requestid", request_id))
        record["status"] = response[0]
        record["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
        self.log.append(record)
        LOG.info("%s", json.dumps(record))
        return response

    def _handle(
        self,
        method: str,
        raw_path: str,
        raw_query: str,
        headers: list[tuple[str, str]],
        body: bytes,
        source_ip: str,
        request_id: str,
        record: dict[str, Any],
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        route_path, event_path = self.stage_paths(raw_path)
        found = self.find(method, route_path)
        if found is None:
            return _json_response(404, "Not Found")
        route, params = found
        record["routeKey"] = route.route_key
        if len(body) > self.max_body:
            return _json_response(413, "Request Entity Too Large")
        authorizer = None
        if route.authorizer == "AWS_IAM":
            try:
                identity = self.verifier.verify(
                    method=method, raw_path=raw_path, raw_query=raw_query, headers=headers, body=body
                )
            except SignatureError as err:
                record["authError"] = err.reason
                LOG.warning("403 %s %s: %s", method, raw_path, err.reason)
                return _json_response(403, "Forbidden", [("x-amzn-ErrorType", "ForbiddenException")])
            authorizer = identity.as_authorizer()
            record["caller"] = identity.user_arn
        domain = next((v for k, v in headers if k.lower() == "host"), "localhost")
        event = build_event(
            route=route, path_parameters=params, method=method, raw_path=event_path, raw_query=raw_query,
            headers=headers, body=body, source_ip=source_ip, stage=self.stage, api_id=self.api_id,
            account_id=self.account_id, authorizer=authorizer, domain_name=domain, request_id=request_id,
        )
        future = self._pool.submit(self.invoke, route.function, event)
        try:
            result = future.result(timeout=self.integration_timeout)
        except FutureTimeout:  # the function runs on; the caller is answered as API Gateway answers
            record["functionError"] = f"integration timeout after {self.integration_timeout:g} s"
            LOG.warning("function %s: %s", route.function, record["functionError"])
            return _json_response(504, "Endpoint request timed out")
        except Exception as exc:  # the function failed: API Gateway answers 500
            record["functionError"] = f"{type(exc).__name__}: {exc}"
            LOG.warning("function %s failed: %s", route.function, record["functionError"], exc_info=True)
            return _json_response(500, "Internal Server Error")
        try:
            return response_from_result(result)
        except (TypeError, ValueError) as exc:
            record["functionError"] = f"malformed response: {exc}"
            return _json_response(500, "Internal Server Error")

    # -- WSGI ------------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        from werkzeug.wrappers import Request

        request = Request(environ)
        raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or request.path
        raw_uri = raw_uri.encode("latin-1").decode("utf-8", "replace") if isinstance(raw_uri, str) else raw_uri
        if "://" in raw_uri.split("?", 1)[0]:  # absolute-form request target
            raw_uri = "/" + raw_uri.split("://", 1)[1].partition("/")[2]
        raw_path, _, raw_query = raw_uri.partition("?")
        length = request.content_length
        too_long = length is not None and length > self.max_body
        data = b"" if too_long else _read_at_most(request.stream, self.max_body + 1)
        if too_long or len(data) > self.max_body:
            status, headers, body = _json_response(413, "Request Entity Too Large")
        else:
            headers_in = [(k, v) for k, v in request.headers.items()]
            status, headers, body = self.handle(
                method=request.method, raw_path=raw_path or "/", raw_query=raw_query, headers=headers_in,
                body=data, source_ip=request.remote_addr or "127.0.0.1",
            )
        headers = [*headers, ("Content-Length", str(len(body)))]
        start_response(f"{status} {_REASONS.get(status, 'Status')}", headers)
        return [] if request.method == "HEAD" else [body]


def _read_at_most(stream: Any, limit: int) -> bytes:
    """Up to ``limit`` bytes of a request body (a chunked body has no length to check up front)."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = stream.read(min(1 << 20, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def load_routes(template_path: str | Path) -> list[Route]:
    """:func:`routes_from_template` of a template file (CloudFormation tags understood)."""
    from .cfn_yaml import load_template

    return routes_from_template(load_template(template_path))
