"""Deploy a SAM template into moto in-process and run it.

Example
-------
::

    with OfflineStack.running("template.yaml", parameters={"Stage": "dev"}) as stack:
        arn = stack.start_execution({"modelId": "m1"})
        out = stack.wait_execution(arn)
        assert out["status"] == "SUCCEEDED"

Every resource is created with real boto3 calls against moto. Resource types the offline runtime
does not need are *recorded* in :attr:`OfflineStack.skipped` with the reason, never silently
mis-handled; an unknown type is recorded too (and reported by :meth:`OfflineStack.report`).
"""

from __future__ import annotations

import contextlib
import copy
import gc
import json
import os
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from . import moto_ext
from .cfn_yaml import load_template
from .clock import SimClock
from .eventbridge import scheduled_event
from .intrinsics import IntrinsicError, Resolver
from .lambda_runtime import HandlerError
from .registry import RuntimeRegistry
from .resources import _ORDER, StackError, StackResources, _merge_globals, _Res, _ScheduleEntry
from .runtime import OfflineRuntime

__all__ = ["REGISTRY", "OfflineStack", "StackError", "offline_aws"]

REGION = "us-east-1"
ACCOUNT = "123456789012"
MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}

_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}

_CLIENTS: dict[tuple[str, str], Any] = {}
#: the registry this process's stacks activate their runtime in; the moto extensions are installed with it
REGISTRY = RuntimeRegistry()


