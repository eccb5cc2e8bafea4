"""A scenario's model on the offline stack, day by day: set-up, traffic, ground truth, scheduled runs.

Used by ``make demo`` (:mod:`driftline_offline.demo`), by ``make scenarios``
(:mod:`driftline_examples.scenarios`), by the workflow tests and by ``make up``. What is simulated comes from a
:class:`driftline_examples.scenarios.Scenario` (population, feature schema, model scripts, config overrides);
the demo's ``traffic.STABLE``/``traffic.DRIFT`` are wrapped as one. Everything goes through the stack's real
resources: the model is trained by a real ``CreateTrainingJob`` in script mode (``sourcedir.tar.gz`` of the
scenario's source directory, e.g. ``examples/driftline_examples/classifier/``, uploaded to S3), the drift
baseline by the drift checker's ``build_baseline`` action, the config is registered through the API function
(``PUT /models/{id}``, an API Gateway v2 event), traffic goes through ``sagemaker-runtime`` ``InvokeEndpoint``
(Data Capture writes the capture files), the ground truth is written in SageMaker's format, and each day's run
is started by the template's schedule rule (trigger router, ``Run Requested``, the pipeline).

Example
-------
::

    with OfflineStack.running("template.yaml", parameters={"Stage": "local"}, clock=ORIGIN) as stack:
        example = seed_example(stack)                         # champion, baseline, endpoint, day 0
        day = example.run_day(0)                              # the scheduled run over day 0
        print(day.status, day.result["outcome"])
"""

from __future__ import annotations

import io
import json
import tarfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from . import OfflineStack

__all__ = [
    "ENDPOINT_NAME",
    "MODEL_ID",
    "ROOT",
    "DayResult",
    "Example",
    "api_event",
    "as_scenario",
    "example_config",
    "model_config",
    "seed_example",
    "source_tarball",
]

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
SOURCE_DIR = ROOT / "examples" / "driftline_examples" / "classifier"
MODEL_ID = "example-classifier"
ENDPOINT_NAME = "driftline-example-classifier"
VARIANT = "AllTraffic"
#: the SageMaker scikit-learn image the SDK would pick (offline, only script mode matters)
IMAGE_URI = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
CSV = "text/csv"
#: the hyperparameters of the champion and of every retrain (f5 is categorical: one-hot encoded)
HYPERPARAMETERS = {"l2": "1.0", "categorical": "5"}


# ----------------------------------------------------------------------------------------------- config
def as_scenario(scenario: Any) -> Any:
    """A :class:`driftline_examples.scenarios.Scenario`; the demo's ``traffic.Scenario`` is wrapped as one."""
    from driftline_examples import traffic
    from driftline_examples.scenarios.base import Scenario
    from driftline_examples.scenarios.example import from_traffic

    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, traffic.Scenario):
        return from_traffic(scenario)
    raise TypeError(f"scenario must be a driftline_examples.scenarios.Scenario or a traffic.Scenario, "
                    f"got {type(scenario).__name__}")


def example_config(bucket: str, *, ground_truth_prefix: str = "labels", **overrides: Any) -> dict[str, Any]:
    """The example classifier's model config (:func:`model_config` of the demo's population).

    See :func:`model_config` for the defaults and why they are what they are.
    """
    from driftline_examples import traffic
    from driftline_examples.scenarios.example import from_traffic

    return model_config(from_traffic(traffic.STABLE), bucket, ground_truth_prefix=ground_truth_prefix, **overrides)


