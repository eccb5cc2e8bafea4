"""Small, named extensions to moto 5.2.x for the offline runtime.

Each extension patches one narrow place of moto, is listed in :data:`EXTENSIONS`, and has its own test
in ``tests/offline/test_moto_ext.py`` so that a moto upgrade shows exactly what broke. They are
installed once per process (:func:`install`) and dispatch to the *active* runtime
(:func:`driftline_offline.runtime.active`); with no active runtime moto behaves as shipped.

- ``lambda_dispatch``: ``LambdaSimpleBackend.invoke`` calls the real handler in-process and returns the
  Lambda runtime's error envelope with ``x-amz-function-error: Unhandled`` on an exception.
- ``events_delivery``: ``Rule.send_to_targets`` delivers to Step Functions and Lambda targets
  (``Input`` / ``InputPath`` / ``InputTransformer``), scheduled rules no longer match every event,
  disabled rules deliver nothing; ``put_events`` and S3's EventBridge notifications stamp events with
  the simulated clock; ``put_events`` refuses entries over 256 KB in all (EventBridge's entry size) with
  EventBridge's ``ValidationException``.
- ``sfn_start_execution_name``: ``start_execution`` without a name gets a UUID (AWS does the same).
- ``sfn_sim_clock``: execution start/stop dates, history timestamps, ``$$.State.EnteredTime`` and
  ``Wait`` ``Timestamp`` come from the simulated clock.
- ``sfn_fast_wait`` / ``sfn_fast_retry``: ``Wait`` states and ``Retry`` back-off advance the simulated
  clock instead of sleeping; ``.sync`` polling does not sleep 0.5 s.
- ``sfn_jsonata``: moto's JSONata hook evaluates with ``jsonata-python``.
- ``sfn_sagemaker``: ``arn:aws:states:::sagemaker:*`` (``createTrainingJob.sync`` and request/response
  calls) instead of moto's "unsupported" forwarder.
- ``sfn_keyword_path_bindings``: a ``"<Keyword>.$"`` parameter whose name is also an ASL keyword token
  (``"RoleArn.$"``, lexed as the ``Credentials`` token) is a path binding, not a literal field named
  ``RoleArn.$``: the interpreter evaluates its path, as Step Functions does.
- ``sfn_client_cache``: the interpreter reuses one boto3 client per service and region instead of
  building a new one for every task (≈15 ms each).
- ``sfn_parse_cache``: an execution re-lexes and re-parses its definition with ANTLR (≈60 ms for the pipeline);
  the parse tree is now cached per definition text and only the preprocessor (≈10 ms) runs per execution,
  so every execution still gets fresh evaluation components (retry counters, branch state).
- ``sfn_termination_signal``: the end of an execution notifies the active runtime
  (:meth:`~driftline_offline.runtime.OfflineRuntime.execution_terminated`), so
  :meth:`~driftline_offline.stack.OfflineStack.wait_execution` waits on a condition instead of polling; the
  ended execution's evaluation environment is let go (its history, status and output are kept); the status and
  output are set under the Step Functions backend's lock (``DescribeExecution`` never sees one without the other).
- ``ddb_fast_attribute_values``: moto's generic JSON serializer walks every DynamoDB ``AttributeValue``
  member by member through its attribute picker (≈8 ms for one ``GetItem`` of a model config); an
  ``AttributeValue`` that is already in wire form (``S``, ``N``, ``BOOL``, ``NULL``, ``M``, ``L``, ``SS``,
  ``NS``, as moto's items give it) is copied as is, with exactly the generic path's result; anything else
  (binary, unexpected keys or types) still takes the generic path.
- ``sfn_distributed_map``: what a Distributed Map over S3 needs beyond moto's interpreter: ``ItemBatcher``
  (not in moto's grammar: taken out of the definition before parsing and applied to the items the
  ``ItemReader`` returned: ``{"Items": [...], "BatchInput": {...}}`` per child, ``MaxItemsPerBatch`` /
  ``MaxItemsPerBatchPath`` / ``MaxInputBytesPerBatch``), an integer ``ToleratedFailurePercentage`` (the grammar
  wants a decimal literal), and ``arn:aws:states:::s3:listObjectsV2`` reading every page (moto reads one page,
  fails on an empty prefix and hands out ``datetime`` values; items are ``Key``/``Size``/``ETag``/
  ``LastModified`` (ISO string)/``StorageClass``, as JSON); a Map Run whose failed child workflows exceed
  ``ToleratedFailureCount`` / ``ToleratedFailurePercentage`` fails with ``States.ExceedToleratedFailureThreshold``
  (moto counts the failures and succeeds anyway), and a Parallel branch failing with such a reserved
  ``States.*`` error fails the Parallel state with it (moto turned it into ``States.Runtime``, uncatchable).
- ``moto_backend_locks``: the offline runtime runs functions concurrently (as Lambda does), but moto's DynamoDB,
  S3, Step Functions and SQS backends are not thread-safe: a conditional ``PutItem`` checks and writes in two
  steps (two concurrent lock acquisitions could both succeed), an S3 listing iterates a dict another thread
  may be inserting into, two ``StartExecution`` calls with one name could both start. Every public method of
  those backends runs under one re-entrant lock per backend class (``StartExecution`` under a lock per
  execution name, as it waits for the execution's thread to start), held for that one call only and never
  while a function runs: Lambda, EventBridge and SNS, whose calls run functions synchronously, are not
  locked, and the notifications of an S3 write (which may run the trigger router) are sent after the S3
  lock is released, in the writing thread, before the write call returns (as moto sends them).
- ``sagemaker_local``: ``CreateTrainingJob`` runs the script, ``UpdateEndpoint`` exists, ``InvokeEndpoint``
  serves the model (see :mod:`driftline_offline.sagemaker_local`).
"""

