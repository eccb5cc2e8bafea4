"""Serve a SAM application: an AWS endpoint (moto's server over the in-process backends) and its HTTP API.

``python -m samlocal.server --template template.yaml`` deploys the template into moto in-process
(:class:`~samlocal.stack.OfflineStack`) and serves, until SIGINT / SIGTERM:

- an AWS-compatible endpoint (default ``http://127.0.0.1:4566``): moto's server application sharing the backends
  the template was deployed into, with the emulator's extensions active (state machines execute, rules deliver,
  functions run in-process, SageMaker jobs and endpoints run locally);
- the template's ``HttpApi`` routes (default ``http://127.0.0.1:3000``): :class:`~samlocal.apigw.HttpApiApp`, SigV4
  (``execute-api``) enforced for ``AWS_IAM`` routes with the local credentials (access key ``test``, secret
  ``test``).

Nothing here knows the application: an application adds its own options and set-up (seeding data, extra fields
of the ready line) through :func:`serve`'s ``setup`` callback. One line containing ``ready`` is printed on stdout
when everything is up; port 0 picks a free port (the ready line gives the URLs).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["add_server_arguments", "main", "release_memory", "serve"]

LOG = logging.getLogger("samlocal.server")

REGION = "us-east-1"
ACCESS_KEY = "test"
SECRET_KEY = "test"  # noqa: S105 - the documented local credentials of the emulator
_AWS_ENDPOINT_VARS = ("AWS_ENDPOINT_URL",)

class _Server:
    """A werkzeug server bound in the calling thread (a busy port fails here), served in a daemon thread."""

    def __init__(self, name: str, host: str, port: int, app: Any, request_handler: Any = None) -> None:
        from werkzeug.serving import make_server

        self.name = name
        kwargs = {"request_handler": request_handler} if request_handler is not None else {}
        self.server = make_server(host, port, app, threaded=True, **kwargs)
        self.host, self.port = self.server.server_address[:2]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1},
                                       name=f"samlocal-{name}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket (idempotent; fine if never started)."""
        if self.thread.is_alive():
            self.server.shutdown()
            self.thread.join(timeout=10)
        if self.server.socket.fileno() != -1:
            self.server.server_close()


class _Deferred:
    """A WSGI application set once the stack is deployed (the socket is bound before)."""

    app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if self.app is None:
            start_response("503 Service Unavailable", [("Content-Type", "application/json")])
            return [b'{"message": "Service Unavailable"}']
        return self.app(environ, start_response)


def _moto_app() -> Any:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return DomainDispatcherApplication(create_backend_app)


def _child_pids() -> list[int]:
    """Live (not zombie) processes whose parent is this one (Linux ``/proc``; empty elsewhere)."""
    me = str(os.getpid())
    out = []
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = entry.read_text()
        except OSError:
            continue
        fields = text.rsplit(")", 1)[-1].split()  # state, ppid, ...
        if len(fields) > 1 and fields[1] == me and fields[0] != "Z":
            out.append(int(entry.parent.name))
    return out


def _terminate_children(timeout: float = 5.0) -> None:
    """SIGTERM (then SIGKILL) the child processes this server started (local training scripts)."""
    pids = _child_pids()
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
    deadline = time.monotonic() + timeout
    while pids and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = set(_child_pids())
        pids = [p for p in pids if p in alive]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def release_memory() -> None:
    """Collect garbage and hand the C heap's free memory back to the OS (glibc ``malloc_trim``; else nothing).

    A burst of runs allocates windows, arrays and responses in many threads at once; once they are done the
    memory is free inside the process but stays resident until the allocator returns it.
    """
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


class _Janitor:
    """Calls :func:`release_memory` once executions have ended and none has ended for ``quiet`` seconds."""

    def __init__(self, runtime: Any, quiet: float = 2.0) -> None:
        self.runtime = runtime
        self.quiet = quiet
        self.released_at = self.seen = runtime.terminations
        self.changed = time.monotonic()

    def tick(self) -> bool:
        n = self.runtime.terminations
        now = time.monotonic()
        if n != self.seen:
            self.seen, self.changed = n, now
            return False
        if n != self.released_at and now - self.changed >= self.quiet:
            self.released_at = n
            release_memory()
            return True
        return False


