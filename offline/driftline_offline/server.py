"""``make up``: the offline stack as servers that the AWS CLI, boto3 and HTTP clients can drive.

- An AWS-compatible endpoint (default ``http://127.0.0.1:4566``): moto's server application sharing the
  in-process backends into which ``template.yaml`` is deployed by :class:`~driftline_offline.stack.OfflineStack`
  (Stage ``local``: the bus is ``driftline-local``), with the offline runtime's extensions active: the state
  machine executes, rules deliver, functions run in-process, SageMaker jobs run locally.
- The stack's HTTP API (default ``http://127.0.0.1:3000``): :class:`~driftline_offline.apigw.HttpApiApp` over the
  template's ``HttpApi`` routes, SigV4 (``execute-api``, ``us-east-1``, access key ``test`` / secret ``test``)
  enforced as the template's ``AWS_IAM`` default authorizer requires.
- The example model ``example-classifier`` registered with a baseline and one day of captured traffic and ground
  truth ending at the current hour (:func:`seed_example`), so a run can be requested at once::

      aws --endpoint-url http://127.0.0.1:4566 events put-events --entries \\
        '[{"EventBusName":"driftline-local","Source":"driftline","DetailType":"Run Requested",
           "Detail":"{\\"modelId\\":\\"example-classifier\\"}"}]'

One line containing ``ready`` is printed on stdout when everything is up; SIGINT / SIGTERM stop both servers
and exit 0. Options (and environment variables): ``--host`` (``DRIFTLINE_HOST``), ``--aws-port``
(``DRIFTLINE_AWS_PORT``), ``--api-port`` (``DRIFTLINE_API_PORT``); port 0 picks a free port (the ready line
gives the URLs).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import gc
import io
import json
import logging
import os
import signal
import sys
import tarfile
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = ["ExampleSeed", "main", "seed_example"]

LOG = logging.getLogger("driftline_offline.server")

REPO_ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
ACCESS_KEY = "test"
SECRET_KEY = "test"  # noqa: S105 - the documented local credentials of the offline stack
STAGE = "local"
EXAMPLE_MODEL = "example-classifier"
#: Where the example model's config comes from (first that exists); its bucket is replaced by the stack's.
EXAMPLE_CONFIGS = (
    "examples/driftline_examples/classifier/model_config.json",
    "examples/model_config.json",
    "tests/fixtures/model_config_binary.json",
)
EXAMPLE_BUCKET_PLACEHOLDER = "driftline-test-data"
#: Hyperparameters the example's ``train.py`` understands (the fixture's are for a different script).
EXAMPLE_HYPERPARAMETERS = {"l2": "0.01", "categorical": "5"}
_AWS_ENDPOINT_VARS = ("AWS_ENDPOINT_URL",)


# ------------------------------------------------------------------------------------------------ seeding
@dataclass(frozen=True)
class ExampleSeed:
    """What :func:`seed_example` wrote."""

    model_id: str
    bucket: str
    window_start: datetime
    window_end: datetime
    requests: int
    capture_objects: int
    ground_truth_objects: int
    baseline_uri: str
    training_data_uri: str
    train_metrics: dict[str, float]
    endpoint_name: str


def _replace_bucket(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return value.replace(f"s3://{old}/", f"s3://{new}/")
    if isinstance(value, dict):
        return {k: _replace_bucket(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_bucket(v, old, new) for v in value]
    return value


def example_config(bucket: str, root: Path = REPO_ROOT) -> dict[str, Any]:
    """The example model's config, pointed at ``bucket`` (see :data:`EXAMPLE_CONFIGS`)."""
    for rel in EXAMPLE_CONFIGS:
        path = root / rel
        if path.is_file():
            raw = json.loads(path.read_text(encoding="utf-8"))
            break
    else:
        raise FileNotFoundError(f"no example model config in {', '.join(EXAMPLE_CONFIGS)}")
    old = EXAMPLE_BUCKET_PLACEHOLDER
    uri = raw.get("dataCapture", {}).get("s3Uri", "")
    if uri.startswith("s3://"):
        old = uri[5:].split("/", 1)[0]
    cfg = _replace_bucket(copy.deepcopy(raw), old, bucket)
    cfg["modelId"] = EXAMPLE_MODEL
    training = cfg.get("training")
    if isinstance(training, dict):
        training["hyperparameters"] = dict(EXAMPLE_HYPERPARAMETERS)
    return cfg


