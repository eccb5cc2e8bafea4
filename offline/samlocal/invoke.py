"""``sam local invoke`` without Docker: deploy the template into moto in-process, invoke one function.

Usage::

    python -m samlocal.invoke MetricEvaluatorFunction -e events/metric_evaluator_evaluate.json \\
        [--template template.yaml] [--parameter-overrides Stage=dev] [--env-vars env.json]

Prints the handler's JSON result and exits 0, or prints the Lambda error envelope and exits 1.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .lambda_runtime import HandlerError
from .stack import OfflineStack

__all__ = ["main"]


def _parse_overrides(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        for pair in item.split():
            key, sep, value = pair.partition("=")
            if not sep:
                raise SystemExit(f"--parameter-overrides: expected Key=Value, got {pair!r}")
            out[key.removeprefix("ParameterKey=")] = value
    return out


def build_parser(prog: str = "python -m samlocal.invoke") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("function", help="logical id of the function in the template")
    parser.add_argument("-e", "--event", help="event JSON file ('-' for stdin); default {}")
    parser.add_argument("-t", "--template", default="template.yaml")
    parser.add_argument("--parameter-overrides", nargs="*", default=[])
    parser.add_argument("-n", "--env-vars", help="JSON file {LogicalId: {VAR: value}} (sam's format)")
    return parser


def run(
    args: argparse.Namespace,
    *,
    stack_class: Any = None,
    setup: Callable[[Any], None] | None = None,
    parameters: dict[str, str] | None = None,
) -> int:
    """Deploy, run ``setup(stack)`` (an application's seeding), invoke ``args.function`` with the event."""
    if args.event == "-":
        event: Any = json.load(sys.stdin)
    elif args.event:
        event = json.loads(Path(args.event).read_text(encoding="utf-8"))
    else:
        event = {}
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    stack_class = stack_class or OfflineStack
    params = {**(parameters or {}), **_parse_overrides(args.parameter_overrides)}
    with stack_class.running(args.template, parameters=params) as stack:
        spec = stack.runtime.lambdas.find(args.function)
        if spec is None:
            names = ", ".join(sorted(s.logical_id for s in stack.runtime.lambdas.specs()))
            print(f"no function {args.function!r} in {args.template} (functions: {names})", file=sys.stderr)
            return 2
        if args.env_vars:
            overrides = json.loads(Path(args.env_vars).read_text(encoding="utf-8"))
            spec.environment.update({k: str(v) for k, v in (overrides.get(args.function) or {}).items()})
            spec.environment.update({k: str(v) for k, v in (overrides.get("Parameters") or {}).items()})
        if setup is not None:
            setup(stack)
        try:
            result = stack.runtime.lambdas.invoke(args.function, event)
        except HandlerError as err:
            print(json.dumps(err.envelope, indent=2))
            return 1
    print(json.dumps(result, indent=2, default=str))
    return 0


def main(argv: list[str] | None = None) -> int:
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
