"""Extension ``sfn_distributed_map``: a Distributed Map over S3 (``ItemBatcher``, tolerated failures, every page
of ``listObjectsV2``) and reserved errors out of Parallel branches (see :mod:`samlocal.moto_ext`)."""

from __future__ import annotations

import datetime as _dt
import json
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..registry import RuntimeRegistry


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


def _install_sfn_distributed_map(registry: RuntimeRegistry) -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval.resource_eval_s3 import (
        ResourceEvalS3,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (
        DistributedIterationComponent,
    )
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    active = registry.current

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