from __future__ import annotations

import copy
import datetime as _dt
import json
import logging
import threading
import time as _time
import types
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from .runtime import active

__all__ = ["EXTENSIONS", "install", "installed"]

EXTENSIONS = (
    "lambda_dispatch",
    "events_delivery",
    "sfn_start_execution_name",
    "sfn_sim_clock",
    "sfn_fast_wait",
    "sfn_fast_retry",
    "sfn_jsonata",
    "sfn_sagemaker",
    "sfn_keyword_path_bindings",
    "sfn_client_cache",
    "sfn_parse_cache",
    "sfn_termination_signal",
    "ddb_fast_attribute_values",
    "sfn_distributed_map",
    "moto_backend_locks",
    "sagemaker_local",
)

_INSTALLED: set[str] = set()
_INSTALL_LOCK = threading.Lock()


def installed() -> frozenset[str]:
    return frozenset(_INSTALLED)


def install() -> None:
    """Apply every extension once (idempotent)."""
    with _INSTALL_LOCK:
        for name in EXTENSIONS:
            if name not in _INSTALLED:
                _INSTALLERS[name]()
                _INSTALLED.add(name)


# ---------------------------------------------------------------------------------------------------
# Lambda
# ---------------------------------------------------------------------------------------------------
def _install_lambda_dispatch() -> None:
    from moto.awslambda_simple.models import LambdaSimpleBackend

    original = LambdaSimpleBackend.invoke

    def invoke(self, function_name, qualifier, body, headers, response_headers):  # type: ignore[no-untyped-def]
        rt = active()
        if rt is not None:
            spec = rt.lambdas.find(function_name)
            if spec is not None:
                payload, function_error = rt.lambdas.invoke_payload(spec.function_name, body)
                if function_error:
                    response_headers["x-amz-function-error"] = function_error
                return payload
        return original(self, function_name, qualifier, body, headers, response_headers)

    LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign]


# ---------------------------------------------------------------------------------------------------
# EventBridge
# ---------------------------------------------------------------------------------------------------
def _install_events_delivery() -> None:
    from moto.events.exceptions import ValidationException
    from moto.events.models import EventsBackend, Rule

    from .clock import iso_z
    from .eventbridge import MAX_PUT_EVENTS_BYTES, PUT_EVENTS_TOO_LARGE, put_events_entry_size

    original_send = Rule.send_to_targets
    original_put = EventsBackend.put_events

    def send_to_targets(self, original_event, transform_input=True):  # type: ignore[no-untyped-def]
        rt = active()
        if rt is None:
            return original_send(self, original_event, transform_input)
        if self.state != "ENABLED":
            return None
        if self.scheduled_expression and not self.event_pattern.get_pattern():
            return None  # a schedule-only rule matches no event on AWS
        if not self.event_pattern.matches_event(original_event):
            return None
        event = {k: v for k, v in original_event.items() if k != "ingestion-time"}
        t = event.get("time")
        if isinstance(t, int | float):
            event["time"] = iso_z(_dt.datetime.fromtimestamp(float(t), tz=_dt.UTC))
        others = [
            target
            for target in self.targets
            if not rt.deliver(rule_name=self.name, rule_arn=self.arn, target=target, event=event)
        ]
        if others:
            clone = copy.copy(self)
            clone.targets = others
            return original_send(clone, original_event, transform_input)
        return None

    def put_events(self, events):  # type: ignore[no-untyped-def]
        rt = active()
        if rt is not None:
            if sum(put_events_entry_size(e) for e in events) > MAX_PUT_EVENTS_BYTES:
                raise ValidationException(PUT_EVENTS_TOO_LARGE)
            stamp = rt.clock.now().timestamp()
            events = [e if e.get("Time") is not None else {**e, "Time": stamp} for e in events]
        return original_put(self, events)

    import moto.s3.notifications as s3_notifications

    real_unix_time = s3_notifications.unix_time

    def unix_time(*args: Any) -> float:
        rt = active()
        return rt.clock.now().timestamp() if rt is not None and not args else real_unix_time(*args)

    s3_notifications.unix_time = unix_time  # S3 -> EventBridge events carry the simulated time
    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign]
    EventsBackend.put_events = put_events  # type: ignore[method-assign]


