"""DynamoDB data access: model configs and state, run history, locks and idempotency keys.

Tables (see template.yaml):
- models: ``modelId`` (HASH) + ``kind`` (RANGE: ``CONFIG`` | ``STATE``). The config is validated on every
  write and read; the state holds the champion, the previous champion and the retrain history.
- runs: ``modelId`` (HASH) + ``runId`` (RANGE), local secondary index ``byStartedAt`` on ``startedAt``.
- locks: ``lockId`` (HASH) with a TTL attribute ``expiresAt`` (epoch seconds). Holds the per-model retrain
  lock (``retrain#<modelId>``) and idempotency keys of triggers (``trigger#<eventId>``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from driftline_common.aws import resource
from driftline_common.config import ModelConfig, parse_config
from driftline_common.errors import ConcurrentModification, ModelNotFound, RetrainInProgress, RunNotFound
from driftline_common.numbers import NOTES_KEY, ddb_safe, to_dynamodb, to_dynamodb_item
from driftline_common.settings import Settings


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def to_ddb(obj: Any) -> Any:
    """JSON-like value -> DynamoDB-safe value (see :mod:`driftline_common.numbers`; the notes are dropped)."""
    return to_dynamodb(obj)[0]


def from_ddb(obj: Any) -> Any:
    """DynamoDB value -> plain JSON value (Decimal to int/float)."""
    if isinstance(obj, Decimal):
        return int(obj) if obj == obj.to_integral_value() else float(obj)
    if isinstance(obj, dict):
        return {k: from_ddb(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [from_ddb(v) for v in obj]
    return obj


def window_end_floor(after: datetime) -> str:
    """The string :meth:`RunStore.list` compares ``window.end`` with to keep the runs whose window ends after
    ``after``: the UTC date two days before it (``YYYY-MM-DD``). Every ISO 8601 time after ``after`` sorts above
    it as a string, whatever its UTC offset (at most ±1 day on the date) or its precision."""
    return (after.astimezone(UTC) - timedelta(days=2)).strftime("%Y-%m-%d")


def retrain_lock_id(model_id: str) -> str:
    """The id of a model's retrain lock in the locks table (one retrain in flight per model)."""
    return f"retrain#{model_id}"


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class ModelStore:
    def __init__(self, settings: Settings) -> None:
        self.table = resource("dynamodb").Table(settings.models_table)

    def put_config(self, cfg: ModelConfig, *, now: datetime | None = None) -> int:
        """Store a validated config; returns its new version (monotonic per model)."""
        current = self.table.get_item(Key={"modelId": cfg.model_id, "kind": "CONFIG"}).get("Item")
        version = int(current["version"]) + 1 if current else 1
        item = to_dynamodb_item({
            "modelId": cfg.model_id,
            "kind": "CONFIG",
            "version": version,
            "updatedAt": iso(now or utcnow()),
            "config": cfg.to_item(),
        })
        cond = Attr("modelId").not_exists() if current is None else Attr("version").eq(current["version"])
        try:
            self.table.put_item(Item=item, ConditionExpression=cond)
        except ClientError as exc:
            if _conditional_failed(exc):
                raise ConcurrentModification(
                    f"the config of {cfg.model_id!r} changed concurrently; read it again and retry"
                ) from None
            raise
        return version

    def get_config_item(self, model_id: str) -> dict[str, Any]:
        item = self.table.get_item(Key={"modelId": model_id, "kind": "CONFIG"}).get("Item")
        if not item:
            raise ModelNotFound(f"no model {model_id!r} is registered", modelId=model_id)
        return from_ddb(item)

    def get_config(self, model_id: str) -> ModelConfig:
        """The model's config, validated again on read (an invalid stored config raises InvalidModelConfig)."""
        return parse_config(self.get_config_item(model_id)["config"], model_id=model_id)

    def list_models(self) -> list[str]:
        ids: list[str] = []
        kwargs: dict[str, Any] = {"FilterExpression": Attr("kind").eq("CONFIG"), "ProjectionExpression": "modelId"}
        while True:
            page = self.table.scan(**kwargs)
            ids.extend(i["modelId"] for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return sorted(ids)
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def get_state(self, model_id: str) -> dict[str, Any]:
        item = self.table.get_item(Key={"modelId": model_id, "kind": "STATE"}).get("Item")
        return from_ddb(item.get("state", {})) if item else {}

    def put_state(self, model_id: str, state: dict[str, Any]) -> None:
        self.table.put_item(Item=to_dynamodb_item({"modelId": model_id, "kind": "STATE", "state": state}))

    def record_pending_champion(self, model_id: str, pending: dict[str, Any], *, now: datetime | None = None
                                ) -> dict[str, Any]:
        """Record the champion-to-be (``pendingChampion``) before its endpoint switch; :meth:`record_champion`
        clears it once the same model is recorded as the champion."""
        state = self.get_state(model_id)
        state["pendingChampion"] = {**pending, "since": iso(now or utcnow())}
        self.put_state(model_id, state)
        return state

    def clear_pending_champion(self, model_id: str, run_id: str) -> bool:
        """Forget the champion-to-be of ``run_id`` (its deployment rolled back or failed); whether there was one."""
        state = self.get_state(model_id)
        if (state.get("pendingChampion") or {}).get("runId") != run_id:
            return False
        del state["pendingChampion"]
        self.put_state(model_id, state)
        return True

    def record_champion(
        self, model_id: str, champion: dict[str, Any], *, history_size: int = 20, now: datetime | None = None
    ) -> dict[str, Any]:
        """Make ``champion`` (a dict with at least ``modelName``) the model's champion; return the new state.

        The current champion becomes ``previousChampion`` (so a bad model can be reverted) and is appended to
        ``championHistory`` (newest last, at most ``history_size``). Idempotent: recording the champion that
        is already current changes nothing (the deployer and the pipeline's last step may both record it).
        """
        state = self.get_state(model_id)
        current = state.get("champion") or {}
        pending = state.get("pendingChampion") or {}
        if pending and pending.get("modelName") == champion.get("modelName"):
            del state["pendingChampion"]
            if current.get("modelName") == champion.get("modelName"):
                self.put_state(model_id, state)
        if current.get("modelName") == champion.get("modelName"):
            # already current: only fill in fields the first record lacked (never overwrite them)
            missing = {k: v for k, v in champion.items() if v is not None and k not in current}
            if missing:
                state["champion"] = {**current, **missing}
                self.put_state(model_id, state)
            return state
        new = {**champion, "since": champion.get("since") or iso(now or utcnow())}
        if current:
            state["previousChampion"] = current
            state["championHistory"] = [*state.get("championHistory", []), current][-history_size:]
        state["champion"] = new
        self.put_state(model_id, state)
        return state


class RunStore:
    def __init__(self, settings: Settings) -> None:
        self.table = resource("dynamodb").Table(settings.runs_table)

    def start(self, model_id: str, run_id: str, **fields: Any) -> bool:
        """Record a run as RUNNING; returns False when the run already exists (a redelivered start)."""
        item = {"modelId": model_id, "runId": run_id, "status": "RUNNING", **fields}
        item.setdefault("startedAt", iso(utcnow()))
        try:
            self.table.put_item(Item=to_dynamodb_item(item), ConditionExpression=Attr("runId").not_exists())
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    def update(self, model_id: str, run_id: str, **fields: Any) -> None:
        """Set ``fields`` on the run; each field's number notes replace that field's ``numberNotes.<field>``.

        One ``UpdateItem`` when the run already has its ``numberNotes`` map (every run written by :meth:`start`
        has); otherwise a second one that creates the map.
        """
        if not fields:
            return
        fields.pop(NOTES_KEY, None)
        names = {f"#f{i}": k for i, k in enumerate(fields)}
        converted = [to_dynamodb(v) for v in fields.values()]
        values = {f":v{i}": value for i, (value, _) in enumerate(converted)}
        field_notes = {f":n{i}": ddb_safe(notes) for i, (_, notes) in enumerate(converted)}
        sets = [f"#f{i} = :v{i}" for i in range(len(fields))]
        key = {"modelId": model_id, "runId": run_id}
        try:
            self.table.update_item(
                Key=key,
                UpdateExpression="SET " + ", ".join([*sets, *(f"#nn.#f{i} = :n{i}" for i in range(len(fields)))]),
                ExpressionAttributeNames={**names, "#nn": NOTES_KEY},
                ExpressionAttributeValues={**values, **field_notes},
                ConditionExpression=Attr(NOTES_KEY).exists(),
            )
            return
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
        all_notes = {k: notes for k, (_, notes) in zip(fields, converted, strict=True) if notes}
        self.table.update_item(
            Key=key,
            UpdateExpression="SET " + ", ".join([*sets, "#nn = :nn"]),
            ExpressionAttributeNames={**names, "#nn": NOTES_KEY},
            ExpressionAttributeValues={**values, ":nn": ddb_safe(all_notes)},
        )

    def get(self, model_id: str, run_id: str) -> dict[str, Any]:
        item = self.table.get_item(Key={"modelId": model_id, "runId": run_id}).get("Item")
        if not item:
            raise RunNotFound(f"no run {run_id!r} for model {model_id!r}", modelId=model_id, runId=run_id)
        return from_ddb(item)

    def list(self, model_id: str, *, limit: int = 50, newest_first: bool = True,
             window_end_after: datetime | None = None) -> list[dict[str, Any]]:
        """The model's runs ordered by ``startedAt`` (newest first by default), at most ``limit``.

        ``window_end_after``: of those same ``limit`` runs, only the ones whose ``window.end`` may be after it
        (a ``FilterExpression``, which DynamoDB applies after ``Limit``: the runs are chosen among the same
        ``limit`` as without it). The filter compares strings against :func:`window_end_floor` (the date two
        days earlier), so it keeps every run whose window ends after ``window_end_after`` and a few before; the
        caller still compares the times. Runs without a ``window.end`` are left out.
        """
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "IndexName": "byStartedAt",
            "KeyConditionExpression": Key("modelId").eq(model_id),
            "ScanIndexForward": not newest_first,
            "Limit": limit,
        }
        if window_end_after is not None:
            kwargs["FilterExpression"] = Attr("window.end").gt(window_end_floor(window_end_after))
        evaluated = 0  # runs read, filtered out or not (``ScannedCount``)
        while evaluated < limit:
            resp = self.table.query(**kwargs)
            page = resp.get("Items", [])
            items.extend(from_ddb(i) for i in page)
            evaluated += int(resp.get("ScannedCount", len(page)))
            if "LastEvaluatedKey" not in resp:
                break
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
            kwargs["Limit"] = limit - evaluated
        return items[:limit]


