"""``make invoke``: ``sam local invoke`` without Docker (:mod:`samlocal.invoke`) on Driftline's stack.

Usage::

    python -m driftline_offline.invoke MetricEvaluatorFunction -e events/metric_evaluator_evaluate.json \\
        [--template template.yaml] [--parameter-overrides Stage=dev] [--env-vars env.json] [--no-seed]

Before the function runs, the example model ``example-classifier`` is registered as ``events/`` expects it: its
data in the bucket the sample events name (``driftline-test-data``, created and allowed through the stack's
``AllowedDataBuckets``), a champion served by its endpoint, a baseline and one day of captured traffic and ground
truth ending at the current hour (:func:`~driftline_offline.seed.seed_example`), one pipeline run named as the
events name it, and the evaluation the compare event reads (:func:`seed_for_events`). ``--no-seed`` starts empty.

Prints the handler's JSON result and exits 0, or prints the Lambda error envelope and exits 1.
"""

from __future__ import annotations

import sys
from typing import Any

from samlocal import invoke as samlocal_invoke

from . import OfflineStack
from .seed import seed_example

__all__ = ["EVENTS_BUCKET", "main", "seed_for_events"]

#: the bucket the sample events in ``events/`` name
EVENTS_BUCKET = "driftline-test-data"
#: the run the sample API and retrain events name, and the run whose evaluation the compare event reads
EVENTS_RUN = "run-2024-05-02-0001"
EVENTS_EVALUATED_RUN = "run-2025-01-02T00-00-00Z-manual"


def seed_for_events(stack: Any) -> None:
    """What the sample events refer to: the example model with its data in :data:`EVENTS_BUCKET`, the run
    :data:`EVENTS_RUN` (a pipeline execution of that name) and the evaluation of :data:`EVENTS_EVALUATED_RUN`
    (``events/metric_evaluator_evaluate.json``, which ``metric_evaluator_compare.json`` compares against)."""
    import json

    from samlocal.lambda_runtime import HandlerError

    stack.runtime.lambdas.load_all()  # the functions' code and layer directories on the path, as in Lambda
    stack.client("s3").create_bucket(Bucket=EVENTS_BUCKET)
    seed_example(stack, bucket=EVENTS_BUCKET, root=stack.root)
    arn = stack.start_execution({"modelId": "example-classifier"}, name=EVENTS_RUN)
    stack.wait_execution(arn, timeout=120)
    evaluate = stack.root / "events" / "metric_evaluator_evaluate.json"
    if evaluate.is_file():
        try:
            stack.runtime.lambdas.invoke("MetricEvaluatorFunction", json.loads(evaluate.read_text(encoding="utf-8")))
        except HandlerError as err:
            print(f"seeding: {evaluate.name}: {err.envelope['errorType']}: {err.envelope['errorMessage']}",
                  file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = samlocal_invoke.build_parser("python -m driftline_offline.invoke")
    parser.add_argument("--no-seed", action="store_true", help="do not register the example model first")
    args = parser.parse_args(argv)
    return samlocal_invoke.run(args, stack_class=OfflineStack, setup=None if args.no_seed else seed_for_events,
                               parameters={"AllowedDataBuckets": EVENTS_BUCKET})


if __name__ == "__main__":
    sys.exit(main())