def model_config(scenario: Any, bucket: str, *, ground_truth_prefix: str = "labels",
                 **overrides: Any) -> dict[str, Any]:
    """A scenario's model config (camelCase, as ``PUT /models/{modelId}`` takes it).

    The scenario (:class:`driftline_examples.scenarios.Scenario`) gives the model id, the problem type, the
    features, the labels, the training hyperparameters; its ``config`` overrides, then ``overrides``, are merged
    into the defaults below one level deep (a list such as ``thresholds`` is replaced as a whole).

    Ground truth lands under ``s3://<bucket>/<ground_truth_prefix>/<modelId>/`` in SageMaker's
    ground-truth format. The default prefix ``labels`` is outside the template's ``ground-truth/`` rule on
    purpose: the demo's runs come from the daily schedule, and a label upload under ``ground-truth/`` would
    start a second run over almost the same window. Pass ``ground_truth_prefix="ground-truth"`` to have
    label uploads start runs instead.

    Tuning, from the example's own numbers (``traffic.DRIFT``; 1,500 labelled rows a day):

    - thresholds ``roc_auc >= 0.80`` and ``accuracy >= 0.72`` sit between the healthy champion (ROC AUC
      0.86-0.89, accuracy 0.77-0.81 on undrifted days) and the drifted one (0.71-0.78 / 0.66-0.72), so
      the stable scenario never breaches and the drifted days do;
    - ``consecutiveBreaches: 2``: one bad day is not enough (the first drifted days only dip);
    - ``minSamples: 500`` (a day brings 1,500 labels), ``minNewLabels: 1000`` (two-thirds of a day of
      labels since the data of the last training), ``cooldownHours: 48``;
    - ``triggers: ["performance", "drift"]``: a sustained performance breach or dataset drift retrains. After a
      deployment the pipeline's RefreshBaseline state makes the new champion's training set the drift
      baseline, so the shifted-but-now-modelled population stops counting as drift;
    - ``trainingWindowDays: 1``: the challenger is trained on the latest labelled day before the window
      it is compared on (the most drifted data available), and scored against the champion on that
      window's rows.
    """
    model_id, endpoint = scenario.model_id, scenario.endpoint_name
    cfg: dict[str, Any] = {
        "modelId": model_id,
        "problemType": scenario.problem_type,
        "endpointName": endpoint,
        "dataCapture": {"s3Uri": f"s3://{bucket}/datacapture/{endpoint}", "format": "sagemaker"},
        "groundTruth": {"s3Uri": f"s3://{bucket}/{ground_truth_prefix}/{model_id}", "format": "sagemaker"},
        "baselineUri": f"s3://{bucket}/baselines/{model_id}/baseline.json",
        "features": [{"name": f.name, "type": f.type} for f in scenario.features],
        "windowHours": 24,
        "thresholds": [{"metric": "roc_auc", "min": 0.8}, {"metric": "accuracy", "min": 0.72}],
        "drift": {"alpha": 0.01, "correction": "benjamini-hochberg", "psi": 0.2, "datasetShare": 0.3, "bins": 10},
        "retrainPolicy": {
            "consecutiveBreaches": 2, "minSamples": 500, "minNewLabels": 1000, "cooldownHours": 48,
            "maxRetrainsPerPeriod": 2, "periodDays": 7, "lockTtlMinutes": 240,
            "triggers": ["performance", "drift"], "trainingWindowDays": 1,
        },
        "training": {
            "imageUri": IMAGE_URI,
            "entryPoint": scenario.model.entry_point,
            "sourceUri": f"s3://{bucket}/code/{model_id}/sourcedir.tar.gz",
            "outputUri": f"s3://{bucket}/models/{model_id}",
            "trainingDataUri": f"s3://{bucket}/training-data/{model_id}",
            "hyperparameters": dict(scenario.model.hyperparameters),
        },
        "promotion": {"metric": "roc_auc", "minImprovement": 0.01, "minSamples": 200, "requireApproval": False},
        "deployment": {"strategy": "all_at_once", "waitMinutes": 0, "terminationWaitMinutes": 0,
                       "variantName": VARIANT},
    }
    if scenario.problem_type == "binary":
        cfg.update(labels=list(scenario.labels), positiveLabel=scenario.labels[-1], decisionThreshold=0.5)
    elif scenario.problem_type == "multiclass":
        cfg.update(labels=list(scenario.labels))
    for key, value in [*scenario.config.items(), *overrides.items()]:
        if isinstance(value, Mapping) and isinstance(cfg.get(key), dict):
            cfg[key] = {**cfg[key], **value}
        else:
            cfg[key] = value
    return cfg


