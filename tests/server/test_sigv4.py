"""SigV4 verification checked against botocore's own signer (the reference) and tampered requests."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from samlocal.sigv4 import (
    SignatureError,
    SigV4Verifier,
    canonical_query,
    canonical_uri,
    sign_request,
    signing_key,
)

NOW = datetime(2026, 1, 5, 12, 0, 0, tzinfo=UTC)
HOST = "127.0.0.1:3000"
SECRET = "test"


def _botocore_sign(method, url, *, body=b"", headers=None, access="test", secret=None, service="execute-api",
                   region="us-east-1", when=NOW, monkeypatch=None):
    """Sign with botocore at ``when`` (its clock is patched) and return what goes on the wire."""
    import botocore.auth

    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: when.replace(tzinfo=None))
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    SigV4Auth(Credentials(access, secret or SECRET), service, region).add_auth(request)
    parts = urlsplit(request.url)
    wire_headers = list(request.headers.items())
    if not any(k.lower() == "host" for k, _ in wire_headers):
        wire_headers.append(("Host", parts.netloc))
    return {"method": method, "raw_path": parts.path or "/", "raw_query": parts.query, "headers": wire_headers,
            "body": body}


@pytest.fixture
def verifier():
    return SigV4Verifier({"test": "test"}, now=lambda: NOW)


CASES = [
    ("GET", "/models/example-classifier/runs", "", b""),
    ("GET", "/models", "limit=5&next=abc", b""),
    ("GET", "/models/a%20b/runs/r%2F1", "z=1&a=2&a=1", b""),
    ("GET", "/models/caf%C3%A9/metrics", "metric=roc_auc&from=2026-01-01T00%3A00%3A00Z", b""),
    ("PUT", "/models/m-1_x.y~z", "", b'{"modelId": "m-1_x.y~z", "problemType": "binary"}'),
    ("POST", "/models/m1/runs", "", b'{"windowEnd": "2026-01-05T00:00:00Z"}'),
    ("POST", "/models/m1/runs/r1/approval", "dryRun=true", b'{"approved": true, "comment": "ok \xe2\x9c\x93"}'),
    ("DELETE", "/models/m1", "", b""),
    ("PATCH", "/models/m1/", "", b"\x00\x01binary\xff"),
]


@pytest.mark.parametrize(("method", "path", "query", "body"), CASES)
def test_accepts_what_botocore_signs(verifier, monkeypatch, method, path, query, body):
    url = f"http://{HOST}{path}" + (f"?{query}" if query else "")
    req = _botocore_sign(method, url, body=body, headers={"Content-Type": "application/json"},
                         monkeypatch=monkeypatch)
    identity = verifier.verify(**req)
    assert identity.access_key == "test"
    assert identity.account_id == "123456789012"
    assert identity.as_authorizer()["iam"]["accessKey"] == "test"


@pytest.mark.parametrize(("method", "path", "query", "body"), CASES)
def test_own_signer_agrees_with_botocore(monkeypatch, method, path, query, body):
    """sign_request (the helper for clients) produces exactly botocore's signature."""
    url = f"http://{HOST}{path}" + (f"?{query}" if query else "")
    ours = sign_request(method=method, url=url, access_key="test", secret_key="test", body=body, when=NOW)
    theirs = _botocore_sign(method, url, body=body, monkeypatch=monkeypatch)
    theirs_auth = {k.lower(): v for k, v in theirs["headers"]}["authorization"]
    assert ours["headers"]["authorization"] == theirs_auth


def test_signing_key_matches_aws_documented_example():
    # AWS General Reference, "Examples of how to derive a signing key for Signature Version 4"
    key = signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam")
    assert key.hex() == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"


def test_canonical_forms():
    assert canonical_uri("") == "/"
    assert canonical_uri("/a/b//c//d/") == "/a/b/c/d/"  # repeated slashes collapse (the router ignores them)
    assert canonical_uri("/a/./b/../c") == "/a/./b/../c"  # dot segments are verified as routed: kept
    assert canonical_uri("/a%20b") == "/a%2520b"  # non-S3 services double-encode
    assert canonical_query("b=2&a=1&a=0") == "a=0&a=1&b=2"
    assert canonical_query("k=a+b&s=x y") == "k=a%2Bb&s=x%20y"
    assert canonical_query("") == ""


