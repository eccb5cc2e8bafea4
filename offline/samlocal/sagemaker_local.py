"""Local SageMaker: script-mode training, endpoints that serve the model, Data Capture.

Training (``CreateTrainingJob``, patched into moto's backend) runs synchronously:

- script mode only: the job's ``HyperParameters`` carry ``sagemaker_program`` (entry point) and
  ``sagemaker_submit_directory`` (``s3://…/sourcedir.tar.gz``, or a local directory / ``file://``), as
  the SageMaker Python SDK sets them (JSON-encoded values are decoded, as the training toolkit does);
- the source and every ``S3Prefix`` input channel are downloaded into an ``/opt/ml``-like temporary
  tree; the entry point runs as ``python <entry> --name value …`` (user hyperparameters only) with
  the ``SM_*`` environment (``SM_MODEL_DIR``, ``SM_CHANNELS``, ``SM_CHANNEL_<NAME>``, ``SM_HPS``,
  ``SM_HP_<NAME>``, ``SM_OUTPUT_DATA_DIR``, ``SM_OUTPUT_DIR``, ``SM_INPUT_DIR``, ``SM_TRAINING_ENV``…);
- success: the model directory is tarred to ``<S3OutputPath>/<job>/output/model.tar.gz`` (and the
  output data directory, if not empty, to ``output.tar.gz``), status ``Completed``, ``ModelArtifacts``
  set, ``FinalMetricDataList`` from the job's ``MetricDefinitions`` regexes over the script's output;
- failure: status ``Failed`` with ``FailureReason`` ``AlgorithmError: <content of
  /opt/ml/output/failure, or the tail of stderr>``.

Endpoints: ``CreateModel`` / ``CreateEndpointConfig`` / ``CreateEndpoint`` are moto's.
``UpdateEndpoint`` (missing from moto) switches the endpoint to the new config, records the
``DeploymentConfig``; if an alarm named in ``AutoRollbackConfiguration.Alarms`` is in ``ALARM`` in
CloudWatch at switch time, the update is rolled back: the endpoint stays ``InService`` on the old
config with a ``FailureReason``. (Alarms are only checked at switch time: there is no baking period
offline.) ``InvokeEndpoint`` loads ``model.tar.gz`` and the inference script (``SAGEMAKER_PROGRAM`` from
``SAGEMAKER_SUBMIT_DIRECTORY``, or ``code/`` inside the model archive) and calls ``model_fn`` /
``input_fn`` / ``predict_fn`` / ``output_fn`` (defaults for JSON, CSV and NPY when a function is absent).

Data Capture (when the served config enables it) writes SageMaker's JSON Lines records
(``captureData.endpointInput/endpointOutput`` with ``observedContentType``, ``mode``, ``data``,
``encoding``; ``eventMetadata`` with ``eventId``, ``inferenceId`` if given, ``inferenceTime`` from the
simulated clock; ``eventVersion`` ``"0"``) under
``{DestinationS3Uri}/{EndpointName}/{VariantName}/yyyy/mm/dd/hh/<mm-ss-mmm>-<uuid>.jsonl`` (the time of the
object's first record): records are appended to the open object of their destination, endpoint, variant and hour,
which rolls over to a new object after 1 MB (:data:`CAPTURE_OBJECT_BYTES`); a new hour or a new destination (an
update to a config that captures elsewhere) starts a new object, and earlier objects are never rewritten.
Content types listed in ``CaptureContentTypeHeader.CsvContentTypes``
/ ``JsonContentTypes`` are captured as ``CSV`` / ``JSON`` text, anything else ``BASE64`` (the API's rule).
``InitialSamplingPercentage`` is honoured deterministically.

Every invocation publishes SageMaker's ``AWS/SageMaker`` metrics into moto's CloudWatch at the simulated time
(dimensions ``EndpointName``, ``VariantName``): ``Invocations``, ``Invocation4XXErrors``,
``Invocation5XXErrors`` (counted errors: a model that raised), ``ModelLatency`` (measured) and
``OverheadLatency``, microseconds.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

__all__ = ["LocalSageMaker"]

_SM_PREFIX_KEYS = ("sagemaker_",)
#: bytes of captured records per Data Capture object before a new object is started
CAPTURE_OBJECT_BYTES = 1 << 20


def _split_s3(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise ValueError(f"not an S3 URI: {uri!r}")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def _decode_hp(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _hp_arg(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _safe_extract(archive: bytes, dest: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:*") as tar:
        tar.extractall(dest, filter="data")


def _tar_dir(src: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path in sorted(src.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(src)), recursive=False)
    return buf.getvalue()


class TrainingFailed(Exception):
    """Raised inside :meth:`LocalSageMaker.run_training` to mark the job ``Failed``."""


@dataclass
class _LoadedModel:
    model: Any
    module: Any
    model_dir: Path


class LocalSageMaker:
    """The local SageMaker of one offline runtime."""

    def __init__(self, runtime: Any) -> None:
        """``runtime``: the owning runtime (its ``clock``, ``account_id`` and ``region`` are used)."""
        self.rt = runtime
        self.training_logs: dict[str, str] = {}
        self.deployments: list[dict[str, Any]] = []
        self.invocations: list[dict[str, Any]] = []
        self._models: dict[tuple[str, str, str], _LoadedModel] = {}
        #: the open capture object per (destination, endpoint, variant, hour): (S3 URI, its lines, its bytes)
        self._capture_files: dict[tuple[str, str, str, str], tuple[str, list[str], int]] = {}
        #: a capture object rolls over to a new one once it holds this many bytes
        self.capture_object_bytes = CAPTURE_OBJECT_BYTES
        self._sampling: dict[tuple[str, str], float] = {}
        self._lock = threading.RLock()
        self._workdir = Path(tempfile.mkdtemp(prefix="samlocal-sm-"))

    def close(self) -> None:
        shutil.rmtree(self._workdir, ignore_errors=True)

    # -- S3 through moto's backend (we run inside moto's request handling) -----------------------
    def _s3(self) -> Any:
        from moto.s3.models import s3_backends

        return s3_backends[self.rt.account_id]["aws"]

    def get_bytes(self, uri: str) -> bytes:
        bucket, key = _split_s3(uri)
        obj = self._s3().get_object(bucket, key)
        if obj is None:
            raise FileNotFoundError(f"{uri} does not exist")
        return bytes(obj.value)

    def put_bytes(self, uri: str, data: bytes) -> None:
        bucket, key = _split_s3(uri)
        self._s3().put_object(bucket, key, data)

    def list_keys(self, uri: str) -> list[str]:
        bucket_name, prefix = _split_s3(uri)
        bucket = self._s3().get_bucket(bucket_name)
        return sorted(k for k in list(bucket.keys.keys()) if k.startswith(prefix))

    def _fetch_source(self, location: str, dest: Path) -> None:
        dest.mkdir(parents=True, exist_ok=True)
        if location.startswith("s3://"):
            _safe_extract(self.get_bytes(location), dest)
            return
        path = Path(location.removeprefix("file://"))
        if path.is_dir():
            shutil.copytree(path, dest, dirs_exist_ok=True)
        elif path.is_file():
            _safe_extract(path.read_bytes(), dest)
        else:
            raise FileNotFoundError(f"source directory {location!r} not found")

    # -- training --------------------------------------------------------------------------------
    def run_training(self, job: Any) -> None:
        """Run a (moto) training job in script mode and set its final status."""
        now = self.rt.clock.now()
        job.creation_time = job.training_start_time = job.last_modified_time = now
        job.training_job_status, job.secondary_status = "InProgress", "Training"
        log = ""
        try:
            log, metrics = self._train(job)
        except TrainingFailed as exc:
            job.training_job_status, job.secondary_status = "Failed", "Failed"
            job.failure_reason = f"AlgorithmError: {exc}"
            job.model_artifacts = None
            job.final_metric_data_list = []
            log = getattr(exc, "log", "")
        else:
            job.training_job_status, job.secondary_status = "Completed", "Completed"
            job.final_metric_data_list = metrics
        end = self.rt.clock.now()
        job.training_end_time = job.last_modified_time = end
        job.training_time_in_seconds = job.billable_time_in_seconds = max(1, int((end - now).total_seconds()))
        job.secondary_status_transitions = [
            {"Status": "Starting", "StartTime": now, "EndTime": now, "StatusMessage": "offline"},
            {"Status": job.secondary_status, "StartTime": now, "EndTime": end, "StatusMessage": "offline"},
        ]
        self.training_logs[job.training_job_name] = log

    def _train(self, job: Any) -> tuple[str, list[dict[str, Any]]]:
        raw_hps: dict[str, str] = dict(job.hyper_parameters or {})
        hps = {k: _decode_hp(v) for k, v in raw_hps.items()}
        program = hps.get("sagemaker_program")
        submit = hps.get("sagemaker_submit_directory")
        if not program or not submit:
            raise TrainingFailed(
                "the offline runtime runs script mode only: HyperParameters need 'sagemaker_program' "
                "and 'sagemaker_submit_directory' (as the SageMaker Python SDK sets them)"
            )
        user_hps = {k: v for k, v in hps.items() if not k.startswith(_SM_PREFIX_KEYS)}
        with tempfile.TemporaryDirectory(prefix="sm-train-", dir=self._workdir) as tmp:
            ml = Path(tmp) / "opt" / "ml"
            code, model_dir = ml / "code", ml / "model"
            input_dir, output_dir = ml / "input", ml / "output"
            data_out = output_dir / "data"
            for d in (model_dir, data_out, input_dir / "config"):
                d.mkdir(parents=True, exist_ok=True)
            try:
                self._fetch_source(str(submit), code)
            except (FileNotFoundError, ValueError, tarfile.TarError) as exc:
                raise TrainingFailed(f"cannot fetch source directory {submit!r}: {exc}") from exc
            if not (code / str(program)).is_file():
                raise TrainingFailed(f"entry point {program!r} not found in {submit!r}")
            channels: dict[str, str] = {}
            for channel in job.input_data_config or []:
                name = channel["ChannelName"]
                src = channel.get("DataSource", {}).get("S3DataSource", {})
                if src.get("S3DataType", "S3Prefix") != "S3Prefix":
                    raise TrainingFailed(f"channel {name!r}: only S3Prefix data sources are supported offline")
                uri = src["S3Uri"]
                dest = input_dir / "data" / name
                dest.mkdir(parents=True, exist_ok=True)
                bucket, prefix = _split_s3(uri)
                keys = self.list_keys(uri)
                if not keys:
                    raise TrainingFailed(f"channel {name!r}: no objects under {uri}")
                base = prefix if prefix.endswith("/") or not prefix else prefix.rsplit("/", 1)[0] + "/"
                for key in keys:
                    rel = key[len(base):] if key.startswith(base) else key.rsplit("/", 1)[-1]
                    target = dest / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(self.get_bytes(f"s3://{bucket}/{key}"))
                channels[name] = str(dest)
            (input_dir / "config" / "hyperparameters.json").write_text(json.dumps(raw_hps))
            (input_dir / "config" / "inputdataconfig.json").write_text(
                json.dumps({c["ChannelName"]: {"TrainingInputMode": "File"} for c in job.input_data_config or []})
            )
            (input_dir / "config" / "resourceconfig.json").write_text(
                json.dumps({"current_host": "algo-1", "hosts": ["algo-1"]})
            )
            env = self._training_env(job, program, submit, user_hps, channels, ml)
            args = [sys.executable, str(program)]
            for k, v in user_hps.items():
                args += [f"--{k}", _hp_arg(v)]
            timeout = float((job.stopping_condition or {}).get("MaxRuntimeInSeconds", 86400))
            try:
                proc = subprocess.run(
                    args, cwd=code, env=env, capture_output=True, text=True, timeout=min(timeout, 3600), check=False
                )
            except subprocess.TimeoutExpired as exc:
                raise TrainingFailed(f"training exceeded MaxRuntimeInSeconds ({timeout:g} s)") from exc
            log = proc.stdout + proc.stderr
            if proc.returncode != 0:
                failure_file = output_dir / "failure"
                reason = failure_file.read_text().strip() if failure_file.is_file() else ""
                if not reason:
                    tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
                    reason = f"ExecuteUserScriptError: ExitCode {proc.returncode}: {tail}"
                err = TrainingFailed(reason[:1024])
                err.log = log  # type: ignore[attr-defined]
                raise err
            out_root = job.output_data_config["S3OutputPath"].rstrip("/")
            model_uri = f"{out_root}/{job.training_job_name}/output/model.tar.gz"
            self.put_bytes(model_uri, _tar_dir(model_dir))
            job.model_artifacts = {"S3ModelArtifacts": model_uri}
            if any(data_out.iterdir()):
                self.put_bytes(f"{out_root}/{job.training_job_name}/output/output.tar.gz", _tar_dir(data_out))
            return log, self._metrics(job, log)

    def _training_env(
        self,
        job: Any,
        program: str,
        submit: str,
        user_hps: dict[str, Any],
        channels: dict[str, str],
        ml: Path,
    ) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SM_", "AWS_LAMBDA_"))}
        code = str(ml / "code")
        env["PYTHONPATH"] = os.pathsep.join([code, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        training_env = {
            "job_name": job.training_job_name,
            "user_entry_point": program,
            "module_name": Path(program).stem,
            "module_dir": submit,
            "hyperparameters": user_hps,
            "channel_input_dirs": channels,
            "model_dir": str(ml / "model"),
            "output_data_dir": str(ml / "output" / "data"),
            "output_dir": str(ml / "output"),
            "input_dir": str(ml / "input"),
            "input_config_dir": str(ml / "input" / "config"),
            "current_host": "algo-1",
            "hosts": ["algo-1"],
            "num_cpus": os.cpu_count() or 1,
            "num_gpus": 0,
        }
        env.update(
            {
                "SM_MODEL_DIR": str(ml / "model"),
                "SM_OUTPUT_DATA_DIR": str(ml / "output" / "data"),
                "SM_OUTPUT_DIR": str(ml / "output"),
                "SM_OUTPUT_INTERMEDIATE_DIR": str(ml / "output" / "intermediate"),
                "SM_INPUT_DIR": str(ml / "input"),
                "SM_INPUT_CONFIG_DIR": str(ml / "input" / "config"),
                "SM_OUTPUT_FAILURE": str(ml / "output" / "failure"),
                "SM_CHANNELS": json.dumps(sorted(channels)),
                "SM_HPS": json.dumps(user_hps),
                "SM_USER_ENTRY_POINT": program,
                "SM_MODULE_NAME": Path(program).stem,
                "SM_MODULE_DIR": submit,
                "SM_CURRENT_HOST": "algo-1",
                "SM_HOSTS": json.dumps(["algo-1"]),
                "SM_NUM_CPUS": str(os.cpu_count() or 1),
                "SM_NUM_GPUS": "0",
                "SM_TRAINING_ENV": json.dumps(training_env),
                "TRAINING_JOB_NAME": job.training_job_name,
            }
        )
        for name, path in channels.items():
            env[f"SM_CHANNEL_{name.upper()}"] = path
        for k, v in user_hps.items():
            env[f"SM_HP_{k.upper().replace('-', '_')}"] = _hp_arg(v)
        return env

    def _metrics(self, job: Any, log: str) -> list[dict[str, Any]]:
        out = []
        for definition in (job.algorithm_specification or {}).get("MetricDefinitions") or []:
            matches = re.findall(definition["Regex"], log)
            if matches:
                value = matches[-1] if isinstance(matches[-1], str) else matches[-1][0]
                try:
                    out.append(
                        {"MetricName": definition["Name"], "Value": float(value), "Timestamp": self.rt.clock.now()}
                    )
                except ValueError:
                    continue
        return out

    # -- endpoints ------------------------------------------------------------------------------
    def update_endpoint(self, backend: Any, endpoint: Any, config_name: str, deployment_config: Any) -> None:
        """Switch ``endpoint`` to ``config_name`` unless a rollback alarm is in ALARM."""
        from moto.cloudwatch.models import cloudwatch_backends

        if config_name not in backend.endpoint_configs:
            from moto.sagemaker.exceptions import ValidationError

            raise ValidationError(message=f"Could not find endpoint configuration '{config_name}'.")
        alarms = [
            a.get("AlarmName")
            for a in ((deployment_config or {}).get("AutoRollbackConfiguration") or {}).get("Alarms") or []
        ]
        cw = cloudwatch_backends[self.rt.account_id][self.rt.region]
        firing = sorted(name for name in alarms if name in cw.alarms and cw.alarms[name].state_value == "ALARM")
        old = endpoint.endpoint_config_name
        record = {
            "endpoint": endpoint.endpoint_name,
            "from": old,
            "to": config_name,
            "deployment_config": deployment_config,
            "time": self.rt.clock.now(),
        }
        endpoint.last_modified_time = self.rt.clock.now()
        if deployment_config is not None:
            endpoint.last_deployment_config = deployment_config
        if firing:
            endpoint.endpoint_status = "InService"
            endpoint.failure_reason = (
                f"Update rolled back: alarm(s) {', '.join(firing)} in ALARM state during deployment; "
                f"the endpoint stays on {old}"
            )
            record["status"] = "RolledBack"
        else:
            config = backend.endpoint_configs[config_name]
            endpoint.endpoint_config_name = config_name
            endpoint.production_variants = endpoint._process_production_variants(config.production_variants)
            endpoint.data_capture_config = config.data_capture_config
            endpoint.endpoint_status = "InService"
            endpoint.failure_reason = None
            record["status"] = "Switched"
        with self._lock:
            self.deployments.append(record)

    def invoke_endpoint(
        self,
        endpoint_name: str,
        body: bytes,
        *,
        content_type: str | None,
        accept: str | None,
        inference_id: str | None = None,
        target_variant: str | None = None,
    ) -> tuple[bytes, str, str]:
        """Serve one request: ``(response body, content type, invoked variant)``."""
        from moto.sagemaker.models import sagemaker_backends

        backend = sagemaker_backends[self.rt.account_id][self.rt.region]
        if endpoint_name not in backend.endpoints:
            raise LookupError(f"Endpoint {endpoint_name} not found.")
        endpoint = backend.endpoints[endpoint_name]
        config = backend.endpoint_configs[endpoint.endpoint_config_name]
        variant = self._pick_variant(config.production_variants, target_variant)
        model = backend._models[variant["ModelName"]]
        content_type = content_type or "application/octet-stream"
        accept = accept if accept and accept != "*/*" else content_type
        with self._lock:
            started = time.perf_counter()
            model_seconds, failed = 0.0, True
            try:
                loaded = self._load(config.endpoint_config_name, variant["VariantName"], model)
                module = loaded.module
                input_fn = getattr(module, "input_fn", _default_input)
                predict_fn = getattr(module, "predict_fn", _default_predict)
                output_fn = getattr(module, "output_fn", _default_output)
                model_started = time.perf_counter()
                data = input_fn(body, content_type)
                prediction = predict_fn(data, loaded.model)
                out = output_fn(prediction, accept)
                model_seconds = time.perf_counter() - model_started
                out_type = accept
                if isinstance(out, tuple):
                    out, out_type = out[0], out[1]
                out_bytes = out.encode() if isinstance(out, str) else bytes(out)
                self._capture(
                    endpoint, config, variant["VariantName"], body, content_type, out_bytes, out_type, inference_id
                )
                failed = False
            finally:
                self._publish_invocation_metrics(endpoint_name, variant["VariantName"], failed=failed,
                                                 model_seconds=model_seconds,
                                                 total_seconds=time.perf_counter() - started)
            self.invocations.append({"endpoint": endpoint_name, "variant": variant["VariantName"]})
        return out_bytes, out_type, variant["VariantName"]

    def _publish_invocation_metrics(self, endpoint_name: str, variant: str, *, failed: bool, model_seconds: float,
                                    total_seconds: float) -> None:
        """SageMaker's per-invocation ``AWS/SageMaker`` metrics, into moto's CloudWatch at the simulated time:
        ``Invocations``, ``Invocation4XXErrors``, ``Invocation5XXErrors`` (a model that raised: the container's
        500), ``ModelLatency`` (the measured input/predict/output time, microseconds; not for a failed call) and
        ``OverheadLatency`` (the rest of the request)."""
        from moto.cloudwatch.models import cloudwatch_backends

        dims = [{"Name": "EndpointName", "Value": endpoint_name}, {"Name": "VariantName", "Value": variant}]
        when = self.rt.clock.now().astimezone(UTC).replace(tzinfo=None)  # moto keeps naive UTC datapoint times
        data: list[dict[str, Any]] = [
            {"MetricName": "Invocations", "Value": 1.0, "Unit": "None"},
            {"MetricName": "Invocation4XXErrors", "Value": 0.0, "Unit": "None"},
            {"MetricName": "Invocation5XXErrors", "Value": 1.0 if failed else 0.0, "Unit": "None"},
            {"MetricName": "OverheadLatency", "Value": max(0.0, total_seconds - model_seconds) * 1e6,
             "Unit": "Microseconds"},
        ]
        if not failed:
            data.append({"MetricName": "ModelLatency", "Value": model_seconds * 1e6, "Unit": "Microseconds"})
        cloudwatch_backends[self.rt.account_id][self.rt.region].put_metric_data(
            "AWS/SageMaker", [{**d, "Dimensions": dims, "Timestamp": when} for d in data])

    def _pick_variant(self, variants: list[dict[str, Any]], target: str | None) -> dict[str, Any]:
        if target:
            for v in variants:
                if v["VariantName"] == target:
                    return v
            raise LookupError(f"TargetVariant {target} not found")
        if len(variants) == 1:
            return variants[0]
        weights = [float(v.get("InitialVariantWeight", 1.0)) for v in variants]
        key = ("variant-pick", ",".join(v["VariantName"] for v in variants))
        acc = self._sampling.get(key, 0.0) + 1.0
        self._sampling[key] = acc
        # deterministic weighted round robin
        total = sum(weights)
        position = (acc * 0.6180339887498949) % 1.0 * total
        for v, w in zip(variants, weights, strict=True):
            if position < w:
                return v
            position -= w
        return variants[-1]

    def _load(self, config_name: str, variant_name: str, model: Any) -> _LoadedModel:
        container = model.primary_container or (model.containers[0] if model.containers else {})
        if container.get("ModelPackageName"):  # a model created from a registry version serves its container
            from .sagemaker_packages import package_container

            container = {**package_container(container["ModelPackageName"]), **container}
        data_url = container.get("ModelDataUrl")
        key = (config_name, variant_name, f"{model.model_name}|{data_url}")
        if key in self._models:
            return self._models[key]
        env = container.get("Environment") or {}
        root = self._workdir / f"model-{uuid.uuid4().hex[:8]}"
        model_dir, code_dir = root / "model", root / "code"
        model_dir.mkdir(parents=True)
        if data_url:
            _safe_extract(self.get_bytes(data_url), model_dir)
        submit = env.get("SAGEMAKER_SUBMIT_DIRECTORY")
        if submit and submit != "/opt/ml/model/code":
            self._fetch_source(submit, code_dir)
        else:
            code_dir = model_dir / "code"
        program = env.get("SAGEMAKER_PROGRAM", "inference.py")
        script = code_dir / program
        if not script.is_file():
            raise FileNotFoundError(f"inference script {program!r} not found for model {model.model_name}")
        spec = importlib.util.spec_from_file_location(f"_driftline_inference_{uuid.uuid4().hex}", script)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load inference script {script}")
        module = importlib.util.module_from_spec(spec)
        sys.path.insert(0, str(code_dir))
        try:
            spec.loader.exec_module(module)
        finally:
            sys.path.remove(str(code_dir))
        loaded_model = module.model_fn(str(model_dir)) if hasattr(module, "model_fn") else None
        loaded = _LoadedModel(model=loaded_model, module=module, model_dir=model_dir)
        self._models[key] = loaded
        return loaded

    def _capture(
        self,
        endpoint: Any,
        config: Any,
        variant: str,
        body: bytes,
        content_type: str,
        out: bytes,
        out_type: str,
        inference_id: str | None,
    ) -> None:
        dcc = endpoint.data_capture_config or {}
        if not dcc or not dcc.get("EnableCapture", True) or not dcc.get("DestinationS3Uri"):
            return
        pct = float(dcc.get("InitialSamplingPercentage", 100))
        skey = (endpoint.endpoint_name, variant)
        acc = self._sampling.get(skey, 0.0) + pct / 100.0
        if acc < 1.0 - 1e-12:
            self._sampling[skey] = acc
            return
        self._sampling[skey] = acc - 1.0
        options = dcc.get("CaptureOptions") or [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]
        modes = {o.get("CaptureMode") for o in options}
        header = dcc.get("CaptureContentTypeHeader") or {}
        capture: dict[str, Any] = {}
        if "Input" in modes:
            capture["endpointInput"] = _capture_block(body, content_type, "INPUT", header)
        if "Output" in modes:
            capture["endpointOutput"] = _capture_block(out, out_type, "OUTPUT", header)
        t = self.rt.clock.now()
        meta: dict[str, Any] = {"eventId": str(uuid.uuid4())}
        if inference_id:
            meta["inferenceId"] = inference_id
        meta["inferenceTime"] = t.strftime("%Y-%m-%dT%H:%M:%SZ")
        line = json.dumps({"captureData": capture, "eventMetadata": meta, "eventVersion": "0"}, separators=(",", ":"))
        self._write_capture(dcc["DestinationS3Uri"].rstrip("/"), endpoint.endpoint_name, variant, t, line)

    def _write_capture(self, dest: str, endpoint: str, variant: str, t: Any, line: str) -> None:
        """Append ``line`` to the open capture object of (destination, endpoint, variant, hour), rolling to a new
        object once it holds :attr:`capture_object_bytes`: an object, once rolled, is never written again.

        The key includes the destination: after an update to a config capturing elsewhere, records go to the new
        destination at once, and the old destination's objects stay as they were.
        """
        hour = t.strftime("%Y/%m/%d/%H")
        fkey = (dest, endpoint, variant, hour)
        current = self._capture_files.get(fkey)
        if current is None or current[2] >= self.capture_object_bytes:
            # a new hour, a new destination or a full object starts a new object: the others are complete in S3
            for old in [k for k in self._capture_files if k[1:3] == (endpoint, variant)]:
                del self._capture_files[old]
            name = f"{t.strftime('%M-%S')}-{t.microsecond // 1000:03d}-{uuid.uuid4()}.jsonl"
            current = (f"{dest}/{endpoint}/{variant}/{hour}/{name}", [], 0)
        uri, lines, size = current
        lines.append(line)
        self._capture_files[fkey] = (uri, lines, size + len(line) + 1)
        self.put_bytes(uri, ("\n".join(lines) + "\n").encode())


def _capture_block(data: bytes, content_type: str, mode: str, header: dict[str, Any]) -> dict[str, Any]:
    base = content_type.split(";")[0].strip().lower()
    csv_types = [c.lower() for c in header.get("CsvContentTypes") or []]
    json_types = [c.lower() for c in header.get("JsonContentTypes") or []]
    if base in csv_types:
        encoding, text = "CSV", data.decode("utf-8")
    elif base in json_types:
        encoding, text = "JSON", data.decode("utf-8")
    else:
        encoding, text = "BASE64", base64.b64encode(data).decode()
    return {"observedContentType": content_type, "mode": mode, "data": text, "encoding": encoding}


def _default_input(body: bytes, content_type: str) -> Any:
    import numpy as np

    base = content_type.split(";")[0].strip().lower()
    if base == "application/json":
        return np.asarray(json.loads(body))
    if base == "text/csv":
        rows = [r for r in body.decode().strip().splitlines() if r.strip()]
        return np.array([[float(x) for x in r.split(",")] for r in rows])
    if base == "application/x-npy":
        return np.load(io.BytesIO(body), allow_pickle=False)
    raise ValueError(f"unsupported content type {content_type!r} (no input_fn)")


def _default_predict(data: Any, model: Any) -> Any:
    if hasattr(model, "predict"):
        return model.predict(data)
    if callable(model):
        return model(data)
    raise ValueError("the model has no predict() and is not callable (no predict_fn)")


def _default_output(prediction: Any, accept: str) -> tuple[bytes, str]:
    import numpy as np

    base = accept.split(";")[0].strip().lower()
    arr = np.asarray(prediction)
    if base == "text/csv":
        rows = arr.reshape(len(arr), -1) if arr.ndim else arr.reshape(1, 1)
        return ("\n".join(",".join(repr(float(x)) for x in r) for r in rows)).encode(), accept
    if base == "application/x-npy":
        buf = io.BytesIO()
        np.save(buf, arr)
        return buf.getvalue(), accept
    return json.dumps(arr.tolist()).encode(), "application/json"