def source_tarball(source_dir: Path = SOURCE_DIR) -> bytes:
    """``sourcedir.tar.gz`` of the training/inference scripts, as the SageMaker Python SDK packs it."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path in sorted(source_dir.iterdir()):
            if path.is_file() and path.suffix == ".py":
                tar.add(path, arcname=path.name)
    return buf.getvalue()


def api_event(method: str, path: str, body: Any = None, *, route: str | None = None,
              path_parameters: dict[str, str] | None = None) -> dict[str, Any]:
    """An API Gateway HTTP API (payload v2) event for the API function."""
    route_key = f"{method} {route or path}"
    return {
        "version": "2.0", "routeKey": route_key, "rawPath": path, "rawQueryString": "",
        "headers": {"content-type": "application/json", "accept": "application/json"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "offline", "domainName": "localhost", "domainPrefix": "offline",
            "authorizer": {"iam": {"userArn": "arn:aws:iam::123456789012:user/driftline-demo",
                                   "accountId": "123456789012"}},
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                     "userAgent": "driftline-demo"},
            "requestId": f"demo-{method}-{path}", "routeKey": route_key, "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000", "timeEpoch": 0,
        },
        "pathParameters": path_parameters or {},
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }


# ----------------------------------------------------------------------------------------------- results
@dataclass
class DayResult:
    """One simulated day: the traffic sent and the run that evaluated it."""

    day: int
    rows: int
    execution_arn: str | None
    status: str
    seconds: float  # wall time from the schedule firing to the execution's end
    cpu_seconds: float = 0.0  # CPU time of this process over the same span (all threads)
    result: dict[str, Any] = field(default_factory=dict)  # the execution output (or the failure)
    run: dict[str, Any] = field(default_factory=dict)  # the run record
    error: str | None = None


class Example:
    """The example classifier deployed on an offline stack (see :func:`seed_example`)."""

    def __init__(self, stack: OfflineStack, config: dict[str, Any], *, scenario: Any, rows_per_day: int,
                 origin: datetime, batches_per_day: int = 6) -> None:
        from driftline_common.settings import Settings

        self.stack = stack
        self.config = config
        #: the population, model and expectation (:class:`driftline_examples.scenarios.Scenario`)
        self.scenario = as_scenario(scenario)
        self.model_id: str = config["modelId"]
        self.endpoint_name: str = config["endpointName"]
        self.rows_per_day = rows_per_day
        self.batches_per_day = batches_per_day
        self.origin = origin
        self.bucket = stack.resource("DataBucket")
        self.settings = Settings(
            bucket=self.bucket, models_table=stack.resource("ModelsTable"), runs_table=stack.resource("RunsTable"),
            locks_table=stack.resource("LocksTable"), event_bus=stack.resource("EventBus"),
        )
        self.labels: dict[int, tuple[list[str], np.ndarray]] = {}
        #: set by :func:`seed_example`: the champion's training job and the baseline action's summary
        self.champion: dict[str, Any] = {}
        self.baseline: dict[str, Any] = {}

    # -- helpers -----------------------------------------------------------------------------------
    def day_start(self, d: int) -> datetime:
        return self.origin + timedelta(days=d)

    def put(self, uri: str, body: bytes | str, content_type: str = "application/octet-stream") -> None:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        data = body.encode() if isinstance(body, str) else body
        self.stack.client("s3").put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type)

    def get(self, uri: str) -> bytes:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        return bytes(self.stack.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())

    def models(self) -> Any:
        from driftline_common.store import ModelStore

        return ModelStore(self.settings)

    def runs(self) -> Any:
        from driftline_common.store import RunStore

        return RunStore(self.settings)

    # -- traffic -----------------------------------------------------------------------------------
    def send_traffic(self, d: int, *, batches: int | None = None) -> int:
        """Day ``d``'s requests through ``InvokeEndpoint``, in ``batches`` CSV requests spread over the day.

        Each batch is one request (``InferenceId`` = ``<scenario>-d<day>-h<hour>``) sent at its hour of the
        simulated day; Data Capture records it as one event (one capture file per hour) whose rows the
        evaluator reads as ``<inferenceId>#<row>`` — the ids the ground truth is written under.
        """
        X, y, _ = self.scenario.day(d, self.rows_per_day)
        runtime = self.stack.client("sagemaker-runtime")
        clock = self.stack.runtime.clock
        ids: list[str] = []
        batches = batches or self.batches_per_day
        for b, rows in enumerate(np.array_split(np.arange(len(y)), batches)):
            if not rows.size:
                continue
            h = b * 24 // batches
            clock.set(self.day_start(d) + timedelta(hours=h, minutes=7))
            batch_id = f"{self.scenario.name}-d{d:03d}-h{h:02d}"
            body = "\n".join(self.scenario.csv_row(X[i]) for i in rows) + "\n"
            runtime.invoke_endpoint(EndpointName=self.endpoint_name, Body=body.encode(), ContentType=CSV, Accept=CSV,
                                    InferenceId=batch_id)
            ids.extend(f"{batch_id}#{k}" for k in range(rows.size))
        self.labels[d] = (ids, y)
        return len(ids)

    def write_ground_truth(self, d: int, *, when: datetime | None = None) -> str:
        """Day ``d``'s labels as SageMaker ground-truth JSON Lines, landed at ``when`` (default 23:30 that day)."""
        from driftline_examples import traffic

        ids, y = self.labels[d]
        when = when or self.day_start(d) + timedelta(hours=23, minutes=30)
        self.stack.runtime.clock.set(when)
        base = self.config["groundTruth"]["s3Uri"].removeprefix(f"s3://{self.bucket}/")
        key = traffic.ground_truth_key(base, when)  # one upload: traffic.ground_truth_files' single file
        self.put(f"s3://{self.bucket}/{key}", traffic.ground_truth_jsonl([self.scenario.label_text(v) for v in y],
                                                                          ids), "application/jsonl")
        return key

    # -- runs --------------------------------------------------------------------------------------
    def run_day(self, d: int, *, timeout: float = 60.0) -> DayResult:
        """Move the clock to the end of day ``d``: the daily schedule fires and the run over day ``d`` executes.

        When no schedule fires at that moment (a stack deployed at another time of day anchors its
        ``rate(1 day)`` there), a ``Run Requested`` event for the day's window is put on the bus instead.
        """
        started, cpu = time.perf_counter(), time.process_time()
        end = self.day_start(d + 1)
        arns = self.stack.advance_clock(end, wait=True, timeout=timeout)
        if not arns:
            before = len(self.stack.runtime.started_executions)
            self.stack.put_events([{
                "Source": "driftline", "DetailType": "Run Requested", "EventBusName": "EventBus",
                "Detail": {"modelId": self.model_id, "windowEnd": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
                           "trigger": {"type": "manual", "id": f"day-{d}-{end.isoformat()}"}},
            }])
            arns = self.stack.runtime.started_executions[before:]
            for arn in arns:
                self.stack.wait_execution(arn, timeout)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        rows = len(self.labels.get(d, ([], None))[0])
        if not arns:
            return DayResult(d, rows, None, "NOT_STARTED", seconds, cpu,
                             error="neither the schedule nor a Run Requested event started an execution")
        return self.collect(d, rows, arns[-1], seconds, cpu)

    def collect(self, d: int, rows: int, arn: str, seconds: float, cpu_seconds: float = 0.0) -> DayResult:
        desc = self.stack.client("stepfunctions").describe_execution(executionArn=arn)
        status = desc["status"]
        result = json.loads(desc.get("output") or "{}") if status == "SUCCEEDED" else {}
        run_id = arn.rsplit(":", 1)[-1]
        try:
            run = self.runs().get(self.model_id, run_id)
        except Exception:  # noqa: BLE001 - a run that never started has no record
            run = {}
        error = None
        if status != "SUCCEEDED":
            error = run.get("reason") or f"{desc.get('error', status)}: {desc.get('cause', '')}".strip(": ")
        return DayResult(d, rows, arn, status, seconds, cpu_seconds, result=result, run=run, error=error)

    def simulate(self, days: int, *, first_day: int = 1,
                 progress: Callable[[DayResult], None] | None = None) -> list[DayResult]:
        """Days ``first_day .. days-1``: traffic, ground truth and the scheduled run of each."""
        out = []
        for d in range(first_day, days):
            self.send_traffic(d)
            self.write_ground_truth(d)
            result = self.run_day(d)
            out.append(result)
            if progress:
                progress(result)
        return out


