"""``make up``: Driftline's stack served offline (:mod:`samlocal.server`) with the example model registered.

- An AWS-compatible endpoint (default ``http://127.0.0.1:4566``) with ``template.yaml`` deployed (Stage ``local``:
  the bus is ``driftline-local``): the state machine executes, rules deliver, functions run in-process, SageMaker
  jobs run locally.
- The stack's HTTP API (default ``http://127.0.0.1:3000``), SigV4 (``execute-api``, ``us-east-1``, access key
  ``test`` / secret ``test``) enforced as the template's ``AWS_IAM`` default authorizer requires.
- The example model ``example-classifier`` registered with a baseline and one day of captured traffic and ground
  truth ending at the current hour (:func:`~driftline_offline.seed.seed_example`), so a run can be requested at
  once::

      aws --endpoint-url http://127.0.0.1:4566 events put-events --entries \\
        '[{"EventBusName":"driftline-local","Source":"driftline","DetailType":"Run Requested",
           "Detail":"{\\"modelId\\":\\"example-classifier\\"}"}]'

With ``--scenario stable`` (the default) or ``--scenario drift`` the example model is set up as ``make demo`` sets
it up (a real training job, the baseline, the endpoint, day 0's traffic) and a day of the scenario's traffic is
streamed every ``--day-seconds`` (default 60): the requests go through the endpoint (Data Capture), the ground truth
lands, the simulated clock moves to the end of the day and the daily schedule runs the pipeline, so retrains,
comparisons, approvals and deployments can be watched and driven while they happen (the simulated clock runs ahead
of the wall clock). ``--scenario none`` registers the model with one day of traffic ending at the current hour and
streams nothing (the clock follows the wall clock); ``--no-example`` starts empty (for ``driftline register``).

One line containing ``ready`` is printed on stdout when everything is up; SIGINT / SIGTERM stop both servers
and exit 0. Options (and environment variables): ``--host`` (``DRIFTLINE_HOST``), ``--aws-port``
(``DRIFTLINE_AWS_PORT``), ``--api-port`` (``DRIFTLINE_API_PORT``); port 0 picks a free port (the ready line
gives the URLs).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

from samlocal import server as samlocal_server

from . import OfflineStack
from .seed import REPO_ROOT, ExampleSeed, example_config, seed_example

__all__ = ["ExampleSeed", "example_config", "main", "parse_args", "seed_example", "serve"]

LOG = logging.getLogger("driftline_offline.server")

STAGE = "local"
SCENARIOS = ("stable", "drift", "none")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m driftline_offline.server",
        description="Serve the offline Driftline stack: an AWS endpoint and the stack's HTTP API.",
    )
    samlocal_server.add_server_arguments(parser, env_prefix="DRIFTLINE", template=str(REPO_ROOT / "template.yaml"))
    parser.add_argument("--no-example", action="store_true",
                        help="do not register example-classifier and its data")
    parser.add_argument("--scenario", choices=SCENARIOS, default=os.environ.get("DRIFTLINE_SCENARIO", "stable"),
                        help="example traffic streamed while serving: stable (default), drift (covariate and concept "
                             "drift from day 7) or none (one day of traffic ending now, nothing streamed)")
    parser.add_argument("--day-seconds", type=float, default=60.0,
                        help="wall-clock seconds per simulated day of --scenario traffic (default 60)")
    parser.add_argument("--rows-per-day", type=int, default=1500, help="requests per day of --scenario traffic")
    parser.add_argument("--requests", type=int, default=2000,
                        help="captured requests of the example's day with --scenario none")
    args = parser.parse_args(argv)
    samlocal_server.check_server_arguments(parser, args)
    if args.requests < 1:
        parser.error("--requests must be >= 1")
    if args.rows_per_day < 1:
        parser.error("--rows-per-day must be >= 1")
    if not args.day_seconds > 0:
        parser.error("--day-seconds must be > 0")
    if args.no_example:
        args.scenario = "none"
    return args


class TrafficStream:
    """Day ``d = 0, 1, ...`` of a scenario, one every ``day_seconds``: traffic, ground truth, the day's run."""

    def __init__(self, example: Any, day_seconds: float) -> None:
        self.example = example
        self.day_seconds = day_seconds
        self.days_done = 0

    def run(self, stack: Any, stopping: threading.Event) -> None:
        d = 0
        while not stopping.is_set():
            started = time.monotonic()
            try:
                self.day(d)
            except Exception as exc:  # noqa: BLE001 - one bad day is reported, the server keeps serving
                from .demo import one_line_error

                LOG.warning("scenario day %d: %s", d, one_line_error(f"{type(exc).__name__}: {exc}"))
            self.days_done = d + 1
            d += 1
            stopping.wait(max(0.0, self.day_seconds - (time.monotonic() - started)))

    def day(self, d: int) -> None:
        ex = self.example
        if d > 0:  # day 0's traffic and labels were written when the example was set up
            ex.send_traffic(d)
            ex.write_ground_truth(d)
        result = ex.run_day(d, timeout=max(60.0, 5 * self.day_seconds))
        run = result.result or {}
        from .demo import one_line_error

        outcome = run.get("outcome") or (one_line_error(result.error) if result.error else "")
        LOG.info("scenario %s day %d (%s): %s %s", ex.scenario.name, d, ex.day_start(d).date().isoformat(),
                 result.status, outcome)


