"""Extensions ``lambda_dispatch`` and ``events_delivery``: Lambda invocations and EventBridge deliveries run the
current runtime's functions and state machines (see :mod:`samlocal.moto_ext`)."""

from __future__ import annotations

import copy
import datetime as _dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..registry import RuntimeRegistry


def _install_lambda_dispatch(registry: RuntimeRegistry) -> None:
    from moto.awslambda_simple.models import LambdaSimpleBackend

    active = registry.current

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

    # a state machine's Lambda task waits for a background slot with its execution's ticket (oldest execution
    # first, see samlocal.lambda_runtime); the execution takes its ticket when it starts
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original_task = lambda_eval_utils.execute_lambda_function_integration

    def execute_lambda_function_integration(env, parameters, region, state_credentials):  # type: ignore[no-untyped-def]
        rt = active()
        if rt is None:
            return original_task(env=env, parameters=parameters, region=region, state_credentials=state_credentials)
        execution_arn = env.states.context_object.context_object_data["Execution"]["Id"]
        with rt.lambdas.priority(rt.lambdas.ticket(execution_arn)):
            return original_task(env=env, parameters=parameters, region=region, state_credentials=state_credentials)

    lambda_eval_utils.execute_lambda_function_integration = execute_lambda_function_integration

    original_start = StepFunctionsParserBackend.start_execution

    def start_execution(self, state_machine_arn, name=None, execution_input=None, trace_header=None):  # type: ignore[no-untyped-def]
        execution = original_start(self, state_machine_arn, name, execution_input, trace_header)
        rt = active()
        if rt is not None:
            rt.lambdas.ticket(execution.execution_arn)
        return execution

    StepFunctionsParserBackend.start_execution = start_execution  # type: ignore[method-assign]


# ---------------------------------------------------------------------------------------------------
# EventBridge
# ---------------------------------------------------------------------------------------------------
def _install_events_delivery(registry: RuntimeRegistry) -> None:
    from moto.events.exceptions import ValidationException
    from moto.events.models import EventsBackend, Rule

    active = registry.current

    from ..clock import iso_z
    from ..eventbridge import MAX_PUT_EVENTS_BYTES, PUT_EVENTS_TOO_LARGE, put_events_entry_size

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