# ----------------------------------------------------------------------------------------------- set-up
def _train_champion(ex: Example, *, n_train: int) -> dict[str, Any]:
    X, y = ex.scenario.training_set(n_train)
    data_uri = f"{ex.config['training']['trainingDataUri']}/initial/train/train.csv"
    ex.put(data_uri, ex.scenario.training_csv(X, y), CSV)
    ex.put(ex.config["training"]["sourceUri"], source_tarball(ex.scenario.model.source_dir), "application/gzip")
    sm = ex.stack.client("sagemaker")
    job = f"{ex.model_id}-champion"
    hps = {k: json.dumps(v) for k, v in ex.config["training"]["hyperparameters"].items()}
    hps.update(sagemaker_program=json.dumps(ex.config["training"]["entryPoint"]),
               sagemaker_submit_directory=json.dumps(ex.config["training"]["sourceUri"]))
    sm.create_training_job(
        TrainingJobName=job,
        AlgorithmSpecification={"TrainingImage": IMAGE_URI, "TrainingInputMode": "File"},
        RoleArn=ex.stack.attribute("SageMakerExecutionRole", "Arn"),
        HyperParameters=hps,
        InputDataConfig=[{"ChannelName": "train", "ContentType": CSV, "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": data_uri.rsplit("/", 1)[0] + "/",
            "S3DataDistributionType": "FullyReplicated"}}}],
        OutputDataConfig={"S3OutputPath": ex.config["training"]["outputUri"]},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )
    desc = sm.describe_training_job(TrainingJobName=job)
    if desc["TrainingJobStatus"] != "Completed":
        raise RuntimeError(f"champion training failed: {desc.get('FailureReason')}")
    return {"jobName": job, "modelArtifacts": desc["ModelArtifacts"]["S3ModelArtifacts"], "dataUri": data_uri}