def _tamper(req, **changes):
    out = {**req, "headers": list(req["headers"])}
    out.update(changes)
    return out


def _set_header(req, name, value):
    headers = [(k, v) for k, v in req["headers"] if k.lower() != name.lower()]
    if value is not None:
        headers.append((name, value))
    return {**req, "headers": headers}


@pytest.fixture
def signed(monkeypatch):
    return _botocore_sign("POST", f"http://{HOST}/models/m1/runs?x=1", body=b'{"a": 1}',
                          headers={"Content-Type": "application/json"}, monkeypatch=monkeypatch)


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda r: _set_header(r, "Authorization", None), "missing Authorization"),
        (lambda r: _set_header(r, "Authorization", ""), "missing Authorization"),
        (lambda r: _set_header(r, "Authorization", "Bearer abc"), "unsupported authorization scheme"),
        (lambda r: _set_header(r, "Authorization", "AWS4-HMAC-SHA256 garbage"), "malformed"),
        (lambda r: _tamper(r, method="PUT"), "signature does not match"),
        (lambda r: _tamper(r, raw_path="/models/m2/runs"), "signature does not match"),
        (lambda r: _tamper(r, raw_query="x=2"), "signature does not match"),
        (lambda r: _tamper(r, raw_query=""), "signature does not match"),
        (lambda r: _tamper(r, body=b'{"a": 2}'), "signature does not match"),
        (lambda r: _set_header(r, "Host", "127.0.0.1:3001"), "signature does not match"),
        (lambda r: _set_header(r, "Content-Type", "text/plain"), "signature does not match"),
        (lambda r: _set_header(r, "X-Amz-Date", "20260105T120001Z"), "signature does not match"),
        (lambda r: _set_header(r, "X-Amz-Date", "yesterday"), "not YYYYMMDDTHHMMSSZ"),
        (lambda r: _set_header(r, "X-Amz-Date", None), "neither X-Amz-Date nor Date"),
        (lambda r: _set_header(r, "X-Amz-Content-SHA256", hashlib.sha256(b"other").hexdigest()),
         "does not match the body"),
    ],
)
def test_rejects_tampered_requests(verifier, signed, mutate, reason):
    verifier.verify(**signed)  # the untampered request passes
    with pytest.raises(SignatureError, match=reason):
        verifier.verify(**mutate(signed))


def _signature_swapped(req, old, new):
    headers = [(k, v.replace(old, new) if k.lower() == "authorization" else v) for k, v in req["headers"]]
    return {**req, "headers": headers}


def test_rejects_a_flipped_signature_digit(verifier, signed):
    auth = {k.lower(): v for k, v in signed["headers"]}["authorization"]
    sig = auth.rsplit("Signature=", 1)[1]
    flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    with pytest.raises(SignatureError, match="signature does not match"):
        verifier.verify(**_signature_swapped(signed, sig, flipped))


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"access": "other", "secret": "test"}, "unknown access key"),
        ({"secret": "wrong"}, "signature does not match"),
        ({"service": "s3"}, "service 's3'"),
        ({"region": "eu-west-1"}, "region 'eu-west-1'"),
        ({"when": NOW - timedelta(minutes=16)}, "away from now"),
        ({"when": NOW + timedelta(minutes=16)}, "away from now"),
    ],
)
def test_rejects_wrong_credentials_scope_or_date(verifier, monkeypatch, kwargs, reason):
    req = _botocore_sign("GET", f"http://{HOST}/models", monkeypatch=monkeypatch, **kwargs)
    with pytest.raises(SignatureError, match=reason):
        verifier.verify(**req)


def test_accepts_skew_within_fifteen_minutes(verifier, monkeypatch):
    for minutes in (-14, 14):
        req = _botocore_sign("GET", f"http://{HOST}/models", monkeypatch=monkeypatch,
                             when=NOW + timedelta(minutes=minutes))
        assert verifier.verify(**req).access_key == "test"


def test_credential_date_must_match_request_date(verifier, monkeypatch):
    req = _botocore_sign("GET", f"http://{HOST}/models", monkeypatch=monkeypatch)
    req = _signature_swapped(req, "/20260105/", "/20260104/")
    with pytest.raises(SignatureError, match="does not match the request date"):
        verifier.verify(**req)


