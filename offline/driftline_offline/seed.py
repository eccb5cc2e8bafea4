"""``make up``'s example model: ``example-classifier`` registered with a baseline, its champion served by a local
SageMaker endpoint, and one day of captured traffic and ground truth ending at the current hour."""

from __future__ import annotations

import copy
import io
import json
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = ["EXAMPLE_MODEL", "REPO_ROOT", "ExampleSeed", "example_config", "seed_example"]

REPO_ROOT = Path(__file__).resolve().parents[2]
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
    bucket: str | None = None,
) -> ExampleSeed:
    """Register ``example-classifier`` with a baseline and one day of captured traffic and ground truth.

    The champion is the example's logistic regression (``driftline_examples.classifier.train``) fitted on a
    training set from the traffic generator, served by the config's endpoint (local SageMaker, Data Capture on)
    and recorded as the model's champion. The day of traffic (stable scenario) covers the 24 hours ending at
    ``now`` floored to the hour -- the window a ``Run Requested`` event at ``now`` evaluates -- written as the
    endpoint's Data Capture would have written it, with its ground truth hour by hour. The config is validated
    and stored with the common layer's ``ModelStore``; the baseline is built by the drift checker's
    ``build_baseline`` action (invoked in-process like any function). ``bucket``: where the model's data lives
    (default the stack's ``DataBucket``; another bucket must exist and be in the stack's ``AllowedDataBuckets``).
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
    bucket = bucket or stack.resource("DataBucket")
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
