"""Stores against moto: conditional writes give locks, idempotency and config versions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from driftline_common.config import parse_config
from driftline_common.errors import ConfigurationError, InvalidModelConfig, ModelNotFound, RetrainInProgress
from driftline_common.settings import Settings, get_settings
from driftline_common.store import LockStore, ModelStore, RunStore, from_ddb, to_ddb

from tests.conftest import ROOT

CONFIG = json.loads((ROOT / "tests" / "fixtures" / "model_config_binary.json").read_text())
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def test_settings_name_missing_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match=r"DRIFTLINE_BUCKET.*EVENT_BUS_NAME"):
        Settings.from_env({"MODELS_TABLE": "m", "RUNS_TABLE": "r", "LOCKS_TABLE": "l"})


def test_ddb_conversion_round_trips_and_drops_nan() -> None:
    value = {"a": 1.5, "b": [1, 2.25], "c": float("nan"), "d": "x", "e": True}
    back = from_ddb(to_ddb(value))
    assert back == {"a": 1.5, "b": [1, 2.25], "c": None, "d": "x", "e": True}


def test_config_versions_and_validation_on_read(stack_env) -> None:
    store = ModelStore(get_settings())
    with pytest.raises(ModelNotFound):
        store.get_config("example-classifier")
    cfg = parse_config(CONFIG)
    assert store.put_config(cfg) == 1
    assert store.put_config(cfg) == 2
    assert store.get_config("example-classifier") == cfg
    assert store.list_models() == ["example-classifier"]
    # a config corrupted in the table is caught on read, not half-used
    store.table.update_item(
        Key={"modelId": "example-classifier", "kind": "CONFIG"},
        UpdateExpression="SET config.problemType = :p",
        ExpressionAttributeValues={":p": "ranking"},
    )
    with pytest.raises(InvalidModelConfig, match="problemType"):
        store.get_config("example-classifier")


def test_lock_is_exclusive_until_released_or_expired(stack_env) -> None:
    locks = LockStore(get_settings())
    locks.acquire("retrain#m", "run-1", ttl_seconds=600, now=T0)
    locks.acquire("retrain#m", "run-1", ttl_seconds=600, now=T0)  # same owner: re-entrant
    with pytest.raises(RetrainInProgress, match="run-1"):
        locks.acquire("retrain#m", "run-2", ttl_seconds=600, now=T0 + timedelta(minutes=5))
    assert locks.release("retrain#m", "run-2") is False
    assert locks.holder("retrain#m", now=T0) == "run-1"
    # an expired lock can be taken over
    locks.acquire("retrain#m", "run-3", ttl_seconds=600, now=T0 + timedelta(minutes=11))
    assert locks.release("retrain#m", "run-3") is True
    assert locks.holder("retrain#m", now=T0) is None


def test_claim_once_returns_first_owner(stack_env) -> None:
    locks = LockStore(get_settings())
    assert locks.claim_once("trigger#m#evt-1", "run-1", ttl_seconds=3600, now=T0) == "run-1"
    assert locks.claim_once("trigger#m#evt-1", "run-2", ttl_seconds=3600, now=T0) == "run-1"


def test_runs_listed_newest_first(stack_env) -> None:
    runs = RunStore(get_settings())
    for i in range(3):
        assert runs.start("m", f"run-{i}", startedAt=f"2026-11-0{i + 1}T00:00:00Z")
    assert runs.start("m", "run-0") is False
    runs.update("m", "run-1", status="SUCCEEDED", metrics={"accuracy": 0.9})
    listed = runs.list("m")
    assert [r["runId"] for r in listed] == ["run-2", "run-1", "run-0"]
    assert runs.get("m", "run-1")["metrics"] == {"accuracy": 0.9}
