"""Verify AWS Signature Version 4 on an incoming HTTP request (what API Gateway's IAM authorizer does).

The offline HTTP API enforces the template's ``Auth.DefaultAuthorizer: AWS_IAM``: a request must carry an
``Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`` header made with a known
access key for the expected service and region, dated within 15 minutes, whose signature matches the one
recomputed here from the request as received. The canonical request follows the AWS documentation
("Create a canonical request for Signature Version 4"):

- the method; the canonical URI: the received (still percent-encoded) path with repeated slashes collapsed,
  URI-encoded once more (every service but S3 double-encodes). Dot segments (``.``, ``..``) are *not*
  removed: the router does not remove them either, so the path that is verified is exactly the path that is
  routed (a signature for ``/models/m1`` never reaches ``/models/m1/runs/..``). botocore removes dot segments
  before signing, so a botocore-signed request whose URL still has them on the wire is refused;
- the canonical query string: each name and value URI-encoded (RFC 3986 unreserved characters kept, ``%20``
  for a space), sorted by name then value. A query sent un-normalised is also checked as sent (sorted), which
  is what botocore signs for a URL it did not encode itself;
- the signed headers, lower-cased, values trimmed and inner whitespace collapsed, repeated headers joined by
  ``,``; ``host`` and the date header (``x-amz-date`` or ``date``) must be signed;
- the payload hash: always the SHA-256 of the body as received. API Gateway's signature covers the payload,
  so ``x-amz-content-sha256``, when sent (botocore sends it only when asked to), must equal that hash;
  ``UNSIGNED-PAYLOAD`` (or any streaming placeholder) is refused.

The string to sign is ``AWS4-HMAC-SHA256\\n<amz date>\\n<date>/<region>/<service>/aws4_request\\n<sha256 of
the canonical request>``, signed with the key derived from ``AWS4<secret>``; signatures are compared with
:func:`hmac.compare_digest`. Every rejection raises :class:`SignatureError` with a short reason (logged by the
server, never sent to the client, which just gets 403).

Example
-------
>>> verifier = SigV4Verifier({"test": "test"}, now=lambda: datetime(2026, 1, 5, 12, 0, tzinfo=UTC))
>>> request = sign_request(method="GET", url="http://127.0.0.1:3000/models?limit=5", access_key="test",
...                        secret_key="test", when=datetime(2026, 1, 5, 12, 0, tzinfo=UTC))
>>> verifier.verify(method="GET", raw_path="/models", raw_query="limit=5", headers=request["headers"],
...                 body=b"").access_key
'test'
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, unquote, urlsplit

__all__ = [
    "ALGORITHM",
    "UNSIGNED_PAYLOAD",
    "Identity",
    "SigV4Verifier",
    "SignatureError",
    "canonical_query",
    "canonical_uri",
    "sign_request",
    "signing_key",
]

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
_AUTH_PARAM = re.compile(r"\s*([A-Za-z]+)\s*=\s*([^,\s]*)\s*")
_SIGNATURE = re.compile(r"[0-9a-f]{64}")


class SignatureError(Exception):
    """The request is not validly signed; ``reason`` says why (for logs, not for the client)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Identity:
    """Who signed the request, as API Gateway puts it in ``requestContext.authorizer.iam``."""

    access_key: str
    account_id: str
    user_arn: str
    user_id: str
    caller_id: str
    principal_org_id: str | None = None

    def as_authorizer(self) -> dict[str, Any]:
        """The ``requestContext.authorizer`` value of an HTTP API (payload 2.0) event."""
        return {
            "iam": {
                "accessKey": self.access_key,
                "accountId": self.account_id,
                "callerId": self.caller_id,
                "cognitoIdentity": None,
                "principalOrgId": self.principal_org_id,
                "userArn": self.user_arn,
                "userId": self.user_id,
            }
        }


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    """``kSigning`` = HMAC chain over date, region, service and ``aws4_request`` from ``AWS4<secret>``."""
    k_date = _hmac(f"AWS4{secret_key}".encode(), date)
    k_region = _hmac(k_date, region)
    k_service = _hmac(k_region, service)
    return _hmac(k_service, "aws4_request")


def _collapse_slashes(path: str) -> str:
    """Empty segments (repeated slashes) removed, trailing slash kept; dot segments left as they are."""
    segments = [s for s in path.split("/") if s]
    if not segments:
        return "/"
    return "/" + "/".join(segments) + ("/" if path.endswith("/") else "")


def canonical_uri(raw_path: str) -> str:
    """The canonical URI of a received (percent-encoded) path for a non-S3 service.

    Dot segments are kept: they are verified (and routed) as sent.

    >>> canonical_uri("/models/a%20b//runs/x")
    '/models/a%2520b/runs/x'
    >>> canonical_uri("/models/m1/runs/..")
    '/models/m1/runs/..'
    """
    return quote(_collapse_slashes(raw_path or "/"), safe="/~")


