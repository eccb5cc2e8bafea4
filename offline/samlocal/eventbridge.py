"""EventBridge target input (``Input`` / ``InputPath`` / ``InputTransformer``) and event shapes.

Example
-------
>>> event = {"source": "my.app", "detail": {"orderId": "o1", "n": 3}}
>>> render_input({"InputPath": "$.detail"}, event, rule_name="r", rule_arn="arn")
{'orderId': 'o1', 'n': 3}
>>> render_input({"InputTransformer": {"InputPathsMap": {"o": "$.detail.orderId"},
...               "InputTemplate": '{"order": <o>, "text": "order <o>"}'}}, event,
...              rule_name="r", rule_arn="arn")
{'order': 'o1', 'text': 'order o1'}
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from typing import Any

from .clock import iso_z

__all__ = [
    "MAX_PUT_EVENTS_BYTES",
    "PUT_EVENTS_TOO_LARGE",
    "TargetInputError",
    "event_message",
    "json_path",
    "put_events_entry_size",
    "render_input",
    "scheduled_event",
]

#: PutEvents refuses a request whose entries add up to more than 256 KB (sizes as EventBridge computes them)
MAX_PUT_EVENTS_BYTES = 256 * 1024
PUT_EVENTS_TOO_LARGE = "Total size of the entries in the request is over the limit."

_MISSING = object()
_PATH_TOKEN = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]|\['([^']+)'\]|\[\"([^\"]+)\"\]")
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")


class TargetInputError(ValueError):
    """A target's input configuration cannot be applied to an event."""


def json_path(doc: Any, path: str) -> Any:
    """Evaluate a simple JSONPath (``$``, ``$.a.b``, ``$.a[0]``, ``$['a-b']``); missing -> ``_MISSING``."""
    path = path.strip()
    if not path.startswith("$"):
        raise TargetInputError(f"JSONPath {path!r} must start with '$'")
    rest = path[1:]
    pos = 0
    value = doc
    while pos < len(rest):
        m = _PATH_TOKEN.match(rest, pos)
        if not m:
            raise TargetInputError(f"unsupported JSONPath {path!r}")
        pos = m.end()
        key = m.group(1) or m.group(3) or m.group(4)
        if key is not None:
            if not isinstance(value, dict) or key not in value:
                return _MISSING
            value = value[key]
        else:
            idx = int(m.group(2))
            if not isinstance(value, list) or idx >= len(value):
                return _MISSING
            value = value[idx]
    return value


def put_events_entry_size(entry: dict[str, Any]) -> int:
    """The size of a ``PutEventsRequestEntry`` as EventBridge computes it.

    ``Time`` (if given) counts 14 bytes; ``Source``, ``DetailType``, ``Detail`` and each of ``Resources`` count
    the bytes of their UTF-8 form (AWS: "Calculating PutEvents event entry size").

    >>> put_events_entry_size({"Source": "my.app", "DetailType": "Order Placed", "Detail": '{"a": "é"}'})
    33
    >>> put_events_entry_size({"Source": "s", "DetailType": "d", "Time": 1, "Resources": ["arn:x", "é"]})
    23
    """
    size = 14 if entry.get("Time") is not None else 0
    for key in ("Source", "DetailType", "Detail"):
        value = entry.get(key)
        if value is not None:
            size += len(str(value).encode("utf-8"))
    for resource in entry.get("Resources") or []:
        if resource is not None:
            size += len(str(resource).encode("utf-8"))
    return size


def _fill_template(template: str, values: dict[str, Any]) -> str:
    out: list[str] = []
    in_string = False
    escaped = False
    i = 0
    while i < len(template):
        ch = template[i]
        if ch == "<":
            m = _PLACEHOLDER.match(template, i)
            if m and m.group(1) in values:
                value = values[m.group(1)]
                if in_string:
                    text = value if isinstance(value, str) else json.dumps(value)
                    out.append(json.dumps(text)[1:-1])
                else:
                    out.append(json.dumps(value))
                i = m.end()
                continue
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            in_string = not in_string
        out.append(ch)
        i += 1
    return "".join(out)


def render_input(target: dict[str, Any], event: dict[str, Any], *, rule_name: str, rule_arn: str) -> Any:
    """The payload EventBridge sends to ``target`` for ``event`` (parsed JSON, or a string)."""
    if "Input" in target and target["Input"] is not None:
        text = target["Input"]
        try:
            return json.loads(text)
        except ValueError as exc:
            raise TargetInputError(f"target Input is not valid JSON: {text!r}") from exc
    if target.get("InputPath"):
        value = json_path(event, target["InputPath"])
        return None if value is _MISSING else value
    transformer = target.get("InputTransformer")
    if transformer:
        values: dict[str, Any] = {}
        for name, path in (transformer.get("InputPathsMap") or {}).items():
            v = json_path(event, path)
            values[name] = None if v is _MISSING else v
        values.setdefault("aws.events.rule-arn", rule_arn)
        values.setdefault("aws.events.rule-name", rule_name)
        values.setdefault("aws.events.event.ingestion-time", event.get("time"))
        values.setdefault("aws.events.event", event)
        values.setdefault("aws.events.event.json", event)
        text = _fill_template(transformer["InputTemplate"], values)
        try:
            return json.loads(text)
        except ValueError:
            stripped = text.strip()
            if stripped.startswith('"') and stripped.endswith('"'):
                return stripped[1:-1]
            return text
    return event


def event_message(
    *,
    source: str,
    detail_type: str,
    detail: Any,
    time: datetime,
    account: str,
    region: str,
    resources: list[str] | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """An event as EventBridge delivers it to targets (``time`` in ISO-8601 ``Z`` form)."""
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": iso_z(time),
        "region": region,
        "resources": list(resources or []),
        "detail": detail,
    }


def scheduled_event(*, rule_arn: str, time: datetime, account: str, region: str) -> dict[str, Any]:
    """The event a scheduled rule sends (``detail-type`` ``Scheduled Event``, source ``aws.events``)."""
    return event_message(
        source="aws.events",
        detail_type="Scheduled Event",
        detail={},
        time=time,
        account=account,
        region=region,
        resources=[rule_arn],
    )