def _ticker(stack: Any, stop: threading.Event, interval: float) -> None:
    """Keep the simulated clock at least at the wall clock, firing the template's schedules when due; give memory
    back after a burst of runs (:class:`_Janitor`)."""
    janitor = _Janitor(stack.runtime)
    while not stop.wait(interval):
        try:
            stack.advance_clock(datetime.now(UTC), wait=False)
        except Exception:  # a failing schedule target is logged by the runtime; the clock must keep going
            LOG.exception("advancing the clock failed")
        janitor.tick()


def _env_int(name: str, default: int, what: str = "a port number") -> int:
    value = os.environ.get(name)
    try:
        return int(value) if value else default
    except ValueError:
        raise SystemExit(f"error: {name}={value!r} is not {what}") from None


def add_server_arguments(parser: argparse.ArgumentParser, *, env_prefix: str = "SAMLOCAL",
                         template: str = "template.yaml") -> None:
    """The serving options (``--host``, ``--aws-port``, ``--api-port``, ``--template``, ``--parameter``, ``--tick``,
    ``-v``), with defaults from ``{env_prefix}_HOST`` / ``_AWS_PORT`` / ``_API_PORT`` / ``_TEMPLATE``."""
    p = env_prefix
    parser.add_argument("--host", default=os.environ.get(f"{p}_HOST", "127.0.0.1"),
                        help=f"address both servers bind (env {p}_HOST; default 127.0.0.1)")
    parser.add_argument("--aws-port", type=int, default=_env_int(f"{p}_AWS_PORT", 4566),
                        help=f"AWS endpoint port (env {p}_AWS_PORT; default 4566; 0 = any free port)")
    parser.add_argument("--api-port", type=int, default=_env_int(f"{p}_API_PORT", 3000),
                        help=f"HTTP API port (env {p}_API_PORT; default 3000; 0 = any free port)")
    parser.add_argument("--template", default=os.environ.get(f"{p}_TEMPLATE", template),
                        help=f"SAM template to deploy (env {p}_TEMPLATE; default {template})")
    parser.add_argument("--parameter", action="append", default=[], metavar="KEY=VALUE",
                        help="a template parameter (repeatable)")
    parser.add_argument("--concurrency", type=int, default=_env_int(f"{p}_CONCURRENCY", 1, "an integer"),
                        help="functions invoked by state machines and rules that run at once; more wait their turn, "
                             "HTTP API requests never do and go first (Python runs one thread at a time: one is as "
                             f"fast in total and leaves the API half the interpreter; env {p}_CONCURRENCY; default 1)")
    parser.add_argument("--tick", type=float, default=0.25,
                        help="seconds between clock/schedule ticks (0 disables the ticker)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")


def check_server_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    for name in ("aws_port", "api_port"):
        if not 0 <= getattr(args, name) <= 65535:
            parser.error(f"--{name.replace('_', '-')} must be in 0..65535")
    if args.concurrency < 1:
        parser.error("--concurrency must be >= 1")
    for item in args.parameter:
        if "=" not in item:
            parser.error(f"--parameter {item!r}: expected KEY=VALUE")


def template_parameters(args: argparse.Namespace) -> dict[str, str]:
    return dict(item.split("=", 1) for item in args.parameter)