# ---------------------------------------------------------------------------------------------------
# Step Functions
# ---------------------------------------------------------------------------------------------------
def _install_sfn_start_execution_name() -> None:
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original = StepFunctionsParserBackend.start_execution

    def start_execution(self, state_machine_arn, name=None, execution_input=None, trace_header=None):  # type: ignore[no-untyped-def]
        return original(self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header)

    StepFunctionsParserBackend.start_execution = start_execution  # type: ignore[method-assign]


class _ClockDatetime(_dt.datetime):
    """``datetime.datetime`` whose ``now()`` reads the active runtime's simulated clock."""

    @classmethod
    def now(cls, tz=None):  # type: ignore[no-untyped-def,override]
        rt = active()
        if rt is None:
            return _dt.datetime.now(tz)
        t = rt.clock.now()
        return t.astimezone(tz) if tz is not None else t.astimezone(_dt.UTC).replace(tzinfo=None)


def _clock_datetime_module() -> types.ModuleType:
    shim = types.ModuleType("datetime")
    shim.__dict__.update({k: v for k, v in _dt.__dict__.items() if not k.startswith("__")})
    shim.datetime = _ClockDatetime  # type: ignore[attr-defined]
    return shim


def _install_sfn_sim_clock() -> None:
    import moto.stepfunctions.parser.asl.component.state.state as state_mod
    import moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp as ts_mod
    import moto.stepfunctions.parser.asl.eval.event.event_manager as event_manager_mod
    import moto.stepfunctions.parser.backend.execution as execution_mod
    import moto.stepfunctions.parser.models as models_mod

    shim = _clock_datetime_module()
    for mod in (models_mod, execution_mod, event_manager_mod, state_mod, ts_mod):
        mod.datetime = shim  # type: ignore[attr-defined]


def _install_sfn_fast_wait() -> None:
    import moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback as cb
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

    original = WaitFunction._wait_interval

    def _wait_interval(self, env, wait_seconds):  # type: ignore[no-untyped-def]
        rt = active()
        if rt is None or not rt.fast_waits:
            return original(self, env, wait_seconds)
        if wait_seconds > 0:
            rt.clock.advance(wait_seconds)
        return None

    WaitFunction._wait_interval = _wait_interval  # type: ignore[method-assign]
    cb._DELAY_SECONDS_SYNC_CONDITION_CHECK = 0.01  # type: ignore[misc]


