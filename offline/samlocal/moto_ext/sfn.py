"""Step Functions extensions of the interpreter (see :mod:`samlocal.moto_ext`): execution names, the simulated
clock, fast waits and retries, JSONata, the SageMaker integration, keyword path bindings, client and parse caches,
the termination signal."""

from __future__ import annotations

import threading
import time as _time
import types
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .locks import BACKEND_LOCKS
from .sfn_map import _attach_item_batchers

if TYPE_CHECKING:
    from ..registry import RuntimeRegistry


def _install_sfn_start_execution_name(registry: RuntimeRegistry) -> None:
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original = StepFunctionsParserBackend.start_execution

    def start_execution(self, state_machine_arn, name=None, execution_input=None, trace_header=None):  # type: ignore[no-untyped-def]
        return original(self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header)

    StepFunctionsParserBackend.start_execution = start_execution  # type: ignore[method-assign]


def _install_sfn_sim_clock(registry: RuntimeRegistry) -> None:
    import moto.stepfunctions.parser.asl.component.state.state as state_mod
    import moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp as ts_mod
    import moto.stepfunctions.parser.asl.eval.event.event_manager as event_manager_mod
    import moto.stepfunctions.parser.backend.execution as execution_mod
    import moto.stepfunctions.parser.models as models_mod

    shim = registry.datetime_module()
    for mod in (models_mod, execution_mod, event_manager_mod, state_mod, ts_mod):
        mod.datetime = shim  # type: ignore[attr-defined]


def _install_sfn_fast_wait(registry: RuntimeRegistry) -> None:
    import moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback as cb
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

    active = registry.current

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
    """``time`` for the retrier: ``sleep`` advances the simulated clock when a runtime is current."""

    def __init__(self, registry: RuntimeRegistry) -> None:
        super().__init__("time")
        self._registry = registry

    def __getattr__(self, name: str) -> Any:
        return getattr(_time, name)

    def sleep(self, seconds: float) -> None:
        rt = self._registry.current()
        if rt is None or not rt.fast_waits:
            _time.sleep(seconds)
        else:
            rt.clock.advance(seconds)


def _install_sfn_fast_retry(registry: RuntimeRegistry) -> None:
    import moto.stepfunctions.parser.asl.component.common.retry.retrier_decl as retrier_mod

    retrier_mod.time = _FastTime(registry)  # type: ignore[assignment]


def _install_sfn_jsonata(registry: RuntimeRegistry) -> None:
    import jsonata
    import moto.stepfunctions.parser.asl.jsonata.jsonata as jsonata_mod

    def _eval(expression: str) -> Any:
        try:
            return jsonata.Jsonata(expression).evaluate(None)
        except Exception as exc:
            raise jsonata_mod.JSONataException("UNKNOWN", str(exc)) from exc

    jsonata_mod._eval_jsonata = _eval  # type: ignore[attr-defined]


def _install_sfn_sagemaker(registry: RuntimeRegistry) -> None:
    import moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_factory as factory

    from ..sfn_sagemaker import StateTaskServiceSageMaker

    original: Callable[..., Any] = factory.state_task_service_for

    def state_task_service_for(service_name: str):  # type: ignore[no-untyped-def]
        if service_name == "sagemaker":
            return StateTaskServiceSageMaker()
        return original(service_name=service_name)

    factory.state_task_service_for = state_task_service_for  # type: ignore[assignment]


def _install_sfn_client_cache(registry: RuntimeRegistry) -> None:
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
    from .. import sfn_sagemaker as sfn_sagemaker_mod

    sfn_sagemaker_mod.boto_client_for = boto_client_for  # type: ignore[attr-defined]


def warm_clients(region: str, services: tuple[str, ...] = (
    "lambda", "dynamodb", "sns", "sqs", "events", "stepfunctions", "sagemaker", "s3",
)) -> None:
    """Create the interpreter's cached clients up front (the first execution is then as fast as the rest)."""
    from moto.stepfunctions.parser.asl.utils import boto_client as boto_client_mod

    from .. import sfn_sagemaker as sfn_sagemaker_mod

    for service in services:
        sfn_sagemaker_mod.boto_client_for(region=region, service=service)
    _ = boto_client_mod


