"""Workflow fixtures: the real ``template.yaml`` and ``statemachines/pipeline.asl.json`` deployed offline.

``workflow`` (one per test, ~0.3 s) is an :class:`OfflineStack` of the real template with ``Stage=local`` on a
simulated clock, plus what a user would have set up before the first run:

- the example model's ``sourcedir.tar.gz`` (``examples/driftline_examples/classifier``) in the stack's bucket;
- a champion trained by the real ``train.py`` on the undrifted population (trained once per session, in
  process, and uploaded as ``model.tar.gz``), served by a SageMaker endpoint with Data Capture, and recorded
  as the model state's champion (version 1);
- the model config (``tests/fixtures/model_config_binary.json`` pointed at the stack's bucket) and its drift
  baseline, built by the drift checker's ``build_baseline`` action from the champion's training CSV;
- an SQS queue receiving every event of the Driftline bus (a rule on the bus, as a consumer would add), and
  an SQS queue subscribed to the alerts topic.

Traffic comes from ``driftline_examples.traffic``: a day's requests scored by the champion, written as SageMaker
Data Capture and Model Monitor ground truth files. Ground truth goes under ``labels/`` rather than
``ground-truth/`` so that landing it does not fire the ``GroundTruthLanded`` trigger: the tests start every
execution themselves.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from driftline_examples import traffic
from driftline_examples.classifier import SOURCE_DIR
from driftline_examples.classifier import inference as champion_inference
from driftline_examples.classifier import train as trainer
from driftline_offline import OfflineStack

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
CONFIG_FIXTURE = ROOT / "tests" / "fixtures" / "model_config_binary.json"
MODEL_ID = "example-classifier"
ENDPOINT = "driftline-example-classifier"
CHAMPION_MODEL = "driftline-example-classifier-v1"
#: rows per simulated day (minSamples and minNewLabels of the config are 500)
ROWS_PER_DAY = 600
#: how long ``run_window`` waits for an execution: a guard against a hang, not a speed check (a retrain-and-deploy
#: execution costs ~6 CPU-s but took over 60 s of wall time with the 2 cores shared at load ~25)
EXECUTION_TIMEOUT_S = 300
#: hyperparameters the example script understands (``categorical``: f5 is a category code)
HYPERPARAMETERS = {"l2": "1.0", "categorical": "5"}


# ------------------------------------------------------------------------------------------ session assets
def _tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@lru_cache(maxsize=1)
def sourcedir_tar() -> bytes:
    """``sourcedir.tar.gz`` of the example classifier, as the SageMaker SDK uploads it."""
    return _tar({name: (SOURCE_DIR / name).read_bytes() for name in ("train.py", "inference.py")})


@lru_cache(maxsize=1)
def champion_assets() -> tuple[str, dict[str, Any], bytes]:
    """``(training CSV, model, model.tar.gz)``: the champion, trained once by the real script in process."""
    import tempfile

    X, y = traffic.training_set(2000)
    csv_text = traffic.to_training_csv(X, y)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "train").mkdir()
        (Path(tmp) / "train" / "train.csv").write_text(csv_text)
        env = {"SM_CHANNEL_TRAIN": f"{tmp}/train", "SM_MODEL_DIR": f"{tmp}/model",
               "SM_HPS": json.dumps(HYPERPARAMETERS), "SM_INPUT_CONFIG_DIR": f"{tmp}/none"}
        model = trainer.run([], env)
        archive = _tar({"model.json": (Path(tmp) / "model" / "model.json").read_bytes()})
    return csv_text, model, archive


@lru_cache(maxsize=8)
def day_files(scenario: str, d: int) -> tuple[dict[str, str], dict[str, str], np.ndarray, np.ndarray]:
    """Capture and ground-truth files of day ``d`` (keys relative to the bucket), the labels and champion scores."""
    X, y, ids = traffic.day(d, ROWS_PER_DAY, traffic.SCENARIOS[scenario])
    _, model, _ = champion_assets()
    scores = champion_inference.predict_fn(X, model)
    records = traffic.capture_records(X, scores, ids, d=d)
    capture = traffic.capture_files(records, prefix="datacapture", endpoint=ENDPOINT)
    labels = traffic.ground_truth_files(
        traffic.ground_truth_records(y, ids), prefix=f"labels/{MODEL_ID}",
        when=traffic.day_start(d) + timedelta(hours=23, minutes=30),
    )
    return capture, labels, y, scores


def model_config(bucket: str, **overrides: Any) -> dict[str, Any]:
    """The fixture config pointed at the stack's bucket, with the example script's hyperparameters."""
    cfg = json.loads(CONFIG_FIXTURE.read_text().replace("s3://driftline-test-data/", f"s3://{bucket}/"))
    cfg["groundTruth"]["s3Uri"] = f"s3://{bucket}/labels/{MODEL_ID}"
    cfg["training"]["hyperparameters"] = dict(HYPERPARAMETERS)
    cfg["deployment"]["rollbackAlarms"] = []
    for key, value in overrides.items():
        cfg[key] = value
    return cfg


# ------------------------------------------------------------------------------------------ the deployed stack
@dataclass
class Workflow:
    """The deployed stack and the handles the tests assert on."""

    stack: OfflineStack
    bucket: str
    events_queue: str
    alerts_queue: str
    config: dict[str, Any] = field(default_factory=dict)
    _events: list[dict[str, Any]] = field(default_factory=list)

    # -- clients and tables --------------------------------------------------------------------------------
    def client(self, service: str) -> Any:
        return self.stack.client(service)

    @property
    def clock(self) -> Any:
        return self.stack.runtime.clock

    def table(self, logical_id: str) -> str:
        return self.stack.resource(logical_id)

    def _scan(self, logical_id: str) -> list[dict[str, Any]]:
        from boto3.dynamodb.types import TypeDeserializer

        des = TypeDeserializer()
        items = self.client("dynamodb").scan(TableName=self.table(logical_id))["Items"]
        return [_plain({k: des.deserialize(v) for k, v in item.items()}) for item in items]

    def runs(self) -> dict[str, dict[str, Any]]:
        return {r["runId"]: r for r in self._scan("RunsTable") if r["modelId"] == MODEL_ID}

    def locks(self) -> dict[str, dict[str, Any]]:
        return {r["lockId"]: r for r in self._scan("LocksTable")}

    def model_state(self) -> dict[str, Any]:
        items = {r["kind"]: r for r in self._scan("ModelsTable") if r["modelId"] == MODEL_ID}
        return items.get("STATE", {}).get("state", {})

    def keys(self, prefix: str) -> list[str]:
        out = self.client("s3").list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return sorted(o["Key"] for o in out.get("Contents", []))

    def get_text(self, key: str) -> str:
        return self.client("s3").get_object(Bucket=self.bucket, Key=key)["Body"].read().decode()

    def put(self, key: str, body: bytes | str) -> str:
        self.client("s3").put_object(Bucket=self.bucket, Key=key, Body=body.encode() if isinstance(body, str) else body)
        return f"s3://{self.bucket}/{key}"

    def training_jobs(self) -> list[str]:
        return [j["TrainingJobName"] for j in self.client("sagemaker").list_training_jobs()["TrainingJobSummaries"]]

    # -- set-up helpers ------------------------------------------------------------------------------------
    def register(self, config: dict[str, Any]) -> None:
        """Store the config the way the API does (validated, versioned)."""
        from driftline_common.config import parse_config
        from driftline_common.store import ModelStore

        ModelStore(self.settings()).put_config(parse_config(config))
        self.config = config

    def settings(self) -> Any:
        from driftline_common.settings import Settings

        return Settings(bucket=self.bucket, models_table=self.table("ModelsTable"),
                        runs_table=self.table("RunsTable"), locks_table=self.table("LocksTable"),
                        event_bus=self.stack.resource("EventBus"))

    def write_day(self, scenario: str, d: int) -> tuple[np.ndarray, np.ndarray]:
        """Upload day ``d`` of ``scenario``: the champion's captured predictions and the ground truth."""
        capture, labels, y, scores = day_files(scenario, d)
        for key, body in {**capture, **labels}.items():
            self.put(key, body)
        return y, scores

    # -- running -------------------------------------------------------------------------------------------
    def run_window(self, d: int, *, name: str | None = None, request: dict[str, Any] | None = None
                   ) -> dict[str, Any]:
        """Run the pipeline on the window of day ``d`` (a manual run an hour after the day ended)."""
        end = traffic.day_start(d + 1)
        self.clock.set(end + timedelta(hours=1))
        body = request or {"modelId": MODEL_ID, "windowEnd": _iso(end)}
        arn = self.stack.start_execution(body, name=name or f"day{d:02d}-{len(self.stack.runtime.started_executions)}")
        return self.stack.wait_execution(arn, timeout=EXECUTION_TIMEOUT_S)

    def states(self, execution_arn: str) -> list[str]:
        """Names of the states the execution entered, in order (from its real execution history)."""
        return [e["stateEnteredEventDetails"]["name"] for e in self.stack.history(execution_arn)
                if e["type"].endswith("StateEntered")]

    def events(self) -> list[dict[str, Any]]:
        """Every event published on the Driftline bus so far (drained from the test's SQS queue)."""
        sqs = self.client("sqs")
        while True:
            msgs = sqs.receive_message(QueueUrl=self.events_queue, MaxNumberOfMessages=10).get("Messages", [])
            if not msgs:
                return list(self._events)
            for m in msgs:
                self._events.append(json.loads(m["Body"]))
                sqs.delete_message(QueueUrl=self.events_queue, ReceiptHandle=m["ReceiptHandle"])

    def events_of(self, detail_type: str, run_id: str | None = None) -> list[dict[str, Any]]:
        return [e["detail"] for e in self.events() if e["detail-type"] == detail_type
                and (run_id is None or e["detail"].get("runId") == run_id)]

    def alerts(self) -> list[dict[str, Any]]:
        sqs = self.client("sqs")
        out = []
        while True:
            msgs = sqs.receive_message(QueueUrl=self.alerts_queue, MaxNumberOfMessages=10).get("Messages", [])
            if not msgs:
                return out
            for m in msgs:
                out.append(json.loads(m["Body"]))
                sqs.delete_message(QueueUrl=self.alerts_queue, ReceiptHandle=m["ReceiptHandle"])

    def invoke_endpoint(self, rows: np.ndarray) -> np.ndarray:
        body = "\n".join(traffic.features_to_csv_row(r) for r in rows)
        out = self.client("sagemaker-runtime").invoke_endpoint(
            EndpointName=ENDPOINT, Body=body.encode(), ContentType="text/csv", Accept="text/csv")
        return np.asarray([float(v) for v in out["Body"].read().decode().split()], dtype=np.float64)


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _plain(obj: Any) -> Any:
    from decimal import Decimal

    if isinstance(obj, Decimal):
        return int(obj) if obj == obj.to_integral_value() else float(obj)
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    return obj