class _FastTime(types.ModuleType):
    """``time`` for the retrier: ``sleep`` advances the simulated clock when a runtime is active."""

    def __getattr__(self, name: str) -> Any:
        return getattr(_time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        rt = active()
        if rt is None or not rt.fast_waits:
            _time.sleep(seconds)
        else:
            rt.clock.advance(seconds)


def _install_sfn_fast_retry() -> None:
    import moto.stepfunctions.parser.asl.component.common.retry.retrier_decl as retrier_mod

    retrier_mod.time = _FastTime("time")  # type: ignore[assignment]


def _install_sfn_jsonata() -> None:
    import jsonata
    import moto.stepfunctions.parser.asl.jsonata.jsonata as jsonata_mod

    def _eval(expression: str) -> Any:
        try:
            return jsonata.Jsonata(expression).evaluate(None)
        except Exception as exc:
            raise jsonata_mod.JSONataException("UNKNOWN", str(exc)) from exc

    jsonata_mod._eval_jsonata = _eval  # type: ignore[attr-defined]


def _install_sfn_sagemaker() -> None:
    import moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_factory as factory

    from .sfn_sagemaker import StateTaskServiceSageMaker

    original: Callable[..., Any] = factory.state_task_service_for

    def state_task_service_for(service_name: str):  # type: ignore[no-untyped-def]
        if service_name == "sagemaker":
            return StateTaskServiceSageMaker()
        return original(service_name=service_name)

    factory.state_task_service_for = state_task_service_for  # type: ignore[assignment]


def _install_sfn_client_cache() -> None:
    import sys

    import moto.stepfunctions.parser.asl.utils.boto_client as boto_client_mod
    from moto.core.models import botocore_stubber

    original = boto_client_mod.boto_client_for
    cache: dict[tuple[str, str], Any] = {}
    lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        if not botocore_stubber.enabled:
            return original(region=region, service=service, state_credentials=state_credentials)
        key = (region, service)
        with lock:
            if key not in cache:
                cache[key] = original(region=region, service=service, state_credentials=state_credentials)
            return cache[key]

    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.parser") and getattr(module, "boto_client_for", None) is original:
            module.boto_client_for = boto_client_for  # type: ignore[attr-defined]
    import driftline_offline.sfn_sagemaker as sfn_sagemaker_mod

    sfn_sagemaker_mod.boto_client_for = boto_client_for  # type: ignore[attr-defined]


def warm_clients(region: str, services: tuple[str, ...] = (
    "lambda", "dynamodb", "sns", "sqs", "events", "stepfunctions", "sagemaker", "s3",
)) -> None:
    """Create the interpreter's cached clients up front (the first execution is then as fast as the rest)."""
    from moto.stepfunctions.parser.asl.utils import boto_client as boto_client_mod

    import driftline_offline.sfn_sagemaker as sfn_sagemaker_mod

    for service in services:
        sfn_sagemaker_mod.boto_client_for(region=region, service=service)
    _ = boto_client_mod


def _install_sfn_keyword_path_bindings() -> None:
    from moto.stepfunctions.parser.asl.component.common.payload.payloadvalue.payloadbinding.payload_binding import (
        PayloadBindingStringExpressionSimple,
    )
    from moto.stepfunctions.parser.asl.component.common.payload.payloadvalue.payloadvaluelit.payload_value_str import (
        PayloadValueStr,
    )
    from moto.stepfunctions.parser.asl.component.common.string.string_expression import (
        StringContextPath,
        StringJsonPath,
    )
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    original: Callable[..., Any] = Preprocessor.visitPayload_binding_value

    def visit_payload_binding_value(self, ctx):  # type: ignore[no-untyped-def]
        binding = original(self, ctx)
        value = binding.payload_value
        if not binding.field.endswith(".$") or not isinstance(value, PayloadValueStr):
            return binding
        path = value.val
        if path.startswith("$$"):
            sampler: Any = StringContextPath(context_object_path=path)
        elif path == "$" or path.startswith(("$.", "$[")):
            sampler = StringJsonPath(json_path=path)
        else:
            return binding
        return PayloadBindingStringExpressionSimple(field=binding.field[:-2], string_expression_simple=sampler)

    Preprocessor.visitPayload_binding_value = visit_payload_binding_value  # type: ignore[method-assign]


#: ANTLR parse trees by definition text, most recently used last (at most ``_PARSE_TREES_MAX``)
_PARSE_TREES: OrderedDict[str, Any] = OrderedDict()
_PARSE_TREES_MAX = 32
_PARSE_LOCK = threading.Lock()


def _install_sfn_parse_cache() -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    original = ExecutionWorker._get_evaluation_entrypoint
    trees, lock = _PARSE_TREES, _PARSE_LOCK

    def _get_evaluation_entrypoint(self):  # type: ignore[no-untyped-def]
        if active() is None:
            return original(self)
        definition = self._evaluation_details.state_machine_details.definition
        with lock:
            tree = trees.get(definition)
            if tree is not None:
                trees.move_to_end(definition)
        if tree is None:
            program, tree = AmazonStateLanguageParser.parse(definition)  # raises on a syntax error: not cached
            with lock:
                trees[definition] = tree
                while len(trees) > _PARSE_TREES_MAX:
                    trees.popitem(last=False)
            return program
        # the tree is only read by the visitor: a fresh Preprocessor builds fresh (stateful) components
        program = Preprocessor().visit(tree)
        _attach_item_batchers(program, getattr(tree, "_driftline_item_batchers", None))
        return program

    ExecutionWorker._get_evaluation_entrypoint = _get_evaluation_entrypoint  # type: ignore[method-assign]


# ---------------------------------------------------------------------------------------------------
# Distributed Map over S3
# ---------------------------------------------------------------------------------------------------
def _normalise_map_states(definition: str) -> tuple[str, dict[str, dict[str, Any]]]:
    """``(definition moto's grammar accepts, {Map state name: its ItemBatcher})``.

    Takes ``ItemBatcher`` out of every Map state (state names are unique in a state machine) and writes an
    integer ``ToleratedFailurePercentage`` as a decimal; any other definition is returned as is.
    """
    try:
        doc = json.loads(definition)
    except ValueError:
        return definition, {}
    batchers: dict[str, dict[str, Any]] = {}
    changed = False

    def walk(states: Any) -> None:
        nonlocal changed
        if not isinstance(states, dict):
            return
        for name, st in states.items():
            if not isinstance(st, dict):
                continue
            if st.get("Type") == "Map":
                if isinstance(st.get("ItemBatcher"), dict):
                    batchers[name] = st.pop("ItemBatcher")
                    changed = True
                tfp = st.get("ToleratedFailurePercentage")
                if isinstance(tfp, int) and not isinstance(tfp, bool):
                    st["ToleratedFailurePercentage"] = float(tfp)
                    changed = True
            for branch in st.get("Branches") or []:
                if isinstance(branch, dict):
                    walk(branch.get("States"))
            for key in ("ItemProcessor", "Iterator"):
                if isinstance(st.get(key), dict):
                    walk(st[key].get("States"))

    if isinstance(doc, dict):
        walk(doc.get("States"))
    return (json.dumps(doc) if changed else definition), batchers


def _attach_item_batchers(program: Any, batchers: dict[str, dict[str, Any]] | None) -> None:
    """Give the iteration component of every batched Map state of ``program`` its ItemBatcher."""
    if not batchers:
        return
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap

    seen: set[int] = set()
    stack: list[Any] = [program]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, StateMap) and obj.name in batchers:
            obj.iteration_component._driftline_item_batcher = batchers[obj.name]  # type: ignore[attr-defined]
        if isinstance(obj, list | tuple):
            stack.extend(obj)
        elif isinstance(obj, dict):
            stack.extend(obj.values())
        elif type(obj).__module__.startswith("moto.stepfunctions.parser.asl") and hasattr(obj, "__dict__"):
            stack.extend(vars(obj).values())


