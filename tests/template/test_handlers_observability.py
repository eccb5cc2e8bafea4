"""Contract: every function of template.yaml wraps its handler in the shared Powertools logger, tracer and metrics.

The handler module is found from the function's ``CodeUri`` and ``Handler`` (``pkg.handler.lambda_handler``) and
inspected with :mod:`ast` (nothing is imported): the handler must carry, outermost first,
``logger.inject_lambda_context``, ``tracer.capture_lambda_handler`` and ``metrics.log_metrics``, with the three
objects imported from :mod:`driftline_common.observability` (namespace ``Driftline``).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode

from tests.conftest import ROOT

TEMPLATE = ROOT / "template.yaml"
#: (object, attribute) of the required decorators, outermost first (the metric_evaluator handler's order)
REQUIRED = (("logger", "inject_lambda_context"), ("tracer", "capture_lambda_handler"), ("metrics", "log_metrics"))


def _functions() -> dict[str, tuple[Path, str]]:
    """Logical id → (handler module file, handler function name) of every AWS::Serverless::Function."""
    tpl, matches = decode(str(TEMPLATE))
    assert not matches, matches
    glob = (tpl.get("Globals") or {}).get("Function") or {}
    out = {}
    for name, res in tpl["Resources"].items():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        props = res.get("Properties") or {}
        code_uri, handler = props.get("CodeUri", glob.get("CodeUri")), props.get("Handler", glob.get("Handler"))
        assert isinstance(code_uri, str), f"{name}: CodeUri must be a path"
        assert isinstance(handler, str), f"{name}: Handler must be 'module.function'"
        module, _, func = handler.rpartition(".")
        out[name] = (ROOT / code_uri / (module.replace(".", "/") + ".py"), func)
    return out


FUNCTIONS = _functions()


def _decorator_name(node: ast.expr) -> tuple[str, str] | None:
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
        return target.value.id, target.attr
    return None


def observability_problems(source: str, func: str) -> list[str]:
    """What ``func`` in ``source`` lacks of the REQUIRED decorators (empty: compliant)."""
    tree = ast.parse(source)
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == func]
    if not defs:
        return [f"no top-level function {func!r}"]
    imported = {alias.asname or alias.name for n in tree.body if isinstance(n, ast.ImportFrom)
                and n.module == "driftline_common.observability" for alias in n.names}
    problems = [f"{obj!r} is not imported from driftline_common.observability"
                for obj, _ in REQUIRED if obj not in imported]
    found = [d for d in (_decorator_name(n) for n in defs[0].decorator_list) if d in REQUIRED]
    problems += [f"missing decorator @{obj}.{attr}" for obj, attr in REQUIRED if (obj, attr) not in found]
    if not problems and found != list(REQUIRED):
        problems.append(f"decorators must be in the order {['.'.join(r) for r in REQUIRED]}, got {found}")
    return problems


def test_the_template_declares_every_function() -> None:
    handlers = {path.parent.name for path, _ in FUNCTIONS.values()}
    on_disk = {p.parent.name for p in (ROOT / "functions").glob("*/*/handler.py")}
    assert handlers == on_disk


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_handler_uses_powertools_logger_tracer_and_metrics(logical_id: str) -> None:
    path, func = FUNCTIONS[logical_id]
    assert path.is_file(), f"{logical_id}: handler module {path} does not exist"
    assert observability_problems(path.read_text(), func) == []


COMPLIANT = """
from driftline_common.observability import logger, metrics, tracer

@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    return {}
"""


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda s: s, []),
    (lambda s: s.replace("@metrics.log_metrics\n", ""), ["missing decorator @metrics.log_metrics"]),
    (lambda s: s.replace("@tracer.capture_lambda_handler\n", ""), ["missing decorator @tracer.capture_lambda_handler"]),
    (lambda s: s.replace("@logger.inject_lambda_context(clear_state=True)\n", ""),
     ["missing decorator @logger.inject_lambda_context"]),
    (lambda s: s.replace("logger, metrics, tracer", "logger, tracer") + "metrics = object()\n",
     ["'metrics' is not imported from driftline_common.observability"]),
    (lambda s: s.replace("@metrics.log_metrics\ndef", "@metrics.log_metrics(capture_cold_start_metric=True)\ndef"),
     []),
    (lambda s: s.replace("lambda_handler", "handle"), ["no top-level function 'lambda_handler'"]),
])
def test_the_check_detects_a_missing_decorator(mutate: Any, expected: list[str]) -> None:
    assert observability_problems(mutate(COMPLIANT), "lambda_handler") == expected


def test_the_check_detects_a_wrong_order() -> None:
    swapped = COMPLIANT.replace("@tracer.capture_lambda_handler\n@metrics.log_metrics\n",
                                "@metrics.log_metrics\n@tracer.capture_lambda_handler\n")
    assert observability_problems(swapped, "lambda_handler")[0].startswith("decorators must be in the order")
