"""Drive ``make up`` with the SageMaker Python SDK v2, as a user would (run by tests/clients in its own venv).

Not part of the project's code: it imports only the SDK and boto3 of the clients' virtual environment. Prints one
JSON report on stdout. Arguments: the AWS endpoint URL and the endpoint name.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")

import boto3
import sagemaker
from botocore.config import Config
from botocore.exceptions import ClientError
from sagemaker.model_monitor import DataCaptureConfig
from sagemaker.predictor import Predictor
from sagemaker.s3 import S3Downloader
from sagemaker.serializers import CSVSerializer

URL, ENDPOINT, BUCKET = sys.argv[1], sys.argv[2], sys.argv[3]
ROW = [0.1, -0.2, 0.3, 1.2, -0.5, 1]


def _error(exc: ClientError, started: float) -> dict[str, Any]:
    meta = exc.response.get("ResponseMetadata", {})
    return {"code": exc.response["Error"]["Code"], "status": meta.get("HTTPStatusCode"),
            "retries": meta.get("RetryAttempts", 0), "seconds": round(time.monotonic() - started, 3)}


def main() -> None:
    boto = boto3.Session(region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
    cfg = Config(retries={"mode": "standard"})  # the SDK's own retry behaviour: an HTML 500 would be retried
    sm = boto.client("sagemaker", endpoint_url=URL, config=cfg)
    runtime = boto.client("sagemaker-runtime", endpoint_url=URL, config=cfg)
    session = sagemaker.Session(boto_session=boto, sagemaker_client=sm, sagemaker_runtime_client=runtime,
                                default_bucket=BUCKET)
    session.s3_client = boto.client("s3", endpoint_url=URL)
    session.s3_resource = boto.resource("s3", endpoint_url=URL)
    report: dict[str, Any] = {"sdk": sagemaker.__version__}
    predictor = Predictor(ENDPOINT, sagemaker_session=session, serializer=CSVSerializer())
    report["prediction"] = predictor.predict(ROW).decode()

    new_prefix = f"s3://{BUCKET}/capture-from-sdk-v2"
    before = set(S3Downloader.list(new_prefix, sagemaker_session=session))
    predictor.update_data_capture_config(DataCaptureConfig(
        enable_capture=True, sampling_percentage=20, destination_s3_uri=new_prefix, sagemaker_session=session))
    report["afterUpdate"] = sm.describe_endpoint(EndpointName=ENDPOINT)["DataCaptureConfig"]
    for _ in range(60):
        predictor.predict(ROW)
    files = sorted(set(S3Downloader.list(new_prefix, sagemaker_session=session)) - before)
    lines = [line for f in files for line in S3Downloader.read_file(f, sagemaker_session=session).splitlines()
             if line.strip()]
    records = [json.loads(line) for line in lines]
    report["captured"] = {"files": files, "records": len(records),
                          "inputs": [r["captureData"]["endpointInput"]["data"] for r in records]}
    predictor.disable_data_capture()
    report["afterDisable"] = sm.describe_endpoint(EndpointName=ENDPOINT)["DataCaptureConfig"]
    predictor.enable_data_capture()
    report["afterEnable"] = sm.describe_endpoint(EndpointName=ENDPOINT)["DataCaptureConfig"]

    for name, call in (("endpointContext", predictor.endpoint_context), ("listMonitors", predictor.list_monitors)):
        started = time.monotonic()
        try:
            report[name] = {"value": repr(call())}
        except ClientError as exc:
            report[name] = {"error": _error(exc, started)}
    print("\nDRIVER-REPORT " + json.dumps(report))  # after the SDK's own output (progress dots, notices)


if __name__ == "__main__":
    main()