def _install_sfn_keyword_path_bindings(registry: RuntimeRegistry) -> None:
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


def _freeze_texts(tree: Any) -> None:
    """Mark every rule node of a parsed (never again modified) tree: its ``getText`` is remembered."""
    from antlr4 import ParserRuleContext

    stack = [tree]
    while stack:
        node = stack.pop()
        node._driftline_frozen = True
        stack.extend(c for c in node.children or () if isinstance(c, ParserRuleContext))


def _install_frozen_texts() -> None:
    """``RuleContext.getText`` of a frozen node (:func:`_freeze_texts`) computed once. The preprocessor builds
    its error messages eagerly (``props.get(..., raise_on_missing=ValueError(f"... {ctx.getText()}"))``): each
    program, branch and Map iterator re-joins its whole text twice per execution (≈15 of the ≈38 ms the pipeline's
    preprocessor took), though no error is raised. A node of a tree still being parsed is never frozen."""
    from antlr4.RuleContext import RuleContext

    if getattr(RuleContext.getText, "_driftline_memo", False):
        return
    original = RuleContext.getText

    def getText(self):  # type: ignore[no-untyped-def]
        d = self.__dict__
        text = d.get("_driftline_text")
        if text is None:
            text = original(self)
            if d.get("_driftline_frozen"):
                d["_driftline_text"] = text
        return text

    getText._driftline_memo = True  # type: ignore[attr-defined]
    getText._driftline_original = original  # type: ignore[attr-defined]
    RuleContext.getText = getText  # type: ignore[method-assign]


def _install_sfn_jsonpath_cache(registry: RuntimeRegistry) -> None:
    """JSONPath expressions parsed once per path text. moto parses each ``InputPath``/``OutputPath``/``ResultPath``
    and ``"x.$"`` path anew at every evaluation, and ``jsonpath_ng`` builds a fresh PLY parser (its LALR tables)
    for every parse: ≈0.33 ms a path, ~30 paths per pipeline execution. A parsed expression is only read
    (``find``, ``update_or_create`` change the data, not the expression), so one is shared; a path that fails
    to parse raises every time, as before."""
    import functools

    import moto.stepfunctions.parser.asl.component.common.path.result_path as result_path_mod
    import moto.stepfunctions.parser.asl.utils.json_path as json_path_mod

    active = registry.current

    def cached(original: Callable[[str], Any]) -> Callable[[str], Any]:
        memo = functools.lru_cache(maxsize=4096)(original)

        def parse(path: str) -> Any:
            return original(path) if active() is None or not isinstance(path, str) else memo(path)

        parse._driftline_original = original  # type: ignore[attr-defined]
        return parse

    json_path_mod.parse = cached(json_path_mod.parse)  # type: ignore[attr-defined]
    result_path_mod.parse = cached(result_path_mod.parse)  # type: ignore[attr-defined]


def _install_sfn_parse_cache(registry: RuntimeRegistry) -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    active = registry.current

    original = ExecutionWorker._get_evaluation_entrypoint
    trees, lock = _PARSE_TREES, _PARSE_LOCK
    _install_frozen_texts()

    # CreateStateMachine / UpdateStateMachine validate the definition by parsing it too (~0.5 CPU-s for the
    # pipeline): a definition already parsed reuses its tree (a test deploying the same template again parses
    # nothing); a definition that fails to parse raises as before and is not cached
    original_parse = AmazonStateLanguageParser.parse

    def parse(definition: str):  # type: ignore[no-untyped-def]
        if active() is None:
            return original_parse(definition)
        with lock:
            tree = trees.get(definition)
            if tree is not None:
                trees.move_to_end(definition)
        if tree is None:
            program, tree = original_parse(definition)
            _freeze_texts(tree)
            with lock:
                trees[definition] = tree
                while len(trees) > _PARSE_TREES_MAX:
                    trees.popitem(last=False)
            return program, tree
        return Preprocessor().visit(tree), tree

    AmazonStateLanguageParser.parse = staticmethod(parse)  # type: ignore[method-assign]

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
            _freeze_texts(tree)
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


def _install_sfn_termination_signal(registry: RuntimeRegistry) -> None:
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

    active = registry.current

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