def _batch_input(spec: dict[str, Any], state_input: Any) -> dict[str, Any]:
    from moto.stepfunctions.parser.asl.utils.json_path import extract_json

    out: dict[str, Any] = {}
    for key, value in (spec.get("BatchInput") or {}).items():
        if key.endswith(".$"):
            out[key[:-2]] = extract_json(value, state_input)
        else:
            out[key] = value
    return out


def make_batches(items: list[Any], spec: dict[str, Any], state_input: Any) -> list[dict[str, Any]]:
    """Group ``items`` as Step Functions' ItemBatcher does (``MaxItemsPerBatch[Path]``, ``MaxInputBytesPerBatch``)."""
    from moto.stepfunctions.parser.asl.utils.json_path import extract_json

    max_items = spec.get("MaxItemsPerBatch")
    if "MaxItemsPerBatchPath" in spec:
        max_items = extract_json(spec["MaxItemsPerBatchPath"], state_input)
    max_bytes = spec.get("MaxInputBytesPerBatch")
    if "MaxInputBytesPerBatchPath" in spec:
        max_bytes = extract_json(spec["MaxInputBytesPerBatchPath"], state_input)
    if max_items is None and max_bytes is None:
        raise ValueError("ItemBatcher needs MaxItemsPerBatch(Path) or MaxInputBytesPerBatch(Path)")
    batch_input = _batch_input(spec, state_input)
    extra = len(json.dumps({"BatchInput": batch_input})) if batch_input else 0
    batches: list[dict[str, Any]] = []
    current: list[Any] = []
    size = extra
    for item in items:
        item_size = len(json.dumps(item)) + 1
        full = (max_items is not None and len(current) >= int(max_items)) or (
            max_bytes is not None and current and size + item_size > int(max_bytes))
        if full:
            batches.append({"Items": current, **({"BatchInput": batch_input} if batch_input else {})})
            current, size = [], extra
        current.append(item)
        size += item_size
    if current:
        batches.append({"Items": current, **({"BatchInput": batch_input} if batch_input else {})})
    return batches


