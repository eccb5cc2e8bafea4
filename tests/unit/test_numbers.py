"""The number boundary (``driftline_common.numbers``) and every writer that goes through it.

Property-based: floats of every kind (subnormals, 1e-300, 1e300, NaN, ±inf, -0.0) and Decimals (out of
DynamoDB's range, more than 38 digits, NaN/Infinity) through each target — DynamoDB items (boto3's own
serializer, which traps what DynamoDB cannot hold, against moto), EventBridge details, S3 JSON documents, the
Step Functions return value of a handler, the HTTP API's response body, CloudWatch metric values — and a static
scan that every ``json.dumps``/``json.dump`` under ``layers/`` and ``functions/`` refuses NaN.
"""

from __future__ import annotations

import ast
import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer
from driftline_common import numbers
from driftline_common.numbers import (
    NOTES_KEY,
    NumberNotRepresentable,
    dumps,
    metric_value,
    require_finite,
    to_dynamodb,
    to_dynamodb_item,
    to_json,
)
from driftline_common.settings import get_settings
from driftline_common.store import from_ddb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import REGION, ROOT
from tests.handlers._support import bus_recorder, drain

EDGES = [0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 1e-300, 1e-131, 1e-130, 9.99e-131, 2.7e-182,
         1e125, 9.999e125, 1e126, 1e300, -1e300, 1.7976931348623157e308, math.nan, math.inf, -math.inf,
         0.1, 1 / 3, 2.0**-360, 2.0**360, 2.0**361, 2.0**-361]
any_float = st.one_of(st.sampled_from(EDGES), st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True))
any_decimal = st.one_of(
    st.sampled_from([Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"), Decimal("1e-131"),
                     Decimal("1e126"), Decimal("-1e400"), Decimal("1." + "3" * 50), Decimal(10**40),
                     Decimal("9" * 39 + "e87"), Decimal("-0")]),
    st.decimals(allow_nan=True, allow_infinity=True),
)
any_number = st.one_of(any_float, any_decimal, st.integers(min_value=-(10**45), max_value=10**45))
documents = st.recursive(
    st.one_of(any_number, st.booleans(), st.none(), st.text(max_size=5)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text("abcxyz", min_size=1, max_size=3),
                                                                         inner, max_size=4)),
    max_leaves=12,
)
FAST = settings(deadline=None)
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def strict_loads(text: str) -> Any:
    """``json.loads`` that refuses the ``NaN``/``Infinity`` tokens Python would otherwise accept."""
    def refuse(token: str) -> Any:
        raise AssertionError(f"bare {token} in JSON")
    return json.loads(text, parse_constant=refuse)


def leaves(obj: Any) -> list[Any]:
    if isinstance(obj, dict):
        return [x for v in obj.values() for x in leaves(v)]
    if isinstance(obj, list):
        return [x for v in obj for x in leaves(v)]
    return [obj]


def ddb_ok(value: Any) -> None:
    """boto3 serializes it (its Decimal context traps Inexact/Rounded/Underflow/Overflow) and every number is in
    DynamoDB's range."""
    TypeSerializer().serialize(value)
    for x in leaves(value):
        if isinstance(x, Decimal):
            assert x.is_finite()
            assert x == 0 or Decimal("1e-130") <= abs(x) < Decimal("1e126"), x
            assert len(x.normalize().as_tuple().digits) <= 38


# ---------------------------------------------------------------------------------------------- conversions
@FAST
@given(any_float)
def test_json_keeps_every_finite_float_exactly_and_notes_the_rest(x: float) -> None:
    doc = strict_loads(dumps({"v": x}))
    if math.isfinite(x):
        assert doc["v"] == x
        assert math.copysign(1, doc["v"]) == math.copysign(1, x)
        assert NOTES_KEY not in doc
    else:
        assert doc["v"] is None
        assert doc[NOTES_KEY] == {"$.v": {"reason": "nan" if x != x else ("+inf" if x > 0 else "-inf")}}


@FAST
@given(any_number)
def test_dynamodb_value_is_storable_and_faithful(x: Any) -> None:
    value, notes = to_dynamodb(x)
    ddb_ok(value)
    finite = not isinstance(x, float | Decimal) or (math.isfinite(x) if isinstance(x, float) else x.is_finite())
    if not finite:
        assert value is None
        assert notes["$"]["reason"] in ("nan", "+inf", "-inf")
        return
    exact = Decimal(repr(x)) if isinstance(x, float) else Decimal(x)
    if exact == 0:
        assert value == 0
        assert not notes
    elif abs(exact) < Decimal("1e-130"):
        assert value == 0
        assert notes["$"]["reason"] == "underflow"
        assert notes["$"]["log10"] == pytest.approx(float(abs(exact).log10()), abs=1e-6)
    elif abs(exact) >= Decimal("1e126") or (value is None):
        assert value is None
        assert notes["$"]["reason"] == "overflow"
    else:
        # in range: equal to 38 significant digits (exact for every float), noted when rounded
        assert abs(value - exact) <= abs(exact) * Decimal("1e-37")
        assert (value != exact) == ("$" in notes and notes["$"]["reason"] == "rounded")


