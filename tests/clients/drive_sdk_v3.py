"""Drive ``make up`` with the SageMaker Python SDK v3's resources (``sagemaker.core``, the ``sagemaker-core`` 2.x
distribution SDK v3 is built on), as a user would.

Run by tests/clients in its own virtual environment; imports only the SDK. The endpoint URL comes from
``AWS_ENDPOINT_URL`` (botocore's standard setting), as a user points any AWS client at a local stack. Prints one
JSON report on stdout. Argument: the endpoint name.
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import version
from typing import Any

import boto3
from sagemaker.core.resources import Endpoint

ENDPOINT = sys.argv[1]


def main() -> None:
    session = boto3.Session(region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
    endpoint = Endpoint.get(endpoint_name=ENDPOINT, session=session, region="us-east-1")
    capture = endpoint.data_capture_config
    report: dict[str, Any] = {
        "sdk": version("sagemaker-core"), "name": endpoint.endpoint_name, "status": endpoint.endpoint_status,
        "capture": {"status": capture.capture_status, "sampling": capture.current_sampling_percentage,
                    "destination": capture.destination_s3_uri},
        "variants": [v.variant_name for v in endpoint.production_variants],
    }
    answer = endpoint.invoke(body="0.1,-0.2,0.3,1.2,-0.5,1", content_type="text/csv", accept="text/csv")
    report["prediction"] = answer.body.read().decode()
    print("\nDRIVER-REPORT " + json.dumps(report))  # after the SDK's own output (progress dots, notices)


if __name__ == "__main__":
    main()
