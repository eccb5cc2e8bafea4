"""The local HTTP API: routes from the template, payload 2.0 events, IAM (SigV4) enforcement, over real HTTP."""

from __future__ import annotations

import base64
import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from samlocal.apigw import (
    ApiRouteError,
    HttpApiApp,
    Route,
    build_event,
    response_from_result,
    routes_from_template,
)
from samlocal.cfn_yaml import load_template
from samlocal.sigv4 import SigV4Verifier
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[2]
SECRET = "test"


# ------------------------------------------------------------------------------------------ routes
def test_routes_of_the_template():
    template = load_template(ROOT / "template.yaml")
    routes = routes_from_template(template)
    events = template["Resources"]["ApiFunction"]["Properties"]["Events"]
    expected = {f"{e['Properties']['Method']} {e['Properties']['Path']}" for e in events.values()
                if e["Type"] == "HttpApi"}
    assert {r.route_key for r in routes} == expected
    assert "GET /models/{modelId}/runs" in expected
    assert {r.function for r in routes} == {"ApiFunction"}
    # the API's DefaultAuthorizer is AWS_IAM, and no route overrides it
    assert template["Resources"]["HttpApi"]["Properties"]["Auth"]["DefaultAuthorizer"] == "AWS_IAM"
    assert {r.authorizer for r in routes} == {"AWS_IAM"}


def _template(auth=None, route_auth=None, extra=None):
    props = {"ApiId": {"Ref": "Api"}, "Method": "GET", "Path": "/x/{id}"}
    if route_auth:
        props["Auth"] = {"Authorizer": route_auth}
    api_props = {"Auth": {"DefaultAuthorizer": auth}} if auth else {}
    events = {"E": {"Type": "HttpApi", "Properties": props}, **(extra or {})}
    return {"Resources": {
        "Api": {"Type": "AWS::Serverless::HttpApi", "Properties": api_props},
        "Fn": {"Type": "AWS::Serverless::Function", "Properties": {"Events": events}},
    }}


def test_route_authorizers():
    assert routes_from_template(_template(auth="AWS_IAM"))[0].authorizer == "AWS_IAM"
    assert routes_from_template(_template(auth="AWS_IAM", route_auth="NONE"))[0].authorizer is None
    assert routes_from_template(_template())[0].authorizer is None
    with pytest.raises(ApiRouteError, match="not supported offline"):
        routes_from_template(_template(auth="MyJwt"))
    dup = {"F": {"Type": "HttpApi", "Properties": {"ApiId": {"Ref": "Api"}, "Method": "get", "Path": "/x/{id}"}}}
    with pytest.raises(ApiRouteError, match="duplicate routes: GET /x/"):
        routes_from_template(_template(extra=dup))


def test_route_matching_and_precedence():
    routes = [
        Route("GET", "/models/{modelId}", "F"),
        Route("GET", "/models/{modelId}/runs", "F"),
        Route("GET", "/models/special", "F"),
        Route("ANY", "/files/{path+}", "F"),
        Route("GET", "/files/{path+}", "F"),
    ]
    app = HttpApiApp(routes, lambda f, e: None, SigV4Verifier({"test": "test"}))
    assert app.find("GET", "/models/m1") == (routes[0], {"modelId": "m1"})
    assert app.find("GET", "/models/m%201/runs") == (routes[1], {"modelId": "m 1"})
    assert app.find("GET", "/models/special") == (routes[2], {})
    assert app.find("GET", "/files/a/b%2Fc") == (routes[4], {"path": "a/b/c"})
    assert app.find("POST", "/files/a") == (routes[3], {"path": "a"})
    assert app.find("POST", "/models/m1") is None
    assert app.find("GET", "/models") is None
    assert app.find("GET", "/models/m1/runs/extra") is None
    with pytest.raises(ApiRouteError, match="must be the last segment"):
        Route("GET", "/a/{p+}/b", "F")
    with pytest.raises(ApiRouteError, match="unsupported method"):
        Route("FETCH", "/a", "F")