def test_host_must_be_signed(verifier):
    # a correctly computed signature over x-amz-date only: still refused, the host is not covered
    req = sign_request(method="GET", url=f"http://{HOST}/models", access_key="test", secret_key="test", when=NOW)
    headers = dict(req["headers"])
    headers["authorization"] = headers["authorization"].replace("SignedHeaders=host;x-amz-date",
                                                                "SignedHeaders=x-amz-date")
    with pytest.raises(SignatureError, match="'host' must be signed"):
        SigV4Verifier({"test": "test"}, now=lambda: NOW).verify(
            method="GET", raw_path="/models", raw_query="", headers=headers, body=b"")


@pytest.mark.parametrize("declared", ["UNSIGNED-PAYLOAD", "unsigned-payload", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"])
def test_unsigned_payload_is_refused(verifier, monkeypatch, declared):
    # botocore signs UNSIGNED-PAYLOAD when told to: a signature that does not cover the body is no authorization
    # for execute-api (a request signed with {"approved": false} must not deliver {"approved": true})
    req = _botocore_sign("POST", f"http://{HOST}/models/m1/runs/r1/approval", body=b'{"approved": false}',
                         headers={"X-Amz-Content-SHA256": declared}, monkeypatch=monkeypatch)
    for body in (b'{"approved": false}', b'{"approved": true}'):
        with pytest.raises(SignatureError, match="needs the payload signed"):
            verifier.verify(**_tamper(req, body=body))


def test_declared_payload_hash_must_be_the_body_hash(verifier, monkeypatch):
    body = b'{"approved": false}'
    digest = hashlib.sha256(body).hexdigest()
    # botocore signs the declared hash when the header is set: with the body's own hash it passes
    req = _botocore_sign("POST", f"http://{HOST}/models/m1/runs/r1/approval", body=body,
                         headers={"X-Amz-Content-SHA256": digest}, monkeypatch=monkeypatch)
    assert verifier.verify(**req).access_key == "test"
    with pytest.raises(SignatureError, match="does not match the body"):
        verifier.verify(**_tamper(req, body=b'{"approved": true}'))
    # a hash of another body, signed over: the body received is still what the signature must cover
    other = _botocore_sign("POST", f"http://{HOST}/models/m1/runs/r1/approval", body=body,
                           headers={"X-Amz-Content-SHA256": hashlib.sha256(b"x").hexdigest()},
                           monkeypatch=monkeypatch)
    with pytest.raises(SignatureError, match="does not match the body"):
        verifier.verify(**other)
    # and without the header (botocore's default for execute-api) the body hash is computed here
    plain = _botocore_sign("POST", f"http://{HOST}/models/m1/runs/r1/approval", body=body, monkeypatch=monkeypatch)
    assert not any(k.lower() == "x-amz-content-sha256" for k, _ in plain["headers"])
    assert verifier.verify(**plain).access_key == "test"
    with pytest.raises(SignatureError, match="signature does not match"):
        verifier.verify(**_tamper(plain, body=b'{"approved": true}'))


def test_a_signature_does_not_reach_a_path_with_dot_segments(verifier, monkeypatch):
    # signed for /models/m1; sent as /models/m1/runs/.. (which the router matches as GET /models/{id}/runs/{runId})
    req = _botocore_sign("GET", f"http://{HOST}/models/m1", monkeypatch=monkeypatch)
    assert verifier.verify(**req).access_key == "test"
    for path in ("/models/m1/runs/..", "/models/m1/.", "/models/x/../m1", "/models/./m1"):
        with pytest.raises(SignatureError, match="signature does not match"):
            verifier.verify(**_tamper(req, raw_path=path))
    # a signer that signs the dot segments literally is verified (and routed) on exactly that path
    own = sign_request(method="GET", url=f"http://{HOST}/models/m1/runs/..", access_key="test", secret_key="test",
                       when=NOW)
    assert verifier.verify(method="GET", raw_path="/models/m1/runs/..", raw_query="", headers=own["headers"],
                           body=b"").access_key == "test"
    with pytest.raises(SignatureError):
        verifier.verify(method="GET", raw_path="/models/m1", raw_query="", headers=own["headers"], body=b"")


def test_verifier_needs_credentials():
    with pytest.raises(ValueError, match="at least one access key"):
        SigV4Verifier({})