def _exceeds_tolerance(failed: int, total: int, count: Any, percentage: Any) -> bool:
    """Step Functions fails a Map Run whose failed children exceed ToleratedFailureCount or -Percentage."""
    if count is not None and failed > int(count):
        return True
    return percentage is not None and total > 0 and 100.0 * failed / total > float(percentage)


def _raise_tolerated_failure_exceeded(env: Any, failed: int, total: int) -> None:
    from moto.stepfunctions.parser.api import HistoryEventType, MapRunFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    error_name = StatesErrorName(typ=StatesErrorNameType.StatesExceedToleratedFailureThreshold)
    raise FailureEventException(failure_event=FailureEvent(
        env=env, error_name=error_name, event_type=HistoryEventType.MapRunFailed,
        event_details=EventDetails(mapRunFailedEventDetails=MapRunFailedEventDetails(
            error=error_name.error_name,
            cause=f"The specified tolerated failure threshold was exceeded: {failed} of {total} child "
                  "workflow executions failed"))))


def _s3_listing_item(obj: dict[str, Any]) -> dict[str, Any]:
    out = {k: obj[k] for k in ("Key", "Size", "ETag", "StorageClass") if k in obj}
    modified = obj.get("LastModified")
    if isinstance(modified, _dt.datetime):
        out["LastModified"] = modified.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return out


