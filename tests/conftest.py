"""Shared fixtures: moto with fake credentials, and the stack's resources with the template's schemas.

Handler tests use ``stack_env``: a bucket, the three tables, the event bus and the topic, created with the same
key schemas as ``template.yaml`` (tests/template checks that they agree), and the functions' environment set.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
REGION = "us-east-1"


def load_event(name: str) -> dict[str, Any]:
    """Read a canonical event from events/ (the same files `sam local invoke -e` takes)."""
    return json.loads((EVENTS / name).read_text())


#: the modules that run whole pipeline executions (or other multi-second paths), most expensive first: summed
#: setup + call seconds from ``pytest --durations`` (load ~11, 2 workers). ``pytest_collection_modifyitems`` runs
#: them first so that pytest-xdist's ``worksteal`` (which hands out tests in collection order and steals from the
#: end of a worker's queue) ends the run on short tests instead of a 50 s pipeline test started last
EXPENSIVE_FIRST = (
    "tests/workflow/test_pipeline_numbers.py",
    "tests/workflow/test_pipeline_paths.py",
    "tests/workflow/test_pipeline_more_paths.py",
    "tests/workflow/test_pipeline_decisions.py",
    "tests/workflow/test_demo_smoke.py",
    "tests/workflow/test_pipeline_sharded.py",
    "tests/cli/test_quickstart.py",
    "tests/cli/test_backtest_replay.py",
    "tests/workflow/test_pipeline_report.py",
    "tests/workflow/test_iam_enforced.py",
    "tests/workflow/test_pipeline_no_data.py",
    "tests/unit/test_numbers.py",
    "tests/fuzz/test_handlers_fuzz.py",
    "tests/server/test_server.py",
    "tests/peer/test_peer_suites.py",
    "tests/report/test_up_dashboard.py",
    "tests/workflow/test_monitor_path.py",
)


def _share_botocore_loader() -> None:
    """Every botocore session of the test process reads the service models through one loader.

    moto's ``mock_aws`` replaces ``boto3.DEFAULT_SESSION`` on every start, so each test's ``boto3.client`` call
    made a new session whose new loader parsed botocore's JSON models again (~50 JSON files a handler test,
    ~0.15 CPU-s); moto and the offline runtime do the same. The loader only reads and caches immutable files:
    sharing it is what ``driftline_common.aws`` already does in the functions. boto3 appends its resource-model
    directory to a session's loader: once per loader here, not once per session.
    """
    import boto3.session
    import botocore.session
    from botocore.loaders import Loader, create_loader

    loaders: dict[str | None, Loader] = {}

    def shared_loader(search_path_string: str | None = None) -> Loader:
        if search_path_string not in loaders:
            loaders[search_path_string] = create_loader(search_path_string)
        return loaders[search_path_string]

    def setup_loader(self: boto3.session.Session) -> None:
        self._loader = self._session.get_component("data_loader")
        path = os.path.join(os.path.dirname(boto3.session.__file__), "data")
        if path not in self._loader.search_paths:
            self._loader.search_paths.append(path)

    botocore.session.create_loader = shared_loader  # type: ignore[attr-defined]
    boto3.session.Session._setup_loader = setup_loader  # type: ignore[method-assign]


def pytest_configure(config: pytest.Config) -> None:
    _share_botocore_loader()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Expensive modules first (:data:`EXPENSIVE_FIRST`), each module's tests kept together and in order."""
    rank = {path: i for i, path in enumerate(EXPENSIVE_FIRST)}

    def key(item: pytest.Item) -> int:
        return rank.get(item.nodeid.split("::", 1)[0], len(rank))

    items.sort(key=key)  # stable: the rest keeps pytest's collection order


@pytest.fixture(autouse=True)
def _fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Driftline")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_DEV", "false")


@pytest.fixture
def stack_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """moto with the stack's resources and the functions' environment variables."""
    from driftline_common.aws import reset_clients

    reset_clients()
    with mock_aws():
        names = {
            "DRIFTLINE_BUCKET": "driftline-test-data",
            "MODELS_TABLE": "driftline-test-models",
            "RUNS_TABLE": "driftline-test-runs",
            "LOCKS_TABLE": "driftline-test-locks",
            "EVENT_BUS_NAME": "driftline-test",
            "STAGE": "dev",
            "EVENT_SOURCE": "driftline",
            "SAGEMAKER_ROLE_ARN": "arn:aws:iam::123456789012:role/driftline-test-sagemaker",
        }
        create_stack_resources(names)
        topic = _client("sns").create_topic(Name="driftline-test-alerts")["TopicArn"]
        names["ALERTS_TOPIC_ARN"] = topic
        for k, v in names.items():
            monkeypatch.setenv(k, v)
        yield names
    reset_clients()


#: the set-up's own clients, made once per process (~20 ms each with coverage): moto intercepts every botocore
#: client while a mock is active, whenever it was made (``OfflineStack.client`` caches its clients the same way)
_CLIENTS: dict[str, Any] = {}


def _client(service: str) -> Any:
    if service not in _CLIENTS:
        _CLIENTS[service] = boto3.client(service, region_name=REGION)  # type: ignore[call-overload]
    return _CLIENTS[service]


def create_stack_resources(names: dict[str, str]) -> None:
    s3 = _client("s3")
    s3.create_bucket(Bucket=names["DRIFTLINE_BUCKET"])
    ddb = _client("dynamodb")
    ddb.create_table(
        TableName=names["MODELS_TABLE"],
        KeySchema=[{"AttributeName": "modelId", "KeyType": "HASH"}, {"AttributeName": "kind", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "modelId", "AttributeType": "S"},
            {"AttributeName": "kind", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.create_table(
        TableName=names["RUNS_TABLE"],
        KeySchema=[{"AttributeName": "modelId", "KeyType": "HASH"}, {"AttributeName": "runId", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "modelId", "AttributeType": "S"},
            {"AttributeName": "runId", "AttributeType": "S"},
            {"AttributeName": "startedAt", "AttributeType": "S"},
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "byStartedAt",
                "KeySchema": [
                    {"AttributeName": "modelId", "KeyType": "HASH"},
                    {"AttributeName": "startedAt", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.create_table(
        TableName=names["LOCKS_TABLE"],
        KeySchema=[{"AttributeName": "lockId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "lockId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    _client("events").create_event_bus(Name=names["EVENT_BUS_NAME"])
