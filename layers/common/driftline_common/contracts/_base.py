"""What every contract shares: the base model, field types with Driftline's edge checks, the ``$.run`` reference,
and :func:`parse_event` (Powertools' parser, failures typed as :class:`InvalidEvent`)."""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar, Union

from aws_lambda_powertools.utilities.parser import parse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from driftline_common.edge import MAX_TRIGGER_ID, check_model_id, check_run_id, parse_time
from driftline_common.errors import InvalidEvent
from driftline_common.runs import MAX_WINDOW, RunRef

M = TypeVar("M", bound=BaseModel)
#: how much of a wrong value an error message shows
SHOWN_CHARS = 80
#: pydantic's constraint errors, in Driftline's words (their context fills the braces)
CONSTRAINTS = {"string_too_long": "must have at most {max_length} characters",
               "string_pattern_mismatch": "must match {pattern}",
               "finite_number": "must be a finite number"}


class FieldError(ValueError):
    """A validator's complaint. ``{field}`` in ``message`` becomes the dotted path of the value in the event;
    ``suffix`` names a field below the validated one (a model-level check of one of its fields)."""

    def __init__(self, message: str, *, suffix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.suffix = suffix


class Contract(BaseModel):
    """An event (or part of one) a function accepts. Unknown keys are kept: the state machine passes whole
    results along, and a producer may add keys before its consumers read them."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)


def _edge(check: Callable[[Any, str], Any]) -> BeforeValidator:
    """A field validator from one of :mod:`driftline_common.edge`'s checks (its message, this field's path)."""

    def validate(value: Any) -> Any:
        try:
            check(value, "{field}")
        except InvalidEvent as exc:
            raise FieldError(exc.message) from None
        return value

    return BeforeValidator(validate)


def _time(value: Any) -> datetime:
    try:
        return parse_time(value, "{field}")
    except InvalidEvent as exc:
        raise FieldError(exc.message) from None


def _blank_is_none(value: Any) -> Any:
    return None if value == "" else value


NonEmptyStr = Annotated[str, Field(min_length=1, strict=True)]
#: an ISO 8601 time in [1970, 2200), UTC (a time without offset is UTC)
Time = Annotated[datetime, BeforeValidator(_time), Field(json_schema_extra={"type": "string", "format": "date-time"})]
#: an ISO 8601 time in [1970, 2200), kept as the caller wrote it
TimeText = Annotated[NonEmptyStr, _edge(parse_time), Field(json_schema_extra={"format": "date-time"})]
ModelId = Annotated[str, _edge(check_model_id), Field(pattern=r"^[A-Za-z0-9-]{1,63}$")]
#: a run id: an execution name (1 to 80 characters, no slash, whitespace or control character)
RunId = Annotated[str, _edge(check_run_id), Field(min_length=1, max_length=80)]
TriggerId = Annotated[str, Field(max_length=MAX_TRIGGER_ID, strict=True)]
FiniteNumber = Annotated[float, Field(strict=True, allow_inf_nan=False)]
#: a free-form JSON object (another step's result, read by the action's own logic)
Obj = dict[str, Any]


class RunIds(Contract):
    """The ids of ``$.run`` (actions that only record against the run)."""

    model_id: ModelId = Field(alias="modelId", description="the model's id")
    run_id: RunId = Field(alias="runId", description="the run's id (the execution name)")


class RunWindow(Contract):
    """``[start, end)`` of the run's data: non-empty, at most 31 days (``windowHours`` at most 744)."""

    start: Time
    end: Time

    @model_validator(mode="after")
    def _span(self) -> RunWindow:
        if not self.start < self.end:
            raise FieldError(f"'{{field}}' is empty: start {self.start} is not before end {self.end}")
        if self.end - self.start > MAX_WINDOW:
            raise FieldError(f"'{{field}}' spans {self.end - self.start}, more than the longest window "
                             f"({MAX_WINDOW}, windowHours at most 744)")
        return self


