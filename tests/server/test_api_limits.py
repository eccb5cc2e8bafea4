"""API Gateway's limits on the local HTTP API: 10 MB payload (413), 29 s integration timeout (504), and requests
forged from a valid signature (unsigned payload, dot segments) refused before the function is called."""

from __future__ import annotations

import hashlib
import http.client
import json
import threading
import time

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from samlocal.apigw import INTEGRATION_TIMEOUT_S, MAX_PAYLOAD_BYTES, HttpApiApp, Route
from samlocal.sigv4 import SigV4Verifier
from werkzeug.serving import make_server


class _Functions:
    """Records every event; ``/slow`` sleeps ``slow_s`` before answering."""

    def __init__(self, slow_s: float = 0.0) -> None:
        self.events: list[dict] = []
        self.finished: list[str] = []
        self.slow_s = slow_s

    def __call__(self, function, event):
        self.events.append(event)
        if event["rawPath"].endswith("/slow"):
            time.sleep(self.slow_s)
        self.finished.append(event["rawPath"])
        return {"statusCode": 200, "body": json.dumps({"path": event["rawPath"], "size": len(event.get("body") or "")})}


def _serve(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server, thread, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def api():
    routes = [Route("GET", "/models/{modelId}", "Fn"), Route("GET", "/models/{modelId}/runs/{runId}", "Fn"),
              Route("POST", "/models/{modelId}/runs/{runId}/approval", "Fn"), Route("PUT", "/models/{modelId}", "Fn"),
              Route("GET", "/slow", "Fn")]
    functions = _Functions(slow_s=1.5)
    app = HttpApiApp(routes, functions, SigV4Verifier({"test": "test"}), integration_timeout=0.5)
    server, thread, base = _serve(app)
    try:
        yield base, functions, app
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        app.close()


def _sign(method, url, body=b"", headers=None):
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    SigV4Auth(Credentials("test", "test"), "execute-api", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def test_the_limits_are_api_gateways():
    app = HttpApiApp([], lambda f, e: None, SigV4Verifier({"test": "test"}))
    assert (app.max_body, app.integration_timeout) == (10 * 1024 * 1024, 29.0)
    assert (MAX_PAYLOAD_BYTES, INTEGRATION_TIMEOUT_S) == (10 * 1024 * 1024, 29.0)
    app.close()


def test_payload_over_10_mb_gets_413_before_the_function(api):
    base, functions, _ = api
    url = f"{base}/models/m1"
    body = b"x" * MAX_PAYLOAD_BYTES
    r = requests.put(url, data=body, headers=_sign("PUT", url, body), timeout=60)
    assert r.status_code == 200, r.text  # exactly 10 MB is accepted
    assert r.json()["size"] == MAX_PAYLOAD_BYTES
    body += b"x"
    r = requests.put(url, data=body, headers=_sign("PUT", url, body), timeout=60)
    assert (r.status_code, r.json()) == (413, {"message": "Request Entity Too Large"})
    # sent chunked (no Content-Length): the size is counted as it arrives
    r = requests.put(url, data=iter([body[: 1 << 22], body[1 << 22:]]), headers=_sign("PUT", url, body), timeout=60)
    assert "Content-Length" not in r.request.headers
    assert r.status_code == 413, r.text
    assert len(functions.events) == 1


def test_a_function_slower_than_the_integration_timeout_gets_504_and_others_are_answered(api):
    base, functions, app = api
    out = {}

    def slow():
        url = f"{base}/slow"
        started = time.perf_counter()
        out["slow"] = requests.get(url, headers=_sign("GET", url), timeout=10)
        out["slow_s"] = time.perf_counter() - started

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.1)
    url = f"{base}/models/m1"
    fast = requests.get(url, headers=_sign("GET", url), timeout=10)
    assert fast.status_code == 200
    assert "/slow" not in functions.finished  # answered while the slow function runs
    t.join(10)
    assert (out["slow"].status_code, out["slow"].json()) == (504, {"message": "Endpoint request timed out"})
    assert out["slow_s"] >= 0.5
    assert "/slow" not in functions.finished  # answered at the timeout; the function runs on, as on Lambda
    deadline = time.monotonic() + 5
    while "/slow" not in functions.finished and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "/slow" in functions.finished
    assert "integration timeout" in next(r for r in app.log if r["path"] == "/slow")["functionError"]


def test_a_body_swapped_under_unsigned_payload_is_refused(api):
    base, functions, _ = api
    url = f"{base}/models/m1/runs/r1/approval"
    headers = _sign("POST", url, b'{"approved": false}', {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    r = requests.post(url, data=b'{"approved": true}', headers=headers, timeout=10)
    assert r.status_code == 403
    # the same request with the payload hash declared: the swapped body does not match it
    headers = _sign("POST", url, b'{"approved": false}',
                    {"X-Amz-Content-SHA256": hashlib.sha256(b'{"approved": false}').hexdigest()})
    assert requests.post(url, data=b'{"approved": true}', headers=headers, timeout=10).status_code == 403
    r = requests.post(url, data=b'{"approved": false}', headers=headers, timeout=10)
    assert r.status_code == 200, r.text
    assert [e["body"] for e in functions.events] == ['{"approved": false}']


def test_a_signature_for_a_path_does_not_reach_its_dot_segment_variants(api):
    base, functions, _ = api
    headers = _sign("GET", f"{base}/models/m1")
    host = base.removeprefix("http://")
    # the first two match GET /models/{modelId}/runs/{runId} (runId ".." / "."): the signature must refuse them
    for path, status in (("/models/m1/runs/..", 403), ("/models/m1/runs/.", 403), ("/models/zz/../m1", 404)):
        conn = http.client.HTTPConnection(host, timeout=10)  # sent as is (requests would normalise the path)
        conn.request("GET", path, headers=headers)
        assert conn.getresponse().status == status, path
        conn.close()
    assert functions.events == []
    assert requests.get(f"{base}/models/m1", headers=headers, timeout=10).status_code == 200
