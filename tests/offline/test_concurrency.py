"""Functions run concurrently (each with its own environment) and moto's backends stay consistent meanwhile."""

from __future__ import annotations

import contextlib
import os
import sys
import threading

import boto3
import pytest
from botocore.exceptions import ClientError
from samlocal.lambda_runtime import FunctionSpec
from samlocal.moto_ext import BACKEND_LOCKS

HANDLER = '''
import os, threading, time

BARRIER = threading.Barrier(2, timeout=10)


def lambda_handler(event, context):
    BARRIER.wait()  # both functions are inside their handlers at the same time, or this raises
    seen = set()
    for _ in range(50):
        seen.add((os.environ["WHO"], os.getenv("AWS_LAMBDA_FUNCTION_NAME"), "WHO" in dict(os.environ)))
        time.sleep(0.002)
    os.environ["SET_BY_HANDLER"] = os.environ["WHO"]
    return sorted(seen)


ACTIVE = {}
MOST = {}


def one_at_a_time(event, context):
    who = os.environ["WHO"]
    ACTIVE[who] = ACTIVE.get(who, 0) + 1
    MOST[who] = max(MOST.get(who, 0), ACTIVE[who])
    time.sleep(0.02)
    ACTIVE[who] -= 1
    return MOST[who]
'''


@pytest.fixture
def two_functions(stack, tmp_path):
    pkg = tmp_path / "fx_concurrent"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "handler.py").write_text(HANDLER)
    for who in ("a", "b"):
        stack.runtime.lambdas.register(FunctionSpec(
            logical_id=f"Fn{who.upper()}", function_name=f"fx-{who}", handler="fx_concurrent.handler.lambda_handler",
            code_dir=tmp_path, environment={"WHO": who}))
    yield stack
    for name in ("fx_concurrent.handler", "fx_concurrent"):
        sys.modules.pop(name, None)


def test_functions_run_at_once_each_seeing_its_own_environment(two_functions):
    results, errors = {}, []

    def call(who):
        try:
            results[who] = two_functions.invoke(f"Fn{who.upper()}", {})
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(w,)) for w in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert errors == []  # a serialised runtime breaks the barrier (the second call waits for the first)
    assert results == {"a": [("a", "fx-a", True)], "b": [("b", "fx-b", True)]}
    # the process environment is untouched by what the functions had or set
    assert "WHO" not in os.environ
    assert "SET_BY_HANDLER" not in os.environ
    assert os.environ.get("AWS_LAMBDA_FUNCTION_NAME") is None


def test_one_function_runs_one_invocation_at_a_time(two_functions):
    # Lambda never hands two concurrent invocations to one sandbox: module state (Powertools' metric buffer,
    # logger keys) belongs to one invocation at a time, as it does here
    for who in ("a", "b"):
        spec = two_functions.runtime.lambdas.find(f"Fn{who.upper()}")
        spec.handler, spec._callable = "fx_concurrent.handler.one_at_a_time", None
    errors = []

    def call(who):
        try:
            two_functions.invoke(f"Fn{who.upper()}", {})
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(w,)) for w in "abababab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert errors == []
    assert sys.modules["fx_concurrent.handler"].MOST == {"a": 1, "b": 1}