class Run(RunIds):
    """``$.run`` as ``start_run`` produces it (the data functions read their window from it)."""

    window: RunWindow

    @field_validator("model_id", "run_id")
    @classmethod
    def _no_slash(cls, value: str) -> str:
        if "/" in value:  # the ids become S3 key segments
            raise FieldError(f"'{{field}}' must not contain '/', got {value[:SHOWN_CHARS]!r}")
        return value

    def ref(self) -> RunRef:
        return RunRef(self.model_id, self.run_id, self.window.start, self.window.end)


class WithRun(Contract):
    """Any event carrying ``$.run``."""

    run: Run


class RunEvent(WithRun):
    """An action on the run's window: ``{action, run}``."""

    action: str


class S3Item(Contract):
    """One ``ListObjectsV2`` item of a Distributed Map batch (``ItemReader``)."""

    key: NonEmptyStr = Field(alias="Key")


class ShardResult(Contract):
    """One child result of a Distributed Map: where its partial state lies."""

    state_uri: NonEmptyStr = Field(alias="stateUri")


class ShardEvent(RunEvent):
    """One Distributed Map child: ``{action, run, items}`` (the batch of capture objects)."""

    items: list[S3Item]


class ReduceEvent(RunEvent):
    """After the Distributed Map: ``{action, run, shards}`` (the children's results)."""

    shards: list[ShardResult]


# ------------------------------------------------------------------------------------------------- parsing
def parse_event(event: Any, model: type[M]) -> M:
    """``event`` validated as ``model`` (Powertools' parser), or :class:`InvalidEvent` naming the first wrong field."""
    if not isinstance(event, Mapping):
        raise InvalidEvent(f"the event must be a JSON object, got {type(event).__name__}")
    try:
        return parse(event=dict(event), model=model)
    except ValidationError as exc:
        raise invalid_event(exc, model) from None


def invalid_event(exc: ValidationError, model: type[BaseModel]) -> InvalidEvent:
    """The first error of ``exc`` as :class:`InvalidEvent` (``field``: its dotted path; ``errors``: how many)."""
    errors = exc.errors(include_url=False)
    err = errors[0]
    path = _path(err["loc"])
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, FieldError):
        field = ".".join(p for p in (path, cause.suffix) if p)
        message = cause.message.replace("{field}", field, 1)
    else:
        field = path
        kind = _kind(_annotation_at(model, err["loc"]))
        if err["type"] == "literal_error":
            kind = f"one of {err['ctx']['expected']}"
        value = None if err["type"] == "missing" else err.get("input")
        if err["type"] in CONSTRAINTS:
            message = f"'{field}' {CONSTRAINTS[err['type']].format(**err.get('ctx', {}))}, got {_shown(value)}"
        elif kind is None:
            message = f"'{field}': {err['msg']}, got {_shown(value)}"
        else:
            message = f"'{field}' must be {kind}, got {_shown(value, kind)}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more error{'s' if len(errors) > 2 else ''})"
    return InvalidEvent(message, field=field)


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _shown(value: Any, kind: str | None = None) -> str:
    if kind in ("an object", "a list"):
        return type(value).__name__
    text = repr(value)
    return text[:SHOWN_CHARS] + "..." if len(text) > SHOWN_CHARS else text


def _unwrap(annotation: Any) -> Any:
    """``X`` from ``Annotated[X, ...]`` and ``X | None``."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def _annotation_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> Any:
    annotation: Any = model
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(part, int):
            args = typing.get_args(annotation)
            annotation = args[0] if typing.get_origin(annotation) is list and args else None
            continue
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        fields = annotation.model_fields
        annotation = next((f.annotation for name, f in fields.items() if (f.alias or name) == part), None)
        if annotation is None:
            return None
    return annotation


def _kind(annotation: Any) -> str | None:
    """What a value of ``annotation`` must be, in words (``None`` when it has no short name)."""
    annotation = _unwrap(annotation)
    origin = typing.get_origin(annotation) or annotation
    if origin is dict or (isinstance(origin, type) and issubclass(origin, BaseModel)):
        return "an object"
    if origin is list:
        return "a list"
    if origin is Literal:
        return f"one of {list(typing.get_args(annotation))}"
    return {str: "a non-empty string", float: "a finite number", int: "an integer", bool: "true or false",
            datetime: "an ISO 8601 time"}.get(origin)
