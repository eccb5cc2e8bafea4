"""What the retrain launcher's actions share: the stores, the run-wide constants and the event field readers.

See ``docs/contracts.md`` for each action's input and output. Every action is idempotent under the state
machine's retries: ``start_run`` claims the trigger once, ``decide`` re-acquires its own lock and records its
retrain once, ``complete`` and ``fail`` overwrite the same fields. One module per action: ``start``, ``decide``,
``approval``, ``complete``, ``fail``.
"""

from __future__ import annotations

from dataclasses import dataclass

from driftline_common.contracts.retrain_launcher import TRIGGER_TYPES
from driftline_common.settings import Settings
from driftline_common.store import LockStore, ModelStore, RunStore, retrain_lock_id

__all__ = ["TRIGGER_TYPES"]  # re-exported: the contract owns the trigger types
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
