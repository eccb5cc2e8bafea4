"""What the retrain launcher's actions share: the stores, the run-wide constants and the event field readers.

See ``docs/contracts.md`` for each action's input and output. Every action is idempotent under the state
machine's retries: ``start_run`` claims the trigger once, ``decide`` re-acquires its own lock and records its
retrain once, ``complete`` and ``fail`` overwrite the same fields. One module per action: ``start``, ``decide``,
``approval``, ``complete``, ``fail``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from driftline_common.errors import InvalidEvent
from driftline_common.settings import Settings
from driftline_common.store import LockStore, ModelStore, RunStore, parse_iso, retrain_lock_id

TRIGGER_TYPES = ("manual", "schedule", "ground_truth", "alarm", "api")
#: how long a trigger id is remembered (EventBridge retries for at most 24 h; the margin is generous)
TRIGGER_CLAIM_TTL_SECONDS = 7 * 24 * 3600
HISTORY_LIMIT = 500
RETRAIN_HISTORY_SIZE = 50
MAX_REASON_CHARS = 2000
#: the run status of a run whose endpoint switched but whose bookkeeping after the switch failed for good
DEPLOYED_BOOKKEEPING_FAILED = "DEPLOYED_BOOKKEEPING_FAILED"
#: the outcome of a run whose window held no row at all (a broken Data Capture feed must not look healthy)
NO_DATA = "no_data"
#: how far back the empty-window streak is counted
EMPTY_STREAK_LIMIT = 100


def lock_id(model_id: str) -> str:
    return retrain_lock_id(model_id)


@dataclass(frozen=True)
class Stores:
    models: ModelStore
    runs: RunStore
    locks: LockStore

    @classmethod
    def from_settings(cls, settings: Settings) -> Stores:
        return cls(ModelStore(settings), RunStore(settings), LockStore(settings))


# ---------------------------------------------------------------------------------------------- helpers
def _mapping(event: Mapping[str, Any], key: str, *, required: bool = True) -> dict[str, Any]:
    value = event.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidEvent(f"'{key}' must be a JSON object, got {type(value).__name__}", field=key)
    return dict(value)


def _string(event: Mapping[str, Any], key: str) -> str:
    value = event.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidEvent(f"'{key}' must be a non-empty string, got {value!r}", field=key)
    return value


def _time(value: Any, what: str) -> datetime:
    if not isinstance(value, str):
        raise InvalidEvent(f"{what} must be an ISO-8601 time, got {value!r}", field=what)
    try:
        return parse_iso(value)
    except (ValueError, OverflowError):  # OverflowError: year 1 with a positive offset
        raise InvalidEvent(f"{what} must be an ISO-8601 time, got {value!r}", field=what) from None


def _run_ids(run: Mapping[str, Any]) -> tuple[str, str]:
    return _string(run, "modelId"), _string(run, "runId")