def _subscribe_queues(stack: OfflineStack) -> tuple[str, str]:
    sqs, events, sns = stack.client("sqs"), stack.client("events"), stack.client("sns")
    urls = []
    for name in ("workflow-bus-events", "workflow-alerts"):
        urls.append(sqs.create_queue(QueueName=name)["QueueUrl"])
    arn = sqs.get_queue_attributes(QueueUrl=urls[0], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = stack.resource("EventBus")
    events.put_rule(Name="workflow-test-capture", EventBusName=bus, EventPattern=json.dumps({"source": ["driftline"]}))
    events.put_targets(Rule="workflow-test-capture", EventBusName=bus, Targets=[{"Id": "sqs", "Arn": arn}])
    alerts_arn = sqs.get_queue_attributes(QueueUrl=urls[1], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=stack.resource("AlertsTopic"), Protocol="sqs", Endpoint=alerts_arn,
                  Attributes={"RawMessageDelivery": "true"})
    return urls[0], urls[1]


def _install_champion(wf: Workflow) -> None:
    """Upload the code and the champion, serve it on the endpoint with Data Capture, record it, build the baseline."""
    csv_text, _model, archive = champion_assets()
    cfg = wf.config
    source_uri = wf.put(f"code/{MODEL_ID}/sourcedir.tar.gz", sourcedir_tar())
    artifacts = wf.put(f"models/{MODEL_ID}/initial/output/model.tar.gz", archive)
    data_uri = wf.put(f"training-data/{MODEL_ID}/initial/train.csv", csv_text)
    assert source_uri == cfg["training"]["sourceUri"]
    sm = wf.client("sagemaker")
    role = wf.stack.attribute("SageMakerExecutionRole", "Arn")
    sm.create_model(ModelName=CHAMPION_MODEL, ExecutionRoleArn=role, PrimaryContainer={
        "Image": cfg["training"]["imageUri"], "ModelDataUrl": artifacts,
        "Environment": {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": source_uri}})
    sm.create_endpoint_config(
        EndpointConfigName=CHAMPION_MODEL,
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": CHAMPION_MODEL, "InitialInstanceCount": 1,
                             "InstanceType": "ml.m5.large", "InitialVariantWeight": 1.0}],
        DataCaptureConfig={"EnableCapture": True, "InitialSamplingPercentage": 100,
                           "DestinationS3Uri": f"s3://{wf.bucket}/datacapture",
                           "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
                           "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]}})
    sm.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=CHAMPION_MODEL)
    from driftline_common.store import ModelStore

    ModelStore(wf.settings()).put_state(MODEL_ID, {"champion": {
        "modelName": CHAMPION_MODEL, "endpointConfigName": CHAMPION_MODEL, "version": 1,
        "modelArtifacts": artifacts}})
    summary = wf.stack.invoke("DriftCheckerFunction", {"action": "build_baseline", "modelId": MODEL_ID,
                                                        "dataUri": data_uri})
    assert summary["baselineUri"] == cfg["baselineUri"]


@pytest.fixture
def workflow() -> Iterator[Workflow]:
    """The real template deployed offline with a registered model and its champion in service."""
    from driftline_common.aws import reset_clients

    reset_clients()
    with OfflineStack.running(TEMPLATE, parameters={"Stage": "local"},
                              clock=traffic.day_start(0)) as stack:
        events_queue, alerts_queue = _subscribe_queues(stack)
        bucket = stack.resource("DataBucket")
        wf = Workflow(stack=stack, bucket=bucket, events_queue=events_queue, alerts_queue=alerts_queue)
        wf.register(model_config(bucket))
        _install_champion(wf)
        yield wf
    reset_clients()