def test_build_event_payload_v2():
    route = Route("POST", "/models/{modelId}/runs", "ApiFunction")
    when = datetime(2026, 1, 5, 12, 30, 15, 250000, tzinfo=UTC)
    event = build_event(
        route=route, path_parameters={"modelId": "m 1"}, method="post", raw_path="/models/m%201/runs",
        raw_query="a=1&a=2&b=x%20y&c=p+q", body=b'{"x": 1}', source_ip="10.0.0.7", stage="local",
        api_id="offline", account_id="123456789012", authorizer={"iam": {"accessKey": "test"}},
        domain_name="127.0.0.1:3000", now=when, request_id="rid-1",
        headers=[("Content-Type", "application/json"), ("X-Multi", "1"), ("x-multi", "2"),
                 ("Cookie", "a=1; b=2"), ("User-Agent", "ua/1")],
    )
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /models/{modelId}/runs"
    assert event["rawPath"] == "/models/m%201/runs"
    assert event["rawQueryString"] == "a=1&a=2&b=x%20y&c=p+q"
    assert event["headers"] == {"content-type": "application/json", "x-multi": "1,2", "user-agent": "ua/1"}
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x y", "c": "p q"}
    assert event["pathParameters"] == {"modelId": "m 1"}
    assert event["body"] == '{"x": 1}'
    assert event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert ctx["http"] == {"method": "POST", "path": "/models/m 1/runs", "protocol": "HTTP/1.1",
                           "sourceIp": "10.0.0.7", "userAgent": "ua/1"}
    assert ctx["requestId"] == "rid-1"
    assert ctx["stage"] == "local"
    assert ctx["routeKey"] == event["routeKey"]
    assert ctx["authorizer"] == {"iam": {"accessKey": "test"}}
    assert ctx["time"] == "05/Jan/2026:12:30:15 +0000"
    assert ctx["timeEpoch"] == int(when.timestamp() * 1000)


def test_build_event_binary_body_and_no_optional_keys():
    event = build_event(
        route=Route("GET", "/models", "F"), path_parameters={}, method="GET", raw_path="/models", raw_query="",
        headers=[("Content-Type", "application/octet-stream")], body=b"\x00\xff", source_ip="1.2.3.4",
        stage="$default", api_id="a", account_id="1", authorizer=None, domain_name="h",
    )
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\x00\xff"
    for key in ("queryStringParameters", "pathParameters", "cookies"):
        assert key not in event
    assert "authorizer" not in event["requestContext"]


def test_response_mapping():
    status, headers, body = response_from_result(
        {"statusCode": 201, "headers": {"X-A": "1"}, "cookies": ["s=1"], "body": '{"ok": true}'})
    assert (status, body) == (201, b'{"ok": true}')
    assert ("X-A", "1") in headers
    assert ("Set-Cookie", "s=1") in headers
    assert ("Content-Type", "application/json") in headers
    status, _, body = response_from_result({"statusCode": 200, "body": base64.b64encode(b"\x01").decode(),
                                            "isBase64Encoded": True})
    assert body == b"\x01"
    # not a full response: API Gateway answers 200 with the value as JSON
    assert response_from_result({"runs": []}) == (200, [("Content-Type", "application/json")], b'{"runs": []}')
    assert response_from_result("hello")[2] == b"hello"


# ------------------------------------------------------------------------------------------ over HTTP
class _Stub:
    def __init__(self):
        self.events = []

    def __call__(self, function, event):
        self.events.append((function, event))
        if event["rawPath"].endswith("/boom"):
            raise RuntimeError("handler failed")
        if event["routeKey"] == "GET /plain":
            return {"plain": True}
        return {"statusCode": 200, "headers": {"content-type": "application/json"},
                "body": json.dumps({"echo": event})}


@pytest.fixture
def served():
    routes = [Route("GET", "/models/{modelId}/runs", "ApiFunction"),
              Route("POST", "/models/{modelId}/runs", "ApiFunction"),
              Route("GET", "/models/{modelId}/boom", "ApiFunction"),
              Route("GET", "/plain", "ApiFunction"),
              Route("GET", "/open", "Open", authorizer=None)]
    stub = _Stub()
    app = HttpApiApp(routes, stub, SigV4Verifier({"test": "test"}), stage="local")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _signed(method, url, body=b"", secret=None, headers=None):
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    SigV4Auth(Credentials("test", secret or SECRET), "execute-api", "us-east-1").add_auth(request)
    return requests.request(method, url, data=body, headers=dict(request.headers.items()), timeout=10)