class LockStore:
    def __init__(self, settings: Settings) -> None:
        self.table = resource("dynamodb").Table(settings.locks_table)

    def acquire(self, lock_id: str, owner: str, *, ttl_seconds: int, now: datetime | None = None) -> None:
        """Take the lock, or raise RetrainInProgress if another owner holds an unexpired one.

        Re-acquiring by the same owner succeeds (a retried Lambda must not lock itself out).
        """
        t = int((now or utcnow()).timestamp())
        try:
            self.table.put_item(
                Item={"lockId": lock_id, "owner": owner, "acquiredAt": t, "expiresAt": t + ttl_seconds},
                ConditionExpression=Attr("lockId").not_exists() | Attr("expiresAt").lt(t) | Attr("owner").eq(owner),
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                held = self.table.get_item(Key={"lockId": lock_id}).get("Item", {})
                raise RetrainInProgress(
                    f"{lock_id} is held by {held.get('owner')!r} until epoch {held.get('expiresAt')}",
                    lockId=lock_id, owner=str(held.get("owner")),
                ) from None
            raise

    def release(self, lock_id: str, owner: str) -> bool:
        """Release the lock if ``owner`` holds it; returns whether anything was released."""
        try:
            self.table.delete_item(Key={"lockId": lock_id}, ConditionExpression=Attr("owner").eq(owner))
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    def holder(self, lock_id: str, *, now: datetime | None = None) -> str | None:
        item = self.table.get_item(Key={"lockId": lock_id}).get("Item")
        if not item or int(item["expiresAt"]) < int((now or utcnow()).timestamp()):
            return None
        return str(item["owner"])

    def claim_once(self, key: str, owner: str, *, ttl_seconds: int, now: datetime | None = None) -> str:
        """Idempotency: record ``key`` for ``owner``; return the owner that first claimed it.

        EventBridge delivers at least once: the second delivery of the same trigger finds the key and
        learns which run already handles it.
        """
        t = int((now or utcnow()).timestamp())
        try:
            self.table.put_item(
                Item={"lockId": key, "owner": owner, "acquiredAt": t, "expiresAt": t + ttl_seconds},
                ConditionExpression=Attr("lockId").not_exists() | Attr("expiresAt").lt(t),
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                return str(self.table.get_item(Key={"lockId": key})["Item"]["owner"])
            raise
        return owner