def _register(ex: Example) -> dict[str, Any]:
    path = f"/models/{ex.model_id}"
    event = api_event("PUT", path, ex.config, route="/models/{modelId}", path_parameters={"modelId": ex.model_id})
    resp = ex.stack.invoke("ApiFunction", event)
    body = json.loads(resp.get("body") or "{}")
    if int(resp.get("statusCode", 500)) != 200:
        raise RuntimeError(f"PUT {path} returned {resp.get('statusCode')}: {body}")
    return body


def _create_endpoint(ex: Example, champion: dict[str, Any]) -> None:
    sm = ex.stack.client("sagemaker")
    name = f"driftline-{ex.model_id}-v1"
    source = ex.config["training"]["sourceUri"]
    sm.create_model(
        ModelName=name, ExecutionRoleArn=ex.stack.attribute("SageMakerExecutionRole", "Arn"),
        PrimaryContainer={"Image": IMAGE_URI, "ModelDataUrl": champion["modelArtifacts"],
                          "Environment": {"SAGEMAKER_PROGRAM": ex.scenario.model.inference_program,
                                          "SAGEMAKER_SUBMIT_DIRECTORY": source}},
    )
    capture_uri = ex.config["dataCapture"]["s3Uri"].removesuffix(f"/{ex.endpoint_name}")
    sm.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[{"VariantName": VARIANT, "ModelName": name, "InitialInstanceCount": 1,
                             "InstanceType": "ml.m5.large", "InitialVariantWeight": 1.0}],
        DataCaptureConfig={
            "EnableCapture": True, "InitialSamplingPercentage": 100, "DestinationS3Uri": capture_uri,
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            "CaptureContentTypeHeader": {"CsvContentTypes": [CSV], "JsonContentTypes": ["application/json"]},
        },
    )
    sm.create_endpoint(EndpointName=ex.endpoint_name, EndpointConfigName=name)
    ex.models().record_champion(ex.model_id, {
        "modelName": name, "endpointConfigName": name, "version": 1, "runId": None,
        "trainingJobName": champion["jobName"], "modelArtifacts": champion["modelArtifacts"],
    }, now=ex.stack.runtime.clock.now())