def serve(
    args: argparse.Namespace,
    *,
    stop: threading.Event,
    on_ready: Callable[[str], None] | None = None,
    setup: Callable[[Any], dict[str, Any]] | None = None,
    stack_class: Any = None,
    parameters: dict[str, str] | None = None,
    api_stage: str = "$default",
    label: str = "samlocal",
    after_ready: Callable[[Any, threading.Event], None] | None = None,
) -> int:
    """Bind both ports, deploy, run ``setup(stack)`` (its dict: extra ``key=value`` fields of the ready line), serve
    until ``stop`` is set; returns the exit status.

    ``after_ready(stack, stopping)`` runs in its own thread once the servers answer (an application's traffic, for
    instance); ``stopping`` is set when the servers stop, and the thread is given 10 s to end.
    """
    from .apigw import HttpApiApp, load_routes
    from .sigv4 import SigV4Verifier
    from .stack import ACCOUNT, OfflineStack

    stack_class = stack_class or OfflineStack
    # in-process calls (handlers, the runtime) must stay in-process: never follow a user's endpoint override
    for name in list(os.environ):
        if name in _AWS_ENDPOINT_VARS or name.startswith("AWS_ENDPOINT_URL_"):
            os.environ.pop(name)
    template = Path(args.template).resolve()
    started = time.perf_counter()
    routes = load_routes(template)
    verifier = SigV4Verifier({ACCESS_KEY: SECRET_KEY}, service="execute-api", region=REGION, account_id=ACCOUNT)
    api_app = _Deferred()
    # bind first: a busy port fails in a second, not after the deployment
    aws = _Server("aws", args.host, args.aws_port, _moto_app(), _moto_request_handler())
    try:
        api = _Server("api", args.host, args.api_port, api_app)
    except BaseException:
        aws.stop()
        raise
    ticker_stop = threading.Event()
    ticker: threading.Thread | None = None
    params = {**(parameters or {}), **template_parameters(args)}
    try:
        with stack_class.running(template, parameters=params, root=template.parent,
                                 background_slots=args.concurrency) as stack:
            http_api = HttpApiApp(routes, stack.invoke, verifier, stage=api_stage, api_id="offline",
                                  account_id=ACCOUNT)
            api_app.app = http_api
            os.environ["MOTO_PORT"] = str(aws.port)
            aws.start()
            extra = setup(stack) if setup is not None else {}
            stack.runtime.lambdas.load_all()  # import every handler now, not in the first requests
            api.start()
            if args.tick > 0:
                ticker = threading.Thread(target=_ticker, args=(stack, ticker_stop, args.tick),
                                          name="samlocal-clock", daemon=True)
                ticker.start()
            worker: threading.Thread | None = None
            if after_ready is not None:
                worker = threading.Thread(target=after_ready, args=(stack, ticker_stop), name="samlocal-app",
                                          daemon=True)
            fields = " ".join(f"{k}={v}" for k, v in extra.items())
            line = f"{label} ready: aws={aws.url} api={api.url} {fields} ({time.perf_counter() - started:.1f}s)"
            if on_ready is not None:
                on_ready(line.replace("  ", " "))
            if worker is not None:
                worker.start()
            stop.wait()
            LOG.info("stopping")
            ticker_stop.set()
            if ticker is not None:
                ticker.join(timeout=5)
            if worker is not None:
                worker.join(timeout=10)
            api.stop()
            http_api.close()
            aws.stop()
    finally:
        ticker_stop.set()
        api.stop()
        aws.stop()
        _terminate_children()
    return 0


def _moto_request_handler() -> Any:
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    return MotoRequestHandler


def configure_logging(verbose: bool, quiet_loggers: tuple[str, ...] = ()) -> None:
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if not verbose:  # one line per request, per state machine branch, per credential lookup: too much
        for name in ("werkzeug", "moto", "botocore", "samlocal.apigw", *quiet_loggers):
            logging.getLogger(name).setLevel(logging.WARNING)


def run_until_signalled(serve_fn: Callable[[threading.Event], int]) -> int:
    """Call ``serve_fn(stop)`` with ``stop`` set on SIGINT / SIGTERM."""
    stop = threading.Event()

    def _on_signal(signum: int, _frame: Any) -> None:
        LOG.info("received %s", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    return serve_fn(stop)


def _print_ready(line: str) -> None:
    print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m samlocal.server",
                                     description="Serve a SAM application offline: an AWS endpoint and its HTTP API.")
    add_server_arguments(parser)
    parser.add_argument("--api-stage", default="$default", help="the HTTP API's stage name (default $default)")
    args = parser.parse_args(argv)
    check_server_arguments(parser, args)
    configure_logging(args.verbose)
    return run_until_signalled(lambda stop: serve(args, stop=stop, on_ready=_print_ready, api_stage=args.api_stage))


if __name__ == "__main__":
    sys.exit(main())