def _split_query(raw_query: str) -> list[tuple[str, str]]:
    pairs = []
    for part in raw_query.split("&"):
        if part == "":
            continue
        key, _, value = part.partition("=")
        pairs.append((key, value))
    return pairs


def canonical_query(raw_query: str) -> str:
    """Names and values URI-encoded (unreserved kept), sorted by name then value.

    >>> canonical_query("b=2&a=x%20y&a=1&c")
    'a=1&a=x%20y&b=2&c='
    """
    encoded = [
        (quote(unquote(k), safe="-_.~"), quote(unquote(v), safe="-_.~")) for k, v in _split_query(raw_query)
    ]
    return "&".join(f"{k}={v}" for k, v in sorted(encoded))


def _query_as_sent(raw_query: str) -> str:
    return "&".join(f"{k}={v}" for k, v in sorted(_split_query(raw_query)))


def _header_map(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    out: dict[str, list[str]] = {}
    for name, value in items:
        out.setdefault(name.lower().strip(), []).append(str(value))
    return out


def _parse_authorization(value: str) -> tuple[str, list[str], str]:
    """``(credential, signed headers, signature)`` of an ``AWS4-HMAC-SHA256`` Authorization header."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise SignatureError(f"unsupported authorization scheme {algorithm!r}")
    params: dict[str, str] = {}
    for part in rest.split(","):
        m = _AUTH_PARAM.fullmatch(part)
        if not m:
            raise SignatureError("malformed Authorization header")
        params[m.group(1)] = m.group(2)
    missing = [k for k in ("Credential", "SignedHeaders", "Signature") if not params.get(k)]
    if missing:
        raise SignatureError(f"Authorization header lacks {', '.join(missing)}")
    signed = params["SignedHeaders"].split(";")
    if any(h != h.lower() or not h for h in signed) or signed != sorted(signed):
        raise SignatureError("SignedHeaders must be lower-case, non-empty and sorted")
    if not _SIGNATURE.fullmatch(params["Signature"]):
        raise SignatureError("Signature is not 64 lower-case hex digits")
    return params["Credential"], signed, params["Signature"]


def _request_time(headers: dict[str, list[str]]) -> tuple[datetime, str, str]:
    """``(time, amz-date string, name of the date header)``: ``x-amz-date`` wins over ``date``."""
    if "x-amz-date" in headers:
        text = headers["x-amz-date"][0].strip()
        try:
            when = datetime.strptime(text, _AMZ_DATE).replace(tzinfo=UTC)
        except ValueError as exc:
            raise SignatureError(f"X-Amz-Date {text!r} is not YYYYMMDDTHHMMSSZ") from exc
        return when, text, "x-amz-date"
    if "date" in headers:
        text = headers["date"][0].strip()
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError) as exc:
            raise SignatureError(f"Date {text!r} is not an HTTP date") from exc
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        when = when.astimezone(UTC)
        return when, when.strftime(_AMZ_DATE), "date"
    raise SignatureError("the request has neither X-Amz-Date nor Date")


class SigV4Verifier:
    """Check SigV4 ``Authorization`` headers against known credentials for one service and region.

    Parameters
    ----------
    credentials : mapping of str to str
        Access key id -> secret access key.
    service, region : str, keyword-only
        What the credential scope must name (API Gateway: ``execute-api``).
    account_id : str, keyword-only
        The account the identities belong to.
    max_skew : timedelta, keyword-only
        How far the request date may be from ``now()`` (AWS: 15 minutes).
    now : callable, keyword-only
        The current time (aware UTC datetime); the wall clock by default.
    """

    def __init__(
        self,
        credentials: Mapping[str, str],
        *,
        service: str = "execute-api",
        region: str = "us-east-1",
        account_id: str = "123456789012",
        max_skew: timedelta = timedelta(minutes=15),
        now: Callable[[], datetime] | None = None,
    ) -> None:
        if not credentials:
            raise ValueError("credentials must hold at least one access key")
        self.credentials = dict(credentials)
        self.service = service
        self.region = region
        self.account_id = account_id
        self.max_skew = max_skew
        self._now = now or (lambda: datetime.now(UTC))

    def identity(self, access_key: str) -> Identity:
        user = "samlocal"
        return Identity(
            access_key=access_key,
            account_id=self.account_id,
            user_arn=f"arn:aws:iam::{self.account_id}:user/{user}",
            user_id=access_key.upper(),
            caller_id=access_key.upper(),
        )

    def verify(
        self,
        *,
        method: str,
        raw_path: str,
        raw_query: str,
        headers: Mapping[str, str] | Iterable[tuple[str, str]],
        body: bytes,
    ) -> Identity:
        """Return the signer's :class:`Identity` or raise :class:`SignatureError`."""
        hmap = _header_map(headers)
        auth_values = hmap.get("authorization")
        if not auth_values or not auth_values[0].strip():
            raise SignatureError("missing Authorization header")
        credential, signed_headers, signature = _parse_authorization(auth_values[0])

        scope = credential.split("/")
        if len(scope) != 5 or scope[4] != "aws4_request":
            raise SignatureError(f"malformed credential scope {credential!r}")
        access_key, date, region, service, _ = scope
        secret = self.credentials.get(access_key)
        if secret is None:
            raise SignatureError(f"unknown access key {access_key!r}")
        if region != self.region:
            raise SignatureError(f"credential scope region {region!r} is not {self.region!r}")
        if service != self.service:
            raise SignatureError(f"credential scope service {service!r} is not {self.service!r}")

        when, amz_date, date_header = _request_time(hmap)
        if amz_date[:8] != date:
            raise SignatureError(f"credential scope date {date} does not match the request date {amz_date}")
        skew = abs(self._now() - when)
        if skew > self.max_skew:
            raise SignatureError(f"request date {amz_date} is {skew} away from now (max {self.max_skew})")

        for required in ("host", date_header):
            if required not in signed_headers:
                raise SignatureError(f"header {required!r} must be signed")
        missing = [h for h in signed_headers if h not in hmap]
        if missing:
            raise SignatureError(f"signed header(s) {', '.join(missing)} not in the request")
        canonical_headers = "".join(
            f"{h}:{','.join(' '.join(v.split()) for v in hmap[h])}\n" for h in signed_headers
        )

        # the signature always covers the body received: a declared hash must be that hash
        payload_hash = hashlib.sha256(body or b"").hexdigest()
        if "x-amz-content-sha256" in hmap:
            declared = hmap["x-amz-content-sha256"][0].strip()
            if declared.upper() == UNSIGNED_PAYLOAD or declared.upper().startswith("STREAMING-"):
                raise SignatureError(f"X-Amz-Content-SHA256 {declared!r}: {self.service} needs the payload signed")
            if not hmac.compare_digest(declared.lower().encode(), payload_hash.encode()):
                raise SignatureError("X-Amz-Content-SHA256 does not match the body")

        key = signing_key(secret, date, region, service)
        queries = dict.fromkeys([canonical_query(raw_query), _query_as_sent(raw_query)])
        matched = False
        for query in queries:
            canonical_request = "\n".join(
                [
                    method.upper(),
                    canonical_uri(raw_path),
                    query,
                    canonical_headers,
                    ";".join(signed_headers),
                    payload_hash,
                ]
            )
            string_to_sign = "\n".join(
                [ALGORITHM, amz_date, f"{date}/{region}/{service}/aws4_request",
                 hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()]
            )
            expected = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
            matched |= hmac.compare_digest(expected, signature)
        if not matched:
            raise SignatureError("signature does not match")
        return self.identity(access_key)


def sign_request(
    *,
    method: str,
    url: str,
    access_key: str,
    secret_key: str,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    region: str = "us-east-1",
    service: str = "execute-api",
    when: datetime | None = None,
) -> dict[str, Any]:
    """Sign a request (host, x-amz-date and the given headers) -- for clients of the offline API.

    ``url`` must already be percent-encoded as it goes on the wire. Returns ``{"headers": {...}}`` with the
    ``Authorization`` header added.
    """
    parts = urlsplit(url)
    when = (when or datetime.now(UTC)).astimezone(UTC)
    amz_date = when.strftime(_AMZ_DATE)
    all_headers = {k.lower(): v for k, v in (headers or {}).items()}
    all_headers["host"] = parts.netloc
    all_headers["x-amz-date"] = amz_date
    signed = sorted(all_headers)
    canonical_headers = "".join(f"{h}:{' '.join(all_headers[h].split())}\n" for h in signed)
    canonical_request = "\n".join(
        [method.upper(), canonical_uri(parts.path), canonical_query(parts.query), canonical_headers,
         ";".join(signed), hashlib.sha256(body).hexdigest()]
    )
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join(
        [ALGORITHM, amz_date, scope, hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()]
    )
    signature = hmac.new(
        signing_key(secret_key, amz_date[:8], region, service), string_to_sign.encode("utf-8"), hashlib.sha256
    ).hexdigest()
    all_headers["authorization"] = (
        f"{ALGORITHM} Credential={access_key}/{scope}, SignedHeaders={';'.join(signed)}, Signature={signature}"
    )
    return {"headers": all_headers}