def test_conditional_writes_stay_atomic_under_concurrent_calls(stack, monkeypatch):
    import moto.dynamodb.models.table as table_mod

    ddb = boto3.client("dynamodb", region_name="us-east-1")
    ddb.create_table(TableName="fx-locks", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    real = table_mod.get_filter_expression
    gate = threading.Barrier(6, timeout=0.5)

    def slow_condition(*args, **kwargs):  # every writer reaches the check before any writes, unless serialised
        with contextlib.suppress(threading.BrokenBarrierError):
            gate.wait()
        return real(*args, **kwargs)

    monkeypatch.setattr(table_mod, "get_filter_expression", slow_condition)
    won, lost = [], []

    def acquire(i):
        try:
            ddb.put_item(TableName="fx-locks", Item={"pk": {"S": "model-1"}, "owner": {"N": str(i)}},
                         ConditionExpression="attribute_not_exists(pk)")
            won.append(i)
        except ClientError as exc:
            lost.append(exc.response["Error"]["Code"])

    threads = [threading.Thread(target=acquire, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert len(won) == 1, won
    assert lost == ["ConditionalCheckFailedException"] * 5
    item = ddb.get_item(TableName="fx-locks", Key={"pk": {"S": "model-1"}})["Item"]
    assert item["owner"]["N"] == str(won[0])


def test_backend_lock_is_held_per_call_only(stack):
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    s3 = boto3.client("s3", region_name="us-east-1")
    lock = BACKEND_LOCKS["DynamoDBBackend"]
    done = threading.Event()

    def list_tables():
        ddb.list_tables()
        done.set()

    with lock:  # another thread's DynamoDB call waits for the lock...
        t = threading.Thread(target=list_tables)
        t.start()
        assert not done.wait(0.3)
        s3.list_buckets()  # ...while the other backends are free
    assert done.wait(10)
    t.join(10)


def test_s3_notifications_run_their_functions_outside_the_s3_lock(stack):
    # the function an S3 write triggers runs after the write has released the S3 lock: another thread's S3 call
    # (here: taking the lock) goes ahead while the function runs, so a function waiting on one cannot deadlock
    lock = BACKEND_LOCKS["S3Backend"]
    seen = []

    def handler(event, context):
        got = []

        def probe():
            if lock.acquire(timeout=2):
                lock.release()
                got.append(True)

        t = threading.Thread(target=probe)
        t.start()
        t.join(5)
        seen.append((event["detail"]["object"]["key"], got == [True]))
        return {}

    stack.runtime.lambdas.find("Scorer")._callable = handler
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.put_object(Bucket=stack.resource("DataBucket"), Key="ground-truth/m1/2024-01-01.jsonl", Body=b"{}\n")
    # delivered before put_object returned (as moto delivers), and outside the lock
    assert seen == [("ground-truth/m1/2024-01-01.jsonl", True)]


def test_concurrent_starts_of_one_execution_name_start_it_once(stack, monkeypatch):
    import json

    from moto.stepfunctions.models import StateMachine

    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    machine = sfn.create_state_machine(
        name="fx-once", roleArn="arn:aws:iam::123456789012:role/driftline-offline-execution-role",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
    real = StateMachine._handle_name_input_idempotency
    gate = threading.Barrier(4, timeout=0.5)

    def check_then_wait(self, name, execution_input):  # every start passes the check before any records itself
        found = real(self, name, execution_input)
        with contextlib.suppress(threading.BrokenBarrierError):
            gate.wait()
        return found

    monkeypatch.setattr(StateMachine, "_handle_name_input_idempotency", check_then_wait)
    arns, errors = [], []

    def start():
        try:
            arns.append(sfn.start_execution(stateMachineArn=machine, name="run-1", input="{}")["executionArn"])
        except ClientError as exc:
            errors.append(exc.response["Error"]["Code"])

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    # one execution; each other start got it back (still running) or ExecutionAlreadyExists (it had ended), as on AWS
    assert len(set(arns)) == 1
    assert len(arns) + len(errors) == 4
    assert set(errors) <= {"ExecutionAlreadyExists"}
    assert len(sfn.list_executions(stateMachineArn=machine)["executions"]) == 1


def test_drain_waits_for_an_invocation_still_in_flight(two_functions):
    # a failed Parallel leaves its other branch's task running: closing the stack must wait for it, or it writes
    # into the next stack's moto backends
    spec = two_functions.runtime.lambdas.find("FnA")
    lambdas = two_functions.runtime.lambdas
    started, release = threading.Event(), threading.Event()

    def hold():
        with spec._sandbox:  # what an invocation holds for its whole duration
            started.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    started.wait(10)
    assert lambdas.drain(timeout=0.2) is False  # in flight: not drained
    release.set()
    assert lambdas.drain(timeout=10) is True
    holder.join(10)



def _three_functions(stack, tmp_path, handler):
    """Three distinct functions (each its own sandbox) running ``handler`` and a machine calling the one named in
    the input; returns the machine's ARN."""
    import json

    for i in range(3):
        spec = FunctionSpec(logical_id=f"Bg{i}", function_name=f"fx-bg-{i}", handler="fx_bg.handler.run",
                            code_dir=tmp_path)
        spec._callable = handler
        stack.runtime.lambdas.register(spec)
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    return sfn.create_state_machine(
        name="fx-bg", roleArn="arn:aws:iam::123456789012:role/offline-execution-role",
        definition=json.dumps({"StartAt": "Step", "States": {"Step": {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName.$": "$.fn", "Payload.$": "$"}, "OutputPath": "$.Payload", "End": True}}}),
    )["stateMachineArn"]


def _start_three(stack, machine):
    import json

    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    return [sfn.start_execution(stateMachineArn=machine, input=json.dumps({"i": i, "fn": f"fx-bg-{i}"}))[
        "executionArn"] for i in range(3)]


def test_background_invocations_wait_for_a_slot_and_foreground_ones_never_do(tmp_path):
    """With one background slot, state machine tasks run one at a time; a direct (API) invocation runs meanwhile."""
    import json
    import time

    from driftline_offline import OfflineStack

    from .conftest import T0, TEMPLATE

    with OfflineStack.running(TEMPLATE, clock=T0, background_slots=1) as stack:
        lock = threading.Lock()
        state = {"active": 0, "most": 0}
        started, release = threading.Event(), threading.Event()

        def slow_step(event, context):
            with lock:
                state["active"] += 1
                state["most"] = max(state["most"], state["active"])
            started.set()
            release.wait(30)
            time.sleep(0.05)
            with lock:
                state["active"] -= 1
            return {"done": event.get("i")}

        machine = _three_functions(stack, tmp_path, slow_step)
        stack.runtime.lambdas.find("Approver")._callable = lambda event, context: {"answered": True}
        arns = _start_three(stack, machine)
        try:
            assert started.wait(30)
            time.sleep(0.3)  # the other two executions reach their task and wait for the slot
            assert state["active"] == 1
            t0 = time.perf_counter()
            assert stack.invoke("Approver", {}) == {"answered": True}  # foreground: no slot needed
            assert time.perf_counter() - t0 < 5
        finally:
            release.set()
        outs = [stack.wait_execution(arn, timeout=60) for arn in arns]
        assert [o["status"] for o in outs] == ["SUCCEEDED"] * 3, outs
        assert sorted(json.loads(o["output"])["done"] for o in outs) == [0, 1, 2]
        assert state["most"] == 1


def test_without_a_bound_background_invocations_run_at_once(stack, tmp_path):
    """The default (no bound): the three tasks are inside their handlers together (the test above can fail)."""
    barrier = threading.Barrier(3, timeout=20)

    def step(event, context):
        barrier.wait()
        return {"done": event.get("i")}

    machine = _three_functions(stack, tmp_path, step)
    outs = [stack.wait_execution(arn, timeout=60) for arn in _start_three(stack, machine)]
    assert [o["status"] for o in outs] == ["SUCCEEDED"] * 3, outs


def test_oldest_first_slots_serve_the_lowest_key_not_the_first_arrival():
    from samlocal.lambda_runtime import OldestFirstSlots

    slots = OldestFirstSlots(1)
    slots.acquire(0)
    order: list[int] = []
    threads = []
    for key in (7, 3, 5):  # arrive in this order while the slot is held
        t = threading.Thread(target=lambda k=key: (slots.acquire(k), order.append(k), slots.release()))
        t.start()
        threads.append(t)
        while slots.waiting() < len(threads):
            threading.Event().wait(0.005)
    slots.release()
    for t in threads:
        t.join(10)
    assert order == [3, 5, 7]


def test_executions_started_first_get_the_background_slot_first(tmp_path):
    """Three executions of a three-task machine started at once with one slot: while the first task to arrive
    holds the slot, the other two executions' first tasks wait; the older execution's goes first, whichever
    arrived first. (Only that is deterministic: once a task returns, its execution's next task races the woken
    waiter for the slot. The ordering itself: ``test_oldest_first_slots_serve_the_lowest_key_not_the_first_arrival``.)
    """
    import json
    import time

    from driftline_offline import OfflineStack

    from .conftest import T0, TEMPLATE

    with OfflineStack.running(TEMPLATE, clock=T0, background_slots=1) as stack:
        order: list[tuple[int, int]] = []
        first = threading.Event()
        release = threading.Event()

        def step(event, context):
            i = event["i"]
            if not first.is_set():
                first.set()
                release.wait(30)  # hold the only slot until the other executions wait for it
            order.append((i, event["step"]))
            return {"i": i, "step": event["step"] + 1}

        for i in range(3):
            spec = FunctionSpec(logical_id=f"Old{i}", function_name=f"fx-old-{i}", handler="fx_old.handler.run",
                                code_dir=tmp_path)
            spec._callable = step
            stack.runtime.lambdas.register(spec)

        def task(n: int, nxt: str | None) -> dict[str, object]:
            state: dict[str, object] = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                                        "Parameters": {"FunctionName": f"fx-old-{n}", "Payload.$": "$"},
                                        "OutputPath": "$.Payload"}
            state.update({"Next": nxt} if nxt else {"End": True})
            return state

        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        machine = sfn.create_state_machine(
            name="fx-oldest", roleArn="arn:aws:iam::123456789012:role/offline-execution-role",
            definition=json.dumps({"StartAt": "S0", "States": {"S0": task(0, "S1"), "S1": task(1, "S2"),
                                                                "S2": task(2, None)}}))["stateMachineArn"]
        arns = [sfn.start_execution(stateMachineArn=machine, input=json.dumps({"i": i, "step": 0}))["executionArn"]
                for i in range(3)]
        try:
            assert first.wait(30)
            deadline = time.monotonic() + 30
            while stack.runtime.lambdas._slots.waiting() < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert stack.runtime.lambdas._slots.waiting() == 2
            arrivals = [key for key, _ in sorted(stack.runtime.lambdas._slots._waiting, key=lambda e: e[1])]
        finally:
            release.set()
        outs = [stack.wait_execution(arn, timeout=60) for arn in arns]
        assert [o["status"] for o in outs] == ["SUCCEEDED"] * 3, outs
        assert sorted(order) == [(i, s) for i in range(3) for s in range(3)]
        assert order[0][1] == 0
        older, newer = sorted({0, 1, 2} - {order[0][0]})  # the two that waited while the first task held the slot
        assert order.index((older, 0)) < order.index((newer, 0)), (order, arrivals)