class _App:
    """What ``make up`` adds to the emulator: the example model and its traffic."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.stream: TrafficStream | None = None

    def setup(self, stack: Any) -> dict[str, Any]:
        args = self.args
        model = "-"
        stack.runtime.lambdas.load_all()  # the functions' code and layer directories on the path, as in Lambda
        if args.no_example:
            pass
        elif args.scenario == "none":
            seed = seed_example(stack, requests=args.requests, root=stack.root)
            model = seed.model_id
            LOG.info("registered %s: %d requests in [%s, %s), baseline %s", seed.model_id, seed.requests,
                     seed.window_start.isoformat(), seed.window_end.isoformat(), seed.baseline_uri)
        else:
            from driftline_examples import traffic

            from .scenario import seed_example as seed_scenario

            example = seed_scenario(stack, scenario=traffic.DRIFT if args.scenario == "drift" else traffic.STABLE,
                                    rows_per_day=args.rows_per_day)
            model = example.model_id
            self.stream = TrafficStream(example, args.day_seconds)
            LOG.info("registered %s (scenario %s): day 0 starts %s, one day every %g s", model, args.scenario,
                     example.origin.isoformat(), args.day_seconds)
        extra = {"bus": stack.resource("EventBus"), "state_machine": stack.state_machine_arn,
                 "bucket": stack.resource("DataBucket"), "model": model}
        if self.stream is not None:
            extra.update(scenario=args.scenario, day_seconds=f"{args.day_seconds:g}")
        return extra

    def after_ready(self, stack: Any, stopping: threading.Event) -> None:
        if self.stream is not None:
            self.stream.run(stack, stopping)


def serve(args: argparse.Namespace, *, stop: threading.Event, on_ready: Callable[[str], None] | None = None) -> int:
    """Bind both ports, deploy, seed, serve until ``stop`` is set; returns the exit status."""
    app = _App(args)
    return samlocal_server.serve(args, stop=stop, on_ready=on_ready, setup=app.setup, stack_class=OfflineStack,
                                 parameters={"Stage": STAGE}, api_stage=STAGE, label="driftline",
                                 after_ready=app.after_ready)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    samlocal_server.configure_logging(args.verbose)
    if not args.verbose:
        warnings.filterwarnings("ignore", message="No application metrics to publish")  # Powertools, per call

    def _ready(line: str) -> None:
        print(line, flush=True)

    return samlocal_server.run_until_signalled(lambda stop: serve(args, stop=stop, on_ready=_ready))


if __name__ == "__main__":
    sys.exit(main())