def _source_tarball(root: Path) -> bytes:
    """``sourcedir.tar.gz`` of the example's script-mode code (``train.py``, ``inference.py``)."""
    code = root / "examples" / "driftline_examples" / "classifier"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name in ("train.py", "inference.py"):
            if (code / name).is_file():
                tar.add(code / name, arcname=name)
    return buf.getvalue()


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def seed_example(
    stack: Any,
    *,
    now: datetime | None = None,
    requests: int = 2000,
    train_rows: int = 4000,
    root: Path = REPO_ROOT,
) -> ExampleSeed:
    """Register ``example-classifier`` with a baseline and one day of captured traffic and ground truth.

    The champion is the example's logistic regression (``driftline_examples.classifier.train``) fitted on a
    training set from the traffic generator, served by the config's endpoint (local SageMaker, Data Capture on)
    and recorded as the model's champion. The day of traffic (stable scenario) covers the 24 hours ending at
    ``now`` floored to the hour -- the window a ``Run Requested`` event at ``now`` evaluates -- written as the
    endpoint's Data Capture would have written it, with its ground truth hour by hour. The config is validated
    and stored with the common layer's ``ModelStore``; the baseline is built by the drift checker's
    ``build_baseline`` action (invoked in-process like any function).
    """
    import numpy as np
    from driftline_common.config import parse_config
    from driftline_common.settings import Settings
    from driftline_common.store import ModelStore
    from driftline_examples import traffic
    from driftline_examples.classifier import train

    now = (now or stack.runtime.clock.now()).astimezone(UTC)
    end = now.replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=24)
    bucket = stack.resource("DataBucket")
    s3 = stack.client("s3")
    cfg = example_config(bucket, root)

    # training data, the champion model and the code a retrain runs
    X_train, y_train = traffic.training_set(train_rows)
    train_uri = cfg["training"]["trainingDataUri"].rstrip("/") + "/train.csv"
    b, k = _split(train_uri)
    s3.put_object(Bucket=b, Key=k, Body=traffic.to_training_csv(X_train, y_train).encode())
    b, k = _split(cfg["training"]["sourceUri"])
    s3.put_object(Bucket=b, Key=k, Body=_source_tarball(root))
    hps, _ = train.resolve_hyperparameters(
        [], {"SM_INPUT_CONFIG_DIR": str(root / "nonexistent"), "SM_HPS": json.dumps(cfg["training"]["hyperparameters"])}
    )
    model = train.fit(X_train, y_train, hps)
    model_uri = cfg["training"]["outputUri"].rstrip("/") + "/champion/model.tar.gz"
    b, k = _split(model_uri)
    s3.put_object(Bucket=b, Key=k, Body=_model_tarball(model, train.MODEL_FILENAME))

    # one day of traffic: Data Capture as the endpoint writes it, ground truth in the same hours
    day = traffic.day(0, requests, traffic.STABLE)
    scores = train.predict_proba(model, day.X)
    records = traffic.capture_records(day.X, scores, day.inference_ids, d=0, origin=start)
    cap_bucket, cap_key = _split(cfg["dataCapture"]["s3Uri"])
    prefix, _, endpoint = cap_key.rstrip("/").rpartition("/")
    variant = (cfg.get("deployment") or {}).get("variantName", "AllTraffic")
    capture = traffic.capture_files(records, prefix=prefix, endpoint=endpoint, variant=variant)
    for key, body in capture.items():
        s3.put_object(Bucket=cap_bucket, Key=key, Body=body.encode())
    gt_bucket, gt_prefix = _split(cfg["groundTruth"]["s3Uri"])
    by_hour: dict[datetime, list[int]] = {}
    for i, record in enumerate(records):
        t = datetime.strptime(record["eventMetadata"]["inferenceTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        by_hour.setdefault(t.replace(minute=0, second=0), []).append(i)
    gt_objects = 0
    for hour, rows in sorted(by_hour.items()):
        labels = traffic.ground_truth_records([int(day.y[i]) for i in rows], [day.inference_ids[i] for i in rows])
        files = traffic.ground_truth_files(labels, prefix=gt_prefix, when=hour + timedelta(minutes=59))
        for key, body in files.items():
            s3.put_object(Bucket=gt_bucket, Key=key, Body=body.encode())
            gt_objects += 1

    endpoint_name = _deploy_champion(stack, cfg, model_uri)

    # the config (validated on write) and the baseline (the drift checker's own builder); the data is written
    # first, so the trigger router (GroundTruthLanded rule) finds no registered model and starts no run
    spec = stack.runtime.lambdas.find("DriftCheckerFunction")
    settings = Settings.from_env(dict(spec.environment))
    models = ModelStore(settings)
    models.put_config(parse_config(cfg, model_id=EXAMPLE_MODEL))
    models.record_champion(EXAMPLE_MODEL, {
        "modelName": f"{endpoint_name}-champion", "endpointConfigName": f"{endpoint_name}-champion", "version": 1,
        "modelArtifacts": model_uri,
    })
    stack.invoke("DriftCheckerFunction", {"action": "build_baseline", "modelId": EXAMPLE_MODEL, "dataUri": train_uri})
    b, k = _split(cfg["baselineUri"])
    s3.head_object(Bucket=b, Key=k)  # the builder wrote it where the config says

    y_day = np.asarray(day.y)
    return ExampleSeed(
        model_id=EXAMPLE_MODEL,
        bucket=bucket,
        window_start=start,
        window_end=end,
        requests=len(records),
        capture_objects=len(capture),
        ground_truth_objects=gt_objects,
        baseline_uri=cfg["baselineUri"],
        training_data_uri=train_uri,
        train_metrics={k: float(v) for k, v in train.evaluate(model, day.X, y_day).items()},
        endpoint_name=endpoint_name,
    )


def _model_tarball(model: dict[str, Any], filename: str) -> bytes:
    buf = io.BytesIO()
    data = json.dumps(model).encode()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo(filename)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _deploy_champion(stack: Any, cfg: dict[str, Any], model_uri: str) -> str:
    """The champion behind the config's endpoint (local SageMaker), capturing into the config's prefix."""
    sm = stack.client("sagemaker")
    endpoint = cfg["endpointName"]
    deployment = cfg.get("deployment") or {}
    name = f"{endpoint}-champion"
    capture_bucket, capture_key = _split(cfg["dataCapture"]["s3Uri"])
    destination = f"s3://{capture_bucket}/{capture_key.rstrip('/').rpartition('/')[0]}".rstrip("/")
    sm.create_model(
        ModelName=name,
        ExecutionRoleArn=stack.attribute("SageMakerExecutionRole", "Arn"),
        PrimaryContainer={
            "Image": cfg["training"]["imageUri"],
            "ModelDataUrl": model_uri,
            "Environment": {"SAGEMAKER_PROGRAM": "inference.py",
                            "SAGEMAKER_SUBMIT_DIRECTORY": cfg["training"]["sourceUri"]},
        },
    )
    sm.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[{
            "VariantName": deployment.get("variantName", "AllTraffic"), "ModelName": name,
            "InitialInstanceCount": int(deployment.get("initialInstanceCount", 1)),
            "InstanceType": deployment.get("instanceType", "ml.m5.large"),
        }],
        DataCaptureConfig={
            "EnableCapture": True, "InitialSamplingPercentage": 100, "DestinationS3Uri": destination,
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]},
        },
    )
    sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=name)
    return endpoint


