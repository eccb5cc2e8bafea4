"""The runtime of one stack: its clock, its functions, its EventBridge deliveries and its local SageMaker.

A stack (:class:`samlocal.stack.OfflineStack`) makes its runtime the current one of a
:class:`~samlocal.registry.RuntimeRegistry`; the patches of :mod:`samlocal.moto_ext` ask that registry for it and
fall back to moto's own behaviour when there is none or a name is unknown to it. This module knows nothing of the
extensions.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from datetime import datetime
from typing import Any

from .clock import SimClock
from .eventbridge import TargetInputError, render_input
from .lambda_runtime import HandlerError, LambdaRegistry
from .sagemaker_local import LocalSageMaker

__all__ = ["OfflineRuntime"]

LOG = logging.getLogger("samlocal")


class OfflineRuntime:
    """Clock, function registry, EventBridge delivery log and local SageMaker of one stack."""

    def __init__(
        self,
        *,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        clock: SimClock | None = None,
        fast_waits: bool = True,
        history: int = 1000,
        datetime_class: type[datetime] | None = None,
        background_slots: int | None = None,
    ) -> None:
        self.region = region
        self.account_id = account_id
        self.clock = clock or SimClock()
        self.fast_waits = fast_waits
        self.lambdas = LambdaRegistry(
            region=region, account_id=account_id, history=history, datetime_class=datetime_class,
            background_slots=background_slots,
        )
        #: the newest EventBridge deliveries (rule, target, event, input, result or error)
        self.deliveries: deque[dict[str, Any]] = deque(maxlen=history)
        self.started_executions: list[str] = []
        self.sagemaker = LocalSageMaker(self)
        self._lock = threading.Lock()
        #: notified (``terminations`` incremented) whenever an execution of this runtime's moto ends
        self.execution_ended = threading.Condition()
        self.terminations = 0

    # -- EventBridge targets ---------------------------------------------------------------------
    def deliver(self, *, rule_name: str, rule_arn: str, target: dict[str, Any], event: dict[str, Any]) -> bool:
        """Deliver ``event`` to a Step Functions or Lambda ``target``; ``False`` if not ours."""
        arn = str(target.get("Arn", ""))
        parts = arn.split(":")
        service = parts[2] if len(parts) > 2 else ""
        if service not in ("states", "lambda"):
            return False
        record: dict[str, Any] = {"rule": rule_name, "target": target.get("Id"), "arn": arn, "event": event}
        try:
            payload = render_input(target, event, rule_name=rule_name, rule_arn=rule_arn)
            record["input"] = payload
            if service == "states":
                record["execution_arn"] = self.start_execution(arn, payload)
            else:
                record["result"] = self.lambdas.invoke(arn, payload, background=True)
        except HandlerError as err:
            record["error"] = err.envelope
            self._dead_letter(target, event, err.envelope)
        except (TargetInputError, KeyError, ValueError) as exc:
            record["error"] = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
            self._dead_letter(target, event, record["error"])
        with self._lock:
            self.deliveries.append(record)
        if "error" in record:
            LOG.warning("EventBridge delivery %s -> %s failed: %s", rule_name, arn, record["error"])
        return True

    def _dead_letter(self, target: dict[str, Any], event: dict[str, Any], error: dict[str, Any]) -> None:
        dlq = (target.get("DeadLetterConfig") or {}).get("Arn")
        if not dlq:
            return
        from moto.sqs.models import sqs_backends

        queue_name = dlq.split(":")[-1]
        sqs_backends[self.account_id][self.region].send_message(
            queue_name=queue_name,
            message_body=json.dumps(event),
            message_attributes={
                "ERROR_CODE": {"DataType": "String", "StringValue": str(error.get("errorType"))},
                "ERROR_MESSAGE": {"DataType": "String", "StringValue": str(error.get("errorMessage"))[:256]},
            },
        )

    def start_execution(self, state_machine_arn: str, payload: Any, name: str | None = None) -> str:
        """Start an execution through moto's Step Functions backend; return its ARN."""
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        backend = stepfunctions_parser_backends[self.account_id][self.region]
        text = payload if isinstance(payload, str) else json.dumps(payload)
        execution = backend.start_execution(state_machine_arn, name, text)
        with self._lock:
            self.started_executions.append(execution.execution_arn)
        return execution.execution_arn

    def execution_terminated(self) -> None:
        """Called by the ``sfn_termination_signal`` extension when an execution has ended."""
        with self.execution_ended:
            self.terminations += 1
            self.execution_ended.notify_all()

    def now(self) -> datetime:
        return self.clock.now()
