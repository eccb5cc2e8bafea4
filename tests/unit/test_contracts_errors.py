"""The error names the state machine matches come from one place (``driftline_common.contracts.pipeline``).

Both ways: every name in the ASL's ``Retry``/``Catch`` is a Driftline error class (or a reserved ``States.*`` /
service error), each Lambda task's domain ``Catch`` names exactly :data:`CAUGHT`, the retrying states retry
exactly :data:`RETRIED`; and every Driftline error a pipeline function's code raises is caught by name, retried,
or handled inside the function — so a new error class cannot be forgotten by the ASL.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

from driftline_common import errors
from driftline_common.contracts import pipeline
from driftline_common.events import EventPublishError

ROOT = Path(__file__).resolve().parents[2]
ASL = json.loads((ROOT / "statemachines" / "pipeline.asl.json").read_text())
RESERVED = ("States.", "Lambda.", "SageMaker.")
#: the code the state machine runs: its functions and the layers they import
PIPELINE_CODE = [*(ROOT / "functions" / f for f in ("metric_evaluator", "drift_checker", "retrain_launcher",
                                                      "deployer")), ROOT / "layers" / "common"]
CLASSES = {c.__name__: c for c in [*vars(errors).values(), EventPublishError]
           if isinstance(c, type) and issubclass(c, errors.DriftlineError) and c is not errors.DriftlineError}


def _tasks(states: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for name, state in states.items():
        out.append((name, state))
        for branch in state.get("Branches", []):
            out += _tasks(branch["States"])
        if "ItemProcessor" in state:
            out += _tasks(state["ItemProcessor"]["States"])
    return out


STATES = _tasks(ASL["States"])


def _names(rules: list[dict[str, Any]]) -> set[str]:
    return {e for r in rules for e in r["ErrorEquals"] if not e.startswith(RESERVED)}


def test_every_error_name_the_asl_matches_is_a_driftline_error_class() -> None:
    matched = set().union(*(_names(s.get("Retry", []) + s.get("Catch", [])) for _, s in STATES))
    assert matched, "the ASL matches no domain error: this test reads the wrong file"
    assert matched <= set(CLASSES), matched - set(CLASSES)
    assert set(pipeline.CAUGHT) | set(pipeline.RETRIED) <= set(CLASSES)


def test_each_domain_catch_names_exactly_the_caught_errors() -> None:
    catches = [(name, _names(state["Catch"][:1])) for name, state in STATES if state.get("Catch")]
    domain = [(name, names) for name, names in catches if names]
    assert len(domain) >= 8
    for name, names in domain:
        assert names == set(pipeline.CAUGHT), (name, names ^ set(pipeline.CAUGHT))


def test_the_steps_after_the_switch_retry_exactly_the_retried_errors() -> None:
    retrying = {name: _names(state.get("Retry", [])) for name, state in STATES if _names(state.get("Retry", []))}
    assert set(retrying) == set(pipeline.RETRYING_STATES)
    assert all(names == set(pipeline.RETRIED) for names in retrying.values()), retrying


def _raised(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            func = node.exc.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in CLASSES:
                out.add(name)
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "from_exception"
                and isinstance(node.func.value, ast.Name) and node.func.value.id in CLASSES):
            out.add(node.func.value.id)  # InternalError.from_exception(exc), raised by the task boundary
    return out


def test_every_error_a_pipeline_function_raises_is_handled_by_name() -> None:
    raised = set().union(*(_raised(p) for root in PIPELINE_CODE for p in root.rglob("*.py")))
    assert {"InvalidEvent", "DataFormatError", "InternalError"} <= raised  # the scan sees the code
    handled = set(pipeline.CAUGHT) | set(pipeline.RETRIED) | set(pipeline.HANDLED_INSIDE)
    assert raised <= handled, raised - handled


def test_every_error_class_is_classified() -> None:
    classified = set(pipeline.CAUGHT) | set(pipeline.RETRIED) | set(pipeline.HANDLED_INSIDE) | set(pipeline.API_ONLY)
    assert set(CLASSES) <= classified, set(CLASSES) - classified