def test_the_decisive_p_value_is_stored_as_zero_with_its_log10() -> None:
    item = to_dynamodb_item({"modelId": "m", "comparison": {"pairedTest": {"mcnemar": {"pvalue": 2.7e-182}}}})
    assert item["comparison"]["pairedTest"]["mcnemar"]["pvalue"] == 0
    ddb_ok(item)
    assert from_ddb(item[NOTES_KEY]) == {"comparison": {"$.pairedTest.mcnemar.pvalue": {
        "reason": "underflow", "log10": pytest.approx(math.log10(2.7e-182), abs=1e-6), "value": "2.7e-182"}}}


@FAST
@given(documents)
def test_any_document_crosses_every_json_target(doc: Any) -> None:
    text = dumps(doc)
    back = strict_loads(text)
    for x in leaves(back):
        assert not isinstance(x, float) or math.isfinite(x)


def test_numpy_values_cross_the_boundary() -> None:
    np = pytest.importorskip("numpy")
    doc = {"a": np.float32(0.5), "b": np.array([1.0, np.nan]), "c": np.int64(3), "d": np.bool_(True)}
    assert to_json(doc) == {"a": 0.5, "b": [1.0, None], "c": 3, "d": True, NOTES_KEY: {"$.b[1]": {"reason": "nan"}}}
    value, notes = to_dynamodb(doc)
    ddb_ok(value)
    assert notes == {"$.b[1]": {"reason": "nan"}}


@FAST
@given(any_number)
def test_metric_values_are_what_cloudwatch_accepts(x: Any) -> None:
    v = metric_value(x)
    if isinstance(x, Decimal) and x.is_nan():
        assert v is None
        return
    f = float(x) if not isinstance(x, int) or abs(x) < 10**300 else math.inf
    if not math.isfinite(f) or abs(f) > 2.0**360:
        assert v is None
    else:
        assert v is not None
        assert math.isfinite(v)
        assert (v == 0.0 or 2.0**-360 <= abs(v) <= 2.0**360)
        assert v == (0.0 if abs(f) < 2.0**-360 else f)


def test_metrics_cross_the_cloudwatch_boundary() -> None:
    from driftline_common.observability import add_metric, metrics

    metrics.clear_metrics()
    try:
        assert [add_metric(f"m{i}", v) for i, v in enumerate([math.nan, math.inf, 1e300, 1e-200, 0.25])] == [
            False, False, False, True, True]
        assert {k: v["Value"] for k, v in metrics.metric_set.items()} == {"m3": [0.0], "m4": [0.25]}
    finally:
        metrics.clear_metrics()


def test_required_numbers_are_refused_when_not_finite() -> None:
    assert require_finite(Decimal("0.25"), "delta") == 0.25
    for bad in (math.nan, math.inf, "x", None):
        with pytest.raises(NumberNotRepresentable, match="delta must be a finite number"):
            require_finite(bad, "delta")


# ---------------------------------------------------------------------------------------------- the writers
@SLOW
@given(doc=documents, x=any_float)
def test_run_store_writes_any_numbers(stack_env: dict[str, str], doc: Any, x: float) -> None:
    from driftline_common.store import ModelStore, RunStore

    runs = RunStore(get_settings())
    runs.start("m", "r1", window={"start": "a", "end": "b"}, value=x)
    runs.update("m", "r1", comparison={"pvalue": x, "doc": doc}, metrics={"m": x})
    runs.update("m", "r1", other=doc)
    got = runs.get("m", "r1")
    _, notes = to_dynamodb(x)
    assert got[NOTES_KEY].get("metrics", {}) == {f"$.m{k[1:]}": v for k, v in notes.items()} or not notes
    if math.isfinite(x) and 1e-130 <= abs(x) < 1e126:
        assert got["comparison"]["pvalue"] == pytest.approx(x, rel=1e-15)
    ModelStore(get_settings()).put_state("m", {"champion": {"score": x}, "doc": doc})
    # an update replaces exactly the updated field's notes
    runs.update("m", "r1", metrics={"m": 1.0})
    assert "metrics" not in {k for k, v in runs.get("m", "r1")[NOTES_KEY].items() if v}


def test_update_creates_the_notes_of_a_run_written_before_notes_existed(stack_env: dict[str, str]) -> None:
    from driftline_common.store import RunStore

    runs = RunStore(get_settings())
    runs.table.put_item(Item={"modelId": "m", "runId": "old", "status": "RUNNING"})
    runs.update("m", "old", comparison={"pvalue": 2.7e-182}, status="SUCCEEDED")
    got = runs.get("m", "old")
    assert got["comparison"]["pvalue"] == 0
    assert got["status"] == "SUCCEEDED"
    assert got[NOTES_KEY]["comparison"]["$.pvalue"]["reason"] == "underflow"