def seed_example(stack: OfflineStack, *, scenario: Any = None, rows_per_day: int = 1500, batches_per_day: int = 6,
                 n_train: int = 4000, origin: datetime | None = None, ground_truth_prefix: str = "labels",
                 config_overrides: Mapping[str, Any] | None = None, day0: bool = True) -> Example:
    """Register a scenario's model on ``stack`` with a trained champion, its baseline and an endpoint.

    ``scenario``: a :class:`driftline_examples.scenarios.Scenario` (its population, model scripts, config
    overrides), or one of the demo's ``traffic.Scenario`` (default ``traffic.STABLE``: ``example-classifier``).

    Steps: upload ``sourcedir.tar.gz`` and the training CSV; register the config (``PUT /models/...`` through
    the API function); train the champion with ``CreateTrainingJob`` (script mode); build the drift baseline
    from the training CSV (drift checker ``build_baseline``); create the model, the endpoint config with
    Data Capture and the endpoint ``driftline-<modelId>``; record the champion (version 1).
    With ``day0`` (default) day 0's traffic is sent and its ground truth written, so that a run over day 0
    (``example.run_day(0)``, or any run whose window covers it) has labelled data.

    Day 0 starts at ``origin``: by default the traffic generator's day 0 (2026-01-05) when the stack's clock
    is not past it, else midnight of the clock's current day (day 0 is then today; requests sent before
    "now" land in the current hour). The clock only moves forward, so ``origin`` must not be a day or more
    in the past.
    """
    from driftline_examples import traffic

    now = stack.runtime.clock.now()
    if origin is None:
        origin = traffic.ORIGIN if now <= traffic.ORIGIN else now.replace(hour=0, minute=0, second=0, microsecond=0)
    if now >= origin + timedelta(days=1):
        raise ValueError(f"the stack's clock ({now}) is past the example's day 0 ({origin}): deploy with "
                         "clock=<origin> or earlier, or pass origin= (the clock only moves forward)")
    spec = as_scenario(scenario or traffic.STABLE)
    stack.runtime.clock.set(origin)
    config = model_config(spec, stack.resource("DataBucket"), ground_truth_prefix=ground_truth_prefix,
                          **dict(config_overrides or {}))
    ex = Example(stack, config, scenario=spec, rows_per_day=rows_per_day, origin=origin,
                 batches_per_day=batches_per_day)
    _register(ex)
    champion = _train_champion(ex, n_train=n_train)
    baseline = stack.invoke("DriftCheckerFunction", {"action": "build_baseline", "modelId": ex.model_id,
                                                     "dataUri": champion["dataUri"]})
    ex.champion, ex.baseline = champion, baseline
    _create_endpoint(ex, champion)
    if day0:
        ex.send_traffic(0)
        ex.write_ground_truth(0)
    stack.freeze_heap()  # the seeded state and the handlers' modules live as long as the stack
    return ex