# ------------------------------------------------------------------------------------------------ servers
class _Server:
    """A werkzeug server bound in the calling thread (a busy port fails here), served in a daemon thread."""

    def __init__(self, name: str, host: str, port: int, app: Any, request_handler: Any = None) -> None:
        from werkzeug.serving import make_server

        self.name = name
        kwargs = {"request_handler": request_handler} if request_handler is not None else {}
        self.server = make_server(host, port, app, threaded=True, **kwargs)
        self.host, self.port = self.server.server_address[:2]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1},
                                       name=f"driftline-{name}", daemon=True)

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


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    try:
        return int(value) if value else default
    except ValueError:
        raise SystemExit(f"error: {name}={value!r} is not a port number") from None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m driftline_offline.server",
        description="Serve the offline Driftline stack: an AWS endpoint and the stack's HTTP API.",
    )
    parser.add_argument("--host", default=os.environ.get("DRIFTLINE_HOST", "127.0.0.1"),
                        help="address both servers bind (env DRIFTLINE_HOST; default 127.0.0.1)")
    parser.add_argument("--aws-port", type=int, default=_env_int("DRIFTLINE_AWS_PORT", 4566),
                        help="AWS endpoint port (env DRIFTLINE_AWS_PORT; default 4566; 0 = any free port)")
    parser.add_argument("--api-port", type=int, default=_env_int("DRIFTLINE_API_PORT", 3000),
                        help="HTTP API port (env DRIFTLINE_API_PORT; default 3000; 0 = any free port)")
    parser.add_argument("--template", default=os.environ.get("DRIFTLINE_TEMPLATE", str(REPO_ROOT / "template.yaml")),
                        help="SAM template to deploy (default: the repository's template.yaml)")
    parser.add_argument("--no-example", action="store_true",
                        help="do not register example-classifier and its data")
    parser.add_argument("--requests", type=int, default=2000, help="captured requests of the example's day")
    parser.add_argument("--tick", type=float, default=0.25,
                        help="seconds between clock/schedule ticks (0 disables the ticker)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    for name in ("aws_port", "api_port"):
        if not 0 <= getattr(args, name) <= 65535:
            parser.error(f"--{name.replace('_', '-')} must be in 0..65535")
    if args.requests < 1:
        parser.error("--requests must be >= 1")
    return args


def serve(args: argparse.Namespace, *, stop: threading.Event, on_ready: Callable[[str], None] | None = None) -> int:
    """Bind both ports, deploy, seed, serve until ``stop`` is set; returns the exit status."""
    from .apigw import HttpApiApp, load_routes
    from .sigv4 import SigV4Verifier
    from .stack import ACCOUNT, OfflineStack

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
    try:
        with OfflineStack.running(template, parameters={"Stage": STAGE}, root=template.parent) as stack:
            http_api = HttpApiApp(routes, stack.invoke, verifier, stage=STAGE, api_id="offline", account_id=ACCOUNT)
            api_app.app = http_api
            os.environ["MOTO_PORT"] = str(aws.port)
            aws.start()
            seed = None
            if not args.no_example:
                seed = seed_example(stack, requests=args.requests, root=template.parent)
                LOG.info("registered %s: %d requests in [%s, %s), baseline %s", seed.model_id, seed.requests,
                         seed.window_start.isoformat(), seed.window_end.isoformat(), seed.baseline_uri)
            for spec in stack.runtime.lambdas.specs():  # import every handler now, not in the first requests
                spec.load()
            api.start()
            if args.tick > 0:
                ticker = threading.Thread(target=_ticker, args=(stack, ticker_stop, args.tick),
                                          name="driftline-clock", daemon=True)
                ticker.start()
            line = (
                f"driftline ready: aws={aws.url} api={api.url} bus={stack.resource('EventBus')} "
                f"state_machine={stack.state_machine_arn} bucket={stack.resource('DataBucket')} "
                f"model={seed.model_id if seed else '-'} ({time.perf_counter() - started:.1f}s)"
            )
            if on_ready is not None:
                on_ready(line)
            stop.wait()
            LOG.info("stopping")
            ticker_stop.set()
            if ticker is not None:
                ticker.join(timeout=5)
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


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if not args.verbose:  # one line per request, per state machine branch, per credential lookup: too much
        for name in ("werkzeug", "moto", "botocore", "driftline_offline.apigw"):
            logging.getLogger(name).setLevel(logging.WARNING)
        warnings.filterwarnings("ignore", message="No application metrics to publish")  # Powertools, per call
    stop = threading.Event()

    def _on_signal(signum: int, _frame: Any) -> None:
        LOG.info("received %s", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)

    def _ready(line: str) -> None:
        print(line, flush=True)

    return serve(args, stop=stop, on_ready=_ready)


if __name__ == "__main__":
    sys.exit(main())
