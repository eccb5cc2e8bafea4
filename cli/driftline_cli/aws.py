"""Where the CLI talks to: the AWS endpoint (boto3), the HTTP API (SigV4-signed with botocore's signer).

On AWS (the default) the credentials, region and profile come from the usual AWS configuration; the API URL
from ``--api-url`` / ``DRIFTLINE_API_URL`` or else the stack's ``HttpApiUrl`` output (``--stack-name``).
Against ``make up``: ``--endpoint-url http://127.0.0.1:4566 --api-url http://127.0.0.1:3000`` (or
``DRIFTLINE_ENDPOINT_URL`` / ``DRIFTLINE_API_URL``); the local credentials are ``test``/``test`` and are used
when no other credentials are configured for a loopback endpoint.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

#: the SigV4 service of API Gateway
SERVICE = "execute-api"
DEFAULT_STACK = "driftline-dev"
TIMEOUT = 60.0


class CliError(Exception):
    """A failure the CLI reports in one line and exits 1 with (no traceback)."""

    exit_code = 1


class ApiError(CliError):
    """The HTTP API answered with an error status."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        self.status, self.body = status, body
        detail = body.get("message") if isinstance(body, dict) else body
        problems = None
        if isinstance(body, dict):
            problems = body.get("problems") or (body.get("details") or {}).get("problems")
        self.error = body.get("error") if isinstance(body, dict) else None
        text = f"{method} {path} returned {status}: {detail}"
        if problems:
            text += "".join(f"\n  - {p}" for p in problems)
        super().__init__(text)


def _loopback(url: str | None) -> bool:
    host = urllib.parse.urlsplit(url or "").hostname or ""
    return host in ("127.0.0.1", "localhost", "::1")


@dataclass
class Target:
    """The AWS account/endpoint and the HTTP API one command works with."""

    endpoint_url: str | None = None
    api_url: str | None = None
    region: str | None = None
    profile: str | None = None
    stack_name: str = DEFAULT_STACK
    _session: Any = field(default=None, repr=False)

    @classmethod
    def from_args(cls, args: Any) -> Target:
        return cls(
            endpoint_url=args.endpoint_url or os.environ.get("DRIFTLINE_ENDPOINT_URL"),
            api_url=args.api_url or os.environ.get("DRIFTLINE_API_URL"),
            region=args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
            profile=args.profile,
            stack_name=args.stack_name or os.environ.get("DRIFTLINE_STACK_NAME") or DEFAULT_STACK,
        )

    # -- boto3 -------------------------------------------------------------------------------------
    @property
    def local(self) -> bool:
        """Talking to ``make up`` (a loopback endpoint) rather than to AWS."""
        return _loopback(self.endpoint_url) or (self.endpoint_url is None and _loopback(self.api_url))

    @property
    def session(self) -> Any:
        if self._session is None:
            session = boto3.Session(profile_name=self.profile, region_name=self.region)
            if self.local and session.get_credentials() is None:  # make up's credentials
                session = boto3.Session(aws_access_key_id="test", aws_secret_access_key="test",  # noqa: S106
                                        region_name=self.region or "us-east-1")
            if session.region_name is None:
                if not self.local:
                    raise CliError("no AWS region configured: pass --region or set AWS_REGION")
                session = boto3.Session(profile_name=self.profile, region_name="us-east-1")
            self._session = session
        return self._session

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.endpoint_url)

    # -- the HTTP API ------------------------------------------------------------------------------
    def base_url(self) -> str:
        if self.api_url:
            return self.api_url.rstrip("/")
        try:
            stacks = self.client("cloudformation").describe_stacks(StackName=self.stack_name)["Stacks"]
        except Exception as exc:  # noqa: BLE001 - any failure here means: tell the user how to give the URL
            raise CliError(f"no --api-url given and the stack {self.stack_name!r} could not be read "
                           f"({type(exc).__name__}: {exc}); pass --api-url or set DRIFTLINE_API_URL") from None
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
        if "HttpApiUrl" not in outputs:
            raise CliError(f"the stack {self.stack_name!r} has no HttpApiUrl output; pass --api-url")
        self.api_url = outputs["HttpApiUrl"]
        return self.api_url.rstrip("/")

    def request(self, method: str, path: str, body: Any = None, *, accept: str = "application/json",
                query: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        """One SigV4-signed request; returns ``(status, headers, body)`` whatever the status."""
        url = self.base_url() + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        data = None if body is None else json.dumps(body, allow_nan=False).encode()
        headers = {"Accept": accept}
        if data is not None:
            headers["Content-Type"] = "application/json"
        credentials = self.session.get_credentials()
        if credentials is None:
            raise CliError("no AWS credentials found to sign the API request (configure a profile or "
                           "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)")
        request = AWSRequest(method=method, url=url, data=data, headers=headers)
        SigV4Auth(credentials.get_frozen_credentials(), SERVICE, self.session.region_name).add_auth(request)
        if not url.startswith(("http://", "https://")):
            raise CliError(f"the API URL must be http(s)://, got {url[:80]!r}")
        prepared = urllib.request.Request(url, data=data, method=method, headers=dict(request.headers.items()))  # noqa: S310 - http(s) only
        try:
            with urllib.request.urlopen(prepared, timeout=TIMEOUT) as resp:  # noqa: S310 - checked to be http(s) above
                return resp.status, dict(resp.headers.items()), resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers.items()), exc.read()
        except urllib.error.URLError as exc:
            raise CliError(f"cannot reach the API at {url}: {exc.reason}") from None

    def call(self, method: str, path: str, body: Any = None, *, query: dict[str, str] | None = None) -> Any:
        """A JSON call; an error status raises :class:`ApiError` with the API's message and problems."""
        status, _, raw = self.request(method, path, body, query=query)
        try:
            payload = json.loads(raw or b"null")
        except ValueError:
            payload = raw.decode(errors="replace")
        if status >= 400:
            raise ApiError(method, path, status, payload)
        return payload