@contextlib.contextmanager
def offline_aws() -> Iterator[None]:
    """moto's ``mock_aws`` with the offline config, fake credentials and region us-east-1."""
    from moto import mock_aws

    saved = {k: os.environ.get(k) for k in _FAKE_CREDENTIALS}
    os.environ.update(_FAKE_CREDENTIALS)
    try:
        with mock_aws(config=MOTO_CONFIG):
            yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class OfflineStack(StackResources):
    """A SAM template deployed into moto (use inside :func:`offline_aws`)."""

    #: the stack name when :meth:`deploy` is given none (names of resources without an explicit name derive from it)
    DEFAULT_STACK_NAME = "samlocal"

    def __init__(self, template_path: Path, root: Path, runtime: OfflineRuntime, stack_name: str) -> None:
        import boto3

        self.template_path = template_path
        self.root = root
        self.runtime = runtime
        self.stack_name = stack_name
        self.region, self.account_id = runtime.region, runtime.account_id
        self.resources: dict[str, _Res] = {}
        self.outputs: dict[str, Any] = {}
        self.skipped: dict[str, str] = {}
        self.apis: list[dict[str, Any]] = []
        self.schedules: list[_ScheduleEntry] = []
        self.state_machines: dict[str, str] = {}
        self.layers: dict[str, Path] = {}
        self._boto3 = boto3

    # ---------------------------------------------------------------------------------------------
    @classmethod
    def deploy(
        cls,
        template_path: str | Path,
        parameters: dict[str, Any] | None = None,
        clock: SimClock | datetime | None = None,
        root: str | Path | None = None,
        *,
        stack_name: str | None = None,
        imports: dict[str, Any] | None = None,
        fast_waits: bool = True,
        background_slots: int | None = None,
    ) -> OfflineStack:
        """Create every resource of the template in the active moto mock.

        ``background_slots``: at most that many functions invoked through the Lambda service (state machine tasks,
        event targets) run at once; direct invocations (:meth:`invoke`, the HTTP API) never wait for one
        (:class:`~samlocal.lambda_runtime.LambdaRegistry`). ``None``: no bound.
        """
        template_path = Path(template_path).resolve()
        root_dir = Path(root).resolve() if root else template_path.parent
        if isinstance(clock, datetime):
            clock = SimClock(clock)
        runtime = OfflineRuntime(region=REGION, account_id=ACCOUNT, clock=clock, fast_waits=fast_waits,
                                 datetime_class=REGISTRY.datetime, background_slots=background_slots)
        stack = cls(template_path, root_dir, runtime, stack_name or cls.DEFAULT_STACK_NAME)
        moto_ext.install(REGISTRY)
        REGISTRY.activate(runtime)
        moto_ext.warm_clients(REGION)
        stack._deploy(load_template(template_path), parameters or {}, imports or {})
        stack.freeze_heap()
        return stack

    @classmethod
    @contextlib.contextmanager
    def running(cls, template_path: str | Path, **kwargs: Any) -> Iterator[OfflineStack]:
        """``offline_aws()`` + :meth:`deploy`, closed on exit."""
        with offline_aws():
            stack = cls.deploy(template_path, **kwargs)
            try:
                yield stack
            finally:
                stack.close()

    def close(self) -> None:
        self.runtime.lambdas.drain()
        self.runtime.sagemaker.close()
        REGISTRY.deactivate(self.runtime)
        gc.unfreeze()  # what freeze_heap() set aside is collectable again

    @staticmethod
    def freeze_heap() -> None:
        """Move every object alive now out of the garbage collector's scans (:func:`gc.freeze`) until :meth:`close`.

        The process hosts moto, botocore's service models (~200 000 ``OrderedDict``), the handlers' modules and
        the seeded data: ~500 000 long-lived objects, which made an occasional full collection pause a
        pipeline run by ~0.3 s. Called after :meth:`deploy` and by ``scenario.seed_example``; cheap (no scan).
        """
        gc.freeze()

    def client(self, service: str) -> Any:
        """A boto3 client (cached per process: creating one costs ~15 ms; moto intercepts them all)."""
        key = (service, self.region)
        if key not in _CLIENTS:
            _CLIENTS[key] = self._boto3.client(service, region_name=self.region)
        return _CLIENTS[key]

    # ---------------------------------------------------------------------------------------------
    def _deploy(self, template: dict[str, Any], parameters: dict[str, Any], imports: dict[str, Any]) -> None:
        params = {}
        for name, spec in (template.get("Parameters") or {}).items():
            if name in parameters:
                value = parameters[name]
            elif "Default" in spec:
                value = spec["Default"]
            else:
                raise StackError(f"parameter {name!r} has no default and no value was given")
            allowed = spec.get("AllowedValues")
            if allowed and value not in allowed:
                raise StackError(f"parameter {name!r}={value!r} not in AllowedValues {allowed}")
            if str(spec.get("Type", "")).startswith("List<") or spec.get("Type") == "CommaDelimitedList":
                value = value.split(",") if isinstance(value, str) else value
            params[name] = value
        self.parameters = params
        self.resolver = Resolver(
            parameters=params,
            conditions=template.get("Conditions"),
            mappings=template.get("Mappings"),
            region=self.region,
            account_id=self.account_id,
            stack_name=self.stack_name,
            ref=self._ref,
            get_att=self._get_att,
            imports=imports,
        )
        globals_fn = (template.get("Globals") or {}).get("Function") or {}
        for logical_id, raw in (template.get("Resources") or {}).items():
            cond = raw.get("Condition")
            if cond and not self.resolver.condition(cond):
                self.skipped[logical_id] = f"condition {cond} is false"
                continue
            props = copy.deepcopy(raw.get("Properties") or {})
            if raw["Type"] == "AWS::Serverless::Function":
                props = _merge_globals(globals_fn, props)
            self.resources[logical_id] = _Res(logical_id, raw["Type"], props, raw)
        order = {t: i for i, t in enumerate(_ORDER)}
        for res in sorted(self.resources.values(), key=lambda r: order.get(r.type, len(order))):
            try:
                self._create(res)
            except IntrinsicError as exc:
                raise StackError(f"{res.logical_id} ({res.type}): {exc}") from exc
        for name, out in (template.get("Outputs") or {}).items():
            cond = out.get("Condition")
            if cond and not self.resolver.condition(cond):
                continue
            self.outputs[name] = self.resolver.resolve(out.get("Value"))

    # -- public API ------------------------------------------------------------------------------
    def resource(self, logical_id: str) -> Any:
        """Physical id / ARN of a resource (what ``!Ref`` gives)."""
        return self._ref(logical_id)

    def attribute(self, logical_id: str, attribute: str) -> Any:
        return self._get_att(logical_id, attribute)

    @property
    def state_machine_arn(self) -> str:
        if len(self.state_machines) != 1:
            raise StackError(f"{len(self.state_machines)} state machines; pass state_machine=")
        return next(iter(self.state_machines.values()))

    def invoke(self, logical_id: str, event: Any) -> Any:
        """Invoke a function in-process; raises the handler's own exception."""
        try:
            return self.runtime.lambdas.invoke(logical_id, event)
        except HandlerError as err:
            raise err.original from None

    def start_execution(self, input: Any = None, name: str | None = None, state_machine: str | None = None) -> str:
        arn = self.resource(state_machine) if state_machine else self.state_machine_arn
        kwargs: dict[str, Any] = {"stateMachineArn": arn, "input": json.dumps(input if input is not None else {})}
        if name:
            kwargs["name"] = name
        return self.client("stepfunctions").start_execution(**kwargs)["executionArn"]

    def wait_execution(self, arn: str, timeout: float = 30.0) -> dict[str, Any]:
        """``describe_execution`` once the execution has left RUNNING (``TimeoutError`` after ``timeout`` s).

        Waits on the runtime's ``execution_ended`` condition (notified by the ``sfn_termination_signal``
        extension) rather than polling; the status is re-read at least every 0.5 s in any case.
        """
        sfn = self.client("stepfunctions")
        rt = self.runtime
        deadline = time.monotonic() + timeout
        while True:
            with rt.execution_ended:
                seen = rt.terminations  # read before describing: an end in between is not missed
            out = sfn.describe_execution(executionArn=arn)
            if out["status"] != "RUNNING":
                return out
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"execution {arn} still RUNNING after {timeout} s")
            with rt.execution_ended:
                rt.execution_ended.wait_for(lambda seen=seen: rt.terminations != seen, timeout=min(remaining, 0.5))

    def history(self, arn: str) -> list[dict[str, Any]]:
        return self.client("stepfunctions").get_execution_history(executionArn=arn, maxResults=1000)["events"]

    def put_events(self, entries: list[dict[str, Any]]) -> dict[str, Any]:
        """``events.put_events`` through boto3 (delivered to matching rules' targets)."""
        entries = [
            {**e, "Detail": e["Detail"] if isinstance(e.get("Detail"), str) else json.dumps(e.get("Detail", {})),
             "EventBusName": self._bus_name(e["EventBusName"]) if e.get("EventBusName") in self.resources
             else e.get("EventBusName", "default")}
            for e in entries
        ]
        return self.client("events").put_events(Entries=entries)

    def fire_schedules(self, now: datetime | None = None, *, wait: bool = True, timeout: float = 60.0) -> list[str]:
        """Fire every schedule due exactly at ``now`` (default: the clock's now)."""
        now = now or self.runtime.clock.now()
        return self._fire(now - _EPS, now, wait=wait, timeout=timeout)

    def advance_clock(self, to: datetime, *, wait: bool = True, timeout: float = 60.0) -> list[str]:
        """Move the clock to ``to``, firing due schedules in time order; returns execution ARNs."""
        return self._fire(self.runtime.clock.now(), to, wait=wait, timeout=timeout)

    def _fire(self, after: datetime, until: datetime, *, wait: bool, timeout: float) -> list[str]:
        if until.tzinfo is None:
            from datetime import UTC

            until = until.replace(tzinfo=UTC)
        due: list[tuple[datetime, int, _ScheduleEntry]] = []
        for i, s in enumerate(self.schedules):
            if s.enabled:
                due.extend((t, i, s) for t in s.schedule.fire_times(after, until, anchor=s.anchor))
        due.sort(key=lambda x: (x[0], x[1]))
        arns: list[str] = []
        for t, _, s in due:
            self.runtime.clock.set(t)
            before = len(self.runtime.started_executions)
            event = scheduled_event(rule_arn=s.rule_arn, time=t, account=self.account_id, region=self.region)
            self.runtime.deliver(rule_name=s.name, rule_arn=s.rule_arn, target=s.target, event=event)
            new = self.runtime.started_executions[before:]
            arns.extend(new)
            if wait:
                for arn in new:
                    self.wait_execution(arn, timeout)
        self.runtime.clock.set(until)
        return arns

    def report(self) -> dict[str, Any]:
        return {
            "resources": {k: r.type for k, r in self.resources.items() if r.raw},
            "skipped": dict(self.skipped),
            "schedules": [s.schedule.expression for s in self.schedules],
            "apis": self.apis,
        }


from datetime import timedelta as _timedelta  # noqa: E402

_EPS = _timedelta(microseconds=1)


