"""``make invoke``: ``sam local invoke`` without Docker (:mod:`samlocal.invoke`) on Driftline's stack.

Usage::

    python -m driftline_offline.invoke MetricEvaluatorFunction -e events/metric_evaluator_evaluate.json \\
        [--template template.yaml] [--parameter-overrides Stage=dev] [--env-vars env.json]

Prints the handler's JSON result and exits 0, or prints the Lambda error envelope and exits 1.
"""

from __future__ import annotations

import sys

from samlocal import invoke as samlocal_invoke

from . import OfflineStack

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    args = samlocal_invoke.build_parser("python -m driftline_offline.invoke").parse_args(argv)
    return samlocal_invoke.run(args, stack_class=OfflineStack)


if __name__ == "__main__":
    sys.exit(main())