def test_signed_request_reaches_the_function(served):
    base, stub = served
    r = _signed("GET", f"{base}/models/example-classifier/runs?limit=2&status=SUCCEEDED")
    assert r.status_code == 200, r.text
    assert "apigw-requestid" in r.headers
    event = r.json()["echo"]
    assert event["routeKey"] == "GET /models/{modelId}/runs"
    assert event["pathParameters"] == {"modelId": "example-classifier"}
    assert event["queryStringParameters"] == {"limit": "2", "status": "SUCCEEDED"}
    assert event["requestContext"]["authorizer"]["iam"]["accessKey"] == "test"
    assert event["requestContext"]["authorizer"]["iam"]["accountId"] == "123456789012"
    assert event["requestContext"]["http"]["sourceIp"] == "127.0.0.1"
    assert event["headers"]["host"] == base.removeprefix("http://")
    # the stage is named (not $default): API Gateway puts it in rawPath, as Powertools expects
    assert event["rawPath"] == "/local/models/example-classifier/runs"
    assert event["requestContext"]["stage"] == "local"
    assert len(stub.events) == 1
    # the deployed URL form (with the stage) works too, and gives the function the same path
    r = _signed("GET", f"{base}/local/models/example-classifier/runs")
    assert r.status_code == 200, r.text
    assert r.json()["echo"]["rawPath"] == "/local/models/example-classifier/runs"
    assert r.json()["echo"]["pathParameters"] == {"modelId": "example-classifier"}


def test_default_stage_keeps_the_path():
    app = HttpApiApp([Route("GET", "/local/x", "F")], lambda f, e: None, SigV4Verifier({"test": "test"}))
    assert app.stage_paths("/local/x") == ("/local/x", "/local/x")
    staged = HttpApiApp([], lambda f, e: None, SigV4Verifier({"test": "test"}), stage="local")
    assert staged.stage_paths("/x") == ("/x", "/local/x")
    assert staged.stage_paths("/local") == ("/", "/local")
    assert staged.stage_paths("/localx") == ("/localx", "/local/localx")


def test_signed_post_with_body_and_encoded_path(served):
    base, _ = served
    body = json.dumps({"windowEnd": "2026-01-05T00:00:00Z", "note": "é"}).encode()
    r = _signed("POST", f"{base}/models/my%20model/runs", body=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    event = r.json()["echo"]
    assert event["pathParameters"] == {"modelId": "my model"}
    assert json.loads(event["body"]) == json.loads(body)
    assert event["isBase64Encoded"] is False


def test_unsigned_and_badly_signed_requests_are_refused(served):
    base, stub = served
    r = requests.get(f"{base}/models/example-classifier/runs", timeout=10)
    assert r.status_code == 403
    assert r.json() == {"message": "Forbidden"}
    r = _signed("GET", f"{base}/models/example-classifier/runs", secret="not-the-secret")
    assert r.status_code == 403
    # a valid signature for another path, replayed
    request = AWSRequest(method="GET", url=f"{base}/models/other/runs")
    SigV4Auth(Credentials("test", "test"), "execute-api", "us-east-1").add_auth(request)
    r = requests.get(f"{base}/models/example-classifier/runs", headers=dict(request.headers.items()), timeout=10)
    assert r.status_code == 403
    assert stub.events == []  # none of them reached the function


def test_not_found_function_error_plain_result_and_open_route(served):
    base, stub = served
    assert _signed("GET", f"{base}/nowhere").status_code == 404
    assert _signed("DELETE", f"{base}/models/m1/runs").status_code == 404
    r = _signed("GET", f"{base}/models/m1/boom")
    assert (r.status_code, r.json()) == (500, {"message": "Internal Server Error"})
    r = _signed("GET", f"{base}/plain")
    assert (r.status_code, r.json()) == (200, {"plain": True})
    r = requests.get(f"{base}/open", timeout=10)  # a route without an authorizer needs no signature
    assert r.status_code == 200
    assert "authorizer" not in r.json()["echo"]["requestContext"]
    assert [f for f, _ in stub.events] == ["ApiFunction", "ApiFunction", "Open"]