def _install_sfn_distributed_map() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval.resource_eval_s3 import (
        ResourceEvalS3,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (
        DistributedIterationComponent,
    )
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    # moto warns at every parse that tolerated-failure declarations have no effect; this extension gives them
    # one (the Map Run fails past the threshold), so the warning would only be noise
    logging.getLogger("moto.stepfunctions.parser.asl.parse.preprocessor").addFilter(
        lambda record: "declarations currently have no effect" not in record.getMessage()
    )
    original_parse = AmazonStateLanguageParser.parse

    def parse(definition: str):  # type: ignore[no-untyped-def]
        if active() is None:
            return original_parse(definition)
        text, batchers = _normalise_map_states(definition)
        program, tree = original_parse(text)
        if batchers:
            tree._driftline_item_batchers = batchers
            _attach_item_batchers(program, batchers)
        return program, tree

    AmazonStateLanguageParser.parse = staticmethod(parse)  # type: ignore[method-assign]

    original_map_run = DistributedIterationComponent._map_run

    def _map_run(self, env, eval_input):  # type: ignore[no-untyped-def]
        if active() is None:
            return original_map_run(self, env, eval_input)
        spec = getattr(self, "_driftline_item_batcher", None)
        if spec is not None:
            items = env.stack.pop()
            env.stack.append(make_batches(list(items), spec, env.states.get_input()))
        total = len(env.stack[-1])
        original_map_run(self, env, eval_input)
        failed = eval_input.map_run_record.item_counter.failed.get()
        if failed and _exceeds_tolerance(failed, total, eval_input.tolerated_failure_count,
                                         eval_input.tolerated_failure_percentage):
            env.stack.pop()
            _raise_tolerated_failure_exceeded(env, failed, total)
        return None

    DistributedIterationComponent._map_run = _map_run  # type: ignore[method-assign]

    original_list = ResourceEvalS3._handle_list_objects_v2

    def _handle_list_objects_v2(env, resource_runtime_part, state_credentials):  # type: ignore[no-untyped-def]
        if active() is None:
            return original_list(env, resource_runtime_part, state_credentials)
        s3 = ResourceEvalS3._get_s3_client(resource_runtime_part=resource_runtime_part,
                                           state_credentials=state_credentials)
        parameters = dict(env.stack.pop())
        items: list[dict[str, Any]] = []
        while True:
            page = s3.list_objects_v2(**parameters)
            items.extend(_s3_listing_item(o) for o in page.get("Contents", []))
            if not page.get("IsTruncated"):
                break
            parameters["ContinuationToken"] = page["NextContinuationToken"]
        env.stack.append(items)
        return None

    ResourceEvalS3._handle_list_objects_v2 = staticmethod(_handle_list_objects_v2)  # type: ignore[method-assign]

    # a Parallel branch that fails with a reserved error (the Map's States.ExceedToleratedFailureThreshold) must
    # fail the Parallel state with that error (catchable), not with "Custom Error Names MUST NOT begin with States."
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.state.exec.state_parallel import branches_decl

    def branch_error_name(error_name: str):  # type: ignore[no-untyped-def]
        if active() is not None and isinstance(error_name, str) and error_name.startswith("States."):
            try:
                return StatesErrorName.from_name(error_name)
            except ValueError:
                pass
        return CustomErrorName(error_name=error_name)

    branches_decl.CustomErrorName = branch_error_name  # type: ignore[attr-defined]


class _FinishedEnvironment:
    """What an ended execution keeps of its evaluation environment: the event history (``GetExecutionHistory``),
    its Map Runs (``DescribeMapRun``, ``ListMapRuns``) and its callback pool (``SendTask*`` scan every execution's)."""

    def __init__(self, env: Any) -> None:
        self.event_manager = env.event_manager
        self.map_run_record_pool_manager = env.map_run_record_pool_manager
        self.callback_pool_manager = env.callback_pool_manager

    def set_stop(self, *args: Any, **kwargs: Any) -> None:
        """Stopping an ended execution changes nothing."""


def _release_evaluation(execution: Any) -> None:
    """Drop an ended execution's evaluation environment (its component tree, states, Map children), keeping the
    history: every execution otherwise kept ~1-2 MB alive for the life of the process."""
    worker = getattr(execution, "exec_worker", None)
    env = getattr(worker, "env", None)
    if env is not None and not isinstance(env, _FinishedEnvironment):
        worker.env = _FinishedEnvironment(env)


def _install_sfn_termination_signal() -> None:
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

    original = BaseExecutionWorkerCommunication.terminated

    lock = BACKEND_LOCKS.setdefault("StepFunctionsParserBackend", threading.RLock())

    def terminated(self):  # type: ignore[no-untyped-def]
        try:
            # moto sets the status, then the output (or error): under the backend's lock, DescribeExecution never
            # sees SUCCEEDED without its output
            with lock:
                return original(self)
        finally:
            rt = active()
            if rt is not None:
                _release_evaluation(self.execution)
                rt.execution_terminated()

    BaseExecutionWorkerCommunication.terminated = terminated  # type: ignore[method-assign]


class _NotPlain(Exception):
    """An ``AttributeValue`` the fast path does not handle (the generic serializer does)."""


def _plain_attribute_value(value: Any) -> dict[str, Any]:
    """The JSON wire form of a DynamoDB ``AttributeValue`` given as moto's plain dict.

    Exactly what moto's ``BaseJSONSerializer`` makes of it: ``None`` members are left out, ``None`` map values
    dropped, ``None`` list items kept; raises :class:`_NotPlain` for anything else (binary ``B``/``BS``,
    unknown keys, non-string scalars), which then goes through the generic serializer.
    """
    if type(value) is not dict:
        raise _NotPlain
    out: dict[str, Any] = {}
    for k, x in value.items():
        if x is None:
            continue
        if k == "S" or k == "N":
            if type(x) is not str:
                raise _NotPlain
            out[k] = x
        elif k == "BOOL" or k == "NULL":
            out[k] = x
        elif k == "M":
            if type(x) is not dict:
                raise _NotPlain
            out[k] = {mk: _plain_attribute_value(mv) for mk, mv in x.items() if mv is not None}
        elif k == "L":
            if type(x) is not list:
                raise _NotPlain
            out[k] = [None if item is None else _plain_attribute_value(item) for item in x]
        elif k == "SS" or k == "NS":
            if type(x) is not list or any(type(item) is not str for item in x):
                raise _NotPlain
            out[k] = list(x)
        else:
            raise _NotPlain
    return out


def _install_ddb_fast_attribute_values() -> None:
    from moto.core.serialize import BaseJSONSerializer

    original = BaseJSONSerializer._serialize_type_structure

    def _serialize_type_structure(self, serialized, value, shape, key):  # type: ignore[no-untyped-def]
        if (key and shape.name == "AttributeValue" and type(value) is dict and active() is not None
                and self.operation_model.service_model.service_name == "dynamodb"
                and not getattr(self._value_picker, "response_transformers", None)):
            try:
                plain = _plain_attribute_value(value)
            except _NotPlain:
                pass
            else:
                self._default_serialize(serialized, plain, shape, key)
                return None
        return original(self, serialized, value, shape, key)

    BaseJSONSerializer._serialize_type_structure = _serialize_type_structure  # type: ignore[method-assign]


#: backend classes guarded by ``moto_backend_locks`` (module, class); methods left out run functions synchronously
_LOCKED_BACKENDS = (
    ("moto.dynamodb.models", "DynamoDBBackend"),
    ("moto.s3.models", "S3Backend"),
    ("moto.stepfunctions.parser.models", "StepFunctionsParserBackend"),
    ("moto.sqs.models", "SQSBackend"),
)
#: ``start_execution`` takes a lock per execution name instead (see below)
_UNLOCKED_METHODS = frozenset({"start_sync_execution", "start_execution"})
_NAME_LOCKS = tuple(threading.Lock() for _ in range(64))
BACKEND_LOCKS: dict[str, threading.RLock] = {}


_LOCAL = threading.local()


def _locked(method: Callable[..., Any], lock: threading.RLock) -> Callable[..., Any]:
    import functools

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        depth = getattr(_LOCAL, "depth", 0)
        _LOCAL.depth = depth + 1
        try:
            with lock:
                return method(*args, **kwargs)
        finally:
            _LOCAL.depth = depth
            if depth == 0:  # out of every backend lock: now run what the call deferred (S3 notifications)
                pending, _LOCAL.pending = getattr(_LOCAL, "pending", []), []
                for deferred in pending:
                    deferred()

    call._driftline_locked = True  # type: ignore[attr-defined]
    return call


def _install_moto_backend_locks() -> None:
    import importlib
    import inspect

    from moto.core.base_backend import BaseBackend

    for module_name, class_name in _LOCKED_BACKENDS:
        cls = getattr(importlib.import_module(module_name), class_name)
        lock = BACKEND_LOCKS.setdefault(class_name, threading.RLock())
        names: set[str] = set()
        for klass in cls.__mro__:
            if klass is BaseBackend or klass is object:
                break
            names.update(n for n, v in vars(klass).items() if inspect.isfunction(v) and not n.startswith("_"))
        for name in sorted(names - _UNLOCKED_METHODS):
            method = getattr(cls, name)
            if not getattr(method, "_driftline_locked", False):
                setattr(cls, name, _locked(method, lock))

    # StartExecution waits for the new execution's thread to start, which under load takes a while: holding the
    # backend's lock for it would queue every Step Functions call behind it. Its one race is two starts of the same
    # name both passing the idempotency check, so starts of one name are serialised, and starts of others are not.
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    unlocked_start = StepFunctionsParserBackend.start_execution

    def start_execution(self, state_machine_arn, name=None, execution_input=None, trace_header=None):  # type: ignore[no-untyped-def]
        if not name:
            return unlocked_start(self, state_machine_arn, name, execution_input, trace_header)
        with _NAME_LOCKS[hash((state_machine_arn, name)) % len(_NAME_LOCKS)]:
            return unlocked_start(self, state_machine_arn, name, execution_input, trace_header)

    start_execution._driftline_locked = True  # type: ignore[attr-defined]
    if not getattr(unlocked_start, "_driftline_locked", False):
        StepFunctionsParserBackend.start_execution = start_execution  # type: ignore[method-assign]

    import moto.s3.notifications as s3_notifications

    real_send_event = s3_notifications.send_event

    def send_event(*args: Any, **kwargs: Any) -> None:
        if getattr(_LOCAL, "depth", 0) and active() is not None:
            _LOCAL.pending = [*getattr(_LOCAL, "pending", []), lambda: real_send_event(*args, **kwargs)]
            return None
        return real_send_event(*args, **kwargs)

    s3_notifications.send_event = send_event


def _install_sagemaker_local() -> None:
    from .sagemaker_local import install_sagemaker_patches

    install_sagemaker_patches()


_INSTALLERS: dict[str, Callable[[], None]] = {
    "lambda_dispatch": _install_lambda_dispatch,
    "events_delivery": _install_events_delivery,
    "sfn_start_execution_name": _install_sfn_start_execution_name,
    "sfn_sim_clock": _install_sfn_sim_clock,
    "sfn_fast_wait": _install_sfn_fast_wait,
    "sfn_fast_retry": _install_sfn_fast_retry,
    "sfn_jsonata": _install_sfn_jsonata,
    "sfn_sagemaker": _install_sfn_sagemaker,
    "sfn_keyword_path_bindings": _install_sfn_keyword_path_bindings,
    "sfn_client_cache": _install_sfn_client_cache,
    "sfn_parse_cache": _install_sfn_parse_cache,
    "sfn_termination_signal": _install_sfn_termination_signal,
    "ddb_fast_attribute_values": _install_ddb_fast_attribute_values,
    "sfn_distributed_map": _install_sfn_distributed_map,
    "moto_backend_locks": _install_moto_backend_locks,
    "sagemaker_local": _install_sagemaker_local,
}


def _json_default(value: Any) -> Any:
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_json(value: Any) -> str:
    return json.dumps(value, default=_json_default)
