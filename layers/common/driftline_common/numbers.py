"""The one boundary every number crosses on its way out of Python.

Targets and their conventions (the README's "Numbers" section is the user-facing copy of this):

- **JSON** (S3 documents, EventBridge details, Step Functions state, API responses, SNS messages): finite floats
  as they are (Python writes the shortest repr that round-trips; ``-0.0`` and subnormals included); ``NaN`` and
  ``±inf`` become ``null``; never a bare ``NaN``/``Infinity`` token (every writer passes ``allow_nan=False``).
- **DynamoDB** (Number: at most 38 significant digits, magnitude 0 or in ``[1e-130, 1e126)``): finite values in
  range as ``Decimal``; a non-zero magnitude below ``1e-130`` (a p-value of a decisive comparison, e.g.
  ``2.7e-182``) is stored as ``0`` with its ``log10`` in the note; a magnitude at or above ``1e126`` is stored
  as ``null``; more than 38 significant digits are rounded to 38; ``-0.0`` is stored as ``0``.
- **CloudWatch metrics** (Powertools EMF; CloudWatch accepts magnitudes in ``[2**-360, 2**360]`` and rejects
  NaN/±inf): :func:`metric_value` gives the float to emit, ``0.0`` below the floor, ``None`` (do not emit) for a
  non-finite or too-large value.

Every value that was not written as is leaves a **note**: a JSON-path (``$.a.b[0]``) mapped to
``{"reason": "nan" | "+inf" | "-inf" | "underflow" | "overflow" | "rounded", "log10"?: float, "value"?: str}``.
A JSON object gets its notes under the reserved key ``numberNotes`` at its root; a DynamoDB item under the
attribute ``numberNotes``, one map per top-level attribute (``numberNotes.<attribute>.<path>``), so an update of
one attribute replaces exactly that attribute's notes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Context, Decimal, InvalidOperation, Overflow
from typing import Any

#: where notes live, in a JSON document's root object and in a DynamoDB item
NOTES_KEY = "numberNotes"
#: DynamoDB Number: 38 significant digits, non-zero magnitudes in [1e-130, 1e126)
DDB_DIGITS = 38
DDB_MIN = Decimal("1e-130")
DDB_MAX = Decimal("1e126")
#: CloudWatch rejects magnitudes outside [2**-360, 2**360] (and NaN/±inf)
CW_MIN = 2.0**-360
CW_MAX = 2.0**360

Notes = dict[str, dict[str, Any]]
_ROUND = Context(prec=DDB_DIGITS, traps=[InvalidOperation, Overflow])


class NumberNotRepresentable(ValueError):
    """A required number cannot be written to its target (NaN, ±inf, out of range)."""


def _reason(x: float | Decimal) -> str:
    if (isinstance(x, Decimal) and x.is_nan()) or (isinstance(x, float) and math.isnan(x)):  # also Decimal sNaN
        return "nan"
    return "+inf" if x > 0 else "-inf"


def _log10(x: float | Decimal) -> float:
    return round(float(abs(Decimal(x)).log10()) if isinstance(x, Decimal) else math.log10(abs(x)), 6)


def _child(path: str, key: Any) -> str:
    return f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}"


def _plain(obj: Any, default: Callable[[Any], Any] | None) -> Any:
    """numpy scalars/arrays, dates and anything ``default`` knows as plain Python values (or ``obj``)."""
    if hasattr(obj, "tolist") and not isinstance(obj, (str, bytes)):
        return obj.tolist()
    if hasattr(obj, "item") and callable(obj.item) and not isinstance(obj, Mapping):
        return obj.item()
    if isinstance(obj, datetime | date):
        return obj.isoformat()
    if isinstance(obj, set | frozenset):
        return sorted(obj, key=repr)
    if default is not None:
        return default(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


# ---------------------------------------------------------------------------------------------- JSON
def json_safe(obj: Any, *, path: str = "$", notes: Notes | None = None,
              default: Callable[[Any], Any] | None = None) -> Any:
    """``obj`` with every number JSON can hold (NaN/±inf → ``None``); notes appended to ``notes``."""
    notes = {} if notes is None else notes
    if obj is None or isinstance(obj, str | bool | int):
        return obj
    if isinstance(obj, float):
        if math.isfinite(obj):
            return obj
        notes[path] = {"reason": _reason(obj)}
        return None
    if isinstance(obj, Decimal):
        if not obj.is_finite():
            notes[path] = {"reason": _reason(obj)}
            return None
        if obj == obj.to_integral_value():
            return int(obj)
        f = float(obj)
        if math.isinf(f):
            notes[path] = {"reason": "overflow", "log10": _log10(obj), "value": str(obj)}
            return None
        if f == 0.0:
            notes[path] = {"reason": "underflow", "log10": _log10(obj), "value": str(obj)}
        return f
    if isinstance(obj, Mapping):
        return {str(k): json_safe(v, path=_child(path, str(k)), notes=notes, default=default) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v, path=_child(path, i), notes=notes, default=default) for i, v in enumerate(obj)]
    return json_safe(_plain(obj, default), path=path, notes=notes, default=default)


def _with_notes(value: Any, notes: Notes) -> Any:
    if notes and isinstance(value, dict):
        merged = {**(value.get(NOTES_KEY) or {}), **notes} if isinstance(value.get(NOTES_KEY), dict) else notes
        return {**value, NOTES_KEY: merged}
    return value


def to_json(obj: Any, *, default: Callable[[Any], Any] | None = None) -> Any:
    """A JSON-safe copy of ``obj``; a root object gets its notes under ``numberNotes``."""
    notes: Notes = {}
    return _with_notes(json_safe(obj, notes=notes, default=default), notes)


def dumps(obj: Any, *, default: Callable[[Any], Any] | None = None, **kwargs: Any) -> str:
    """``json.dumps`` through the boundary: never a bare ``NaN``/``Infinity`` token."""
    return json.dumps(to_json(obj, default=default), allow_nan=False, **kwargs)


# ---------------------------------------------------------------------------------------------- DynamoDB
def _ddb_number(d: Decimal, path: str, notes: Notes, original: str) -> Decimal | None:
    """A finite Decimal as DynamoDB can store it (see the module docstring)."""
    if d.is_zero():
        return Decimal(0)
    if abs(d) >= DDB_MAX:
        notes[path] = {"reason": "overflow", "log10": _log10(d), "value": original}
        return None
    if abs(d) < DDB_MIN:
        notes[path] = {"reason": "underflow", "log10": _log10(d), "value": original}
        return Decimal(0)
    digits = len(d.as_tuple().digits)
    if digits > DDB_DIGITS:
        rounded = _ROUND.plus(d).normalize(_ROUND)
        if rounded != d:
            notes[path] = {"reason": "rounded", "value": original}
        d = rounded
        if abs(d) >= DDB_MAX:  # rounding up may reach the ceiling
            notes[path] = {"reason": "overflow", "log10": _log10(d), "value": original}
            return None
    return d


def ddb_safe(obj: Any, *, path: str = "$", notes: Notes | None = None) -> Any:
    """``obj`` as DynamoDB values (numbers as in-range ``Decimal``); notes appended to ``notes``."""
    notes = {} if notes is None else notes
    if obj is None or isinstance(obj, str | bool):
        return obj
    if isinstance(obj, int):
        return obj if abs(obj) < 10**DDB_DIGITS else _ddb_number(Decimal(obj), path, notes, str(obj))
    if isinstance(obj, float):
        if not math.isfinite(obj):
            notes[path] = {"reason": _reason(obj)}
            return None
        return _ddb_number(Decimal(repr(obj)), path, notes, repr(obj))
    if isinstance(obj, Decimal):
        if not obj.is_finite():
            notes[path] = {"reason": _reason(obj)}
            return None
        return _ddb_number(obj, path, notes, str(obj))
    if isinstance(obj, Mapping):
        return {str(k): ddb_safe(v, path=_child(path, str(k)), notes=notes) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [ddb_safe(v, path=_child(path, i), notes=notes) for i, v in enumerate(obj)]
    return ddb_safe(_plain(obj, str), path=path, notes=notes)


def to_dynamodb(obj: Any) -> tuple[Any, Notes]:
    """``(value, notes)`` for one attribute value (paths relative to the attribute, ``$`` = the value)."""
    notes: Notes = {}
    return ddb_safe(obj, notes=notes), notes


def to_dynamodb_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A whole item: every attribute converted, their notes under ``numberNotes.<attribute>``."""
    out: dict[str, Any] = {}
    all_notes: dict[str, Notes] = {}
    for key, value in item.items():
        if key == NOTES_KEY:
            continue
        out[key], notes = to_dynamodb(value)
        if notes:
            all_notes[key] = notes
    out[NOTES_KEY] = ddb_safe(all_notes)
    return out


# ---------------------------------------------------------------------------------------------- CloudWatch
def metric_value(value: Any) -> float | None:
    """The float to emit as a CloudWatch metric value, or ``None`` when none can be (NaN, ±inf, > 2**360)."""
    if isinstance(value, bool):
        return float(value)
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if not math.isfinite(x) or abs(x) > CW_MAX:
        return None
    return 0.0 if abs(x) < CW_MIN else x


def require_finite(value: Any, what: str) -> float:
    """``value`` as a finite float, or :class:`NumberNotRepresentable` naming ``what``."""
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        raise NumberNotRepresentable(f"{what} must be a finite number, got {value!r}") from None
    if not math.isfinite(x):
        raise NumberNotRepresentable(f"{what} must be a finite number, got {value!r}")
    return x