@SLOW
@given(doc=documents)
def test_event_details_are_strict_json(stack_env: dict[str, str], doc: Any) -> None:
    from driftline_common.events import publish

    url = bus_recorder(stack_env["EVENT_BUS_NAME"])
    publish(get_settings(), "Challenger Evaluated", {"modelId": "m", "runId": "r", "doc": doc, "p": math.nan})
    sqs = boto3.client("sqs", region_name=REGION)
    msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    detail = strict_loads(msgs[-1]["Body"])["detail"]
    assert detail["p"] is None
    assert detail[NOTES_KEY]["$.p"] == {"reason": "nan"}
    drain(url)


@SLOW
@given(doc=documents)
def test_s3_documents_are_strict_json(stack_env: dict[str, str], doc: Any) -> None:
    from driftline_common.s3io import get_bytes, put_json

    uri = put_json(f"s3://{stack_env['DRIFTLINE_BUCKET']}/runs/m/r/x.json", {"doc": doc, "auc": -math.inf})
    back = strict_loads(get_bytes(uri).decode())
    assert back["auc"] is None
    assert back[NOTES_KEY]["$.auc"] == {"reason": "-inf"}


@FAST
@given(doc=documents)
def test_a_handlers_return_value_is_strict_json(doc: Any) -> None:
    from driftline_common.observability import task_boundary

    result = task_boundary(lambda event, context: {"doc": doc, "delta": math.nan})({}, None)
    back = strict_loads(json.dumps(result, allow_nan=False))
    assert back["delta"] is None
    assert back[NOTES_KEY]["$.delta"] == {"reason": "nan"}


def test_api_response_bodies_are_strict_json(stack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from api import logic
    from api.handler import lambda_handler
    from driftline_common.store import RunStore

    from tests.conftest import load_event
    from tests.handlers._support import Context

    RunStore(get_settings()).start("example-classifier", "run-2024-05-02-0001", metrics={"auc": 1e-300})
    monkeypatch.setattr(logic.Api, "get_run", lambda self, m, r: {"runId": r, "metrics": {"auc": math.nan},
                                                                   "p": Decimal("1e-400"), "q": 2.7e-182})
    event = load_event("api_get_run.json")
    resp = lambda_handler(event, Context())
    assert resp["statusCode"] == 200
    body = strict_loads(resp["body"])
    assert body["metrics"]["auc"] is None
    assert body["q"] == 2.7e-182
    assert body[NOTES_KEY]["$.metrics.auc"] == {"reason": "nan"}
    assert body[NOTES_KEY]["$.p"]["reason"] == "underflow"


# ---------------------------------------------------------------------------------------------- the static scan
def _json_writes_allowing_nan(path: Path, root: Path = ROOT) -> list[str]:
    """``file:line`` of every ``json.dump(s)`` call (also ``from json import dumps``) without ``allow_nan=False``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    from_json = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "json"
                 for a in n.names if a.name in ("dump", "dumps")}
    bad = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        is_json = (isinstance(func, ast.Attribute) and func.attr in ("dump", "dumps")
                   and isinstance(func.value, ast.Name) and func.value.id == "json") or (
                   isinstance(func, ast.Name) and func.id in from_json)
        refused = any(k.arg == "allow_nan" and isinstance(k.value, ast.Constant) and k.value.value is False
                      for k in node.keywords)
        if is_json and not refused:
            bad.append(f"{path.relative_to(root)}:{node.lineno}")
    return bad


def test_every_json_writer_refuses_nan() -> None:
    files = [p for d in ("layers", "functions") for p in (ROOT / d).rglob("*.py")]
    assert len(files) > 30
    offenders = [hit for p in files for hit in _json_writes_allowing_nan(p)]
    assert offenders == [], f"json.dumps/json.dump without allow_nan=False: {offenders}"


def test_the_scan_finds_writers_that_allow_nan(tmp_path: Path) -> None:
    (tmp_path / "writer.py").write_text(
        "import json\nfrom json import dumps as d\n"
        "x = json.dumps({'a': 1})\ny = json.dumps({'a': 1}, allow_nan=False)\nz = d(1)\n"
        "json.dump(1, open('f', 'w'), allow_nan=True)\n")
    assert _json_writes_allowing_nan(tmp_path / "writer.py", tmp_path) == ["writer.py:3", "writer.py:5", "writer.py:6"]


def test_the_boundary_module_passes_allow_nan_false() -> None:
    assert _json_writes_allowing_nan(Path(numbers.__file__), Path(numbers.__file__).parent) == []
