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

One line containing ``ready`` is printed on stdout when everything is up; SIGINT / SIGTERM stop both servers
and exit 0. Options (and environment variables): ``--host`` (``DRIFTLINE_HOST``), ``--aws-port``
(``DRIFTLINE_AWS_PORT``), ``--api-port`` (``DRIFTLINE_API_PORT``); port 0 picks a free port (the ready line
gives the URLs).
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import warnings
from collections.abc import Callable
from typing import Any

from samlocal import server as samlocal_server

from . import OfflineStack
from .seed import REPO_ROOT, ExampleSeed, example_config, seed_example

__all__ = ["ExampleSeed", "example_config", "main", "parse_args", "seed_example", "serve"]

LOG = logging.getLogger("driftline_offline.server")

STAGE = "local"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m driftline_offline.server",
        description="Serve the offline Driftline stack: an AWS endpoint and the stack's HTTP API.",
    )
    samlocal_server.add_server_arguments(parser, env_prefix="DRIFTLINE", template=str(REPO_ROOT / "template.yaml"))
    parser.add_argument("--no-example", action="store_true",
                        help="do not register example-classifier and its data")
    parser.add_argument("--requests", type=int, default=2000, help="captured requests of the example's day")
    args = parser.parse_args(argv)
    samlocal_server.check_server_arguments(parser, args)
    if args.requests < 1:
        parser.error("--requests must be >= 1")
    return args


def _setup(args: argparse.Namespace) -> Callable[[Any], dict[str, Any]]:
    def setup(stack: Any) -> dict[str, Any]:
        seed = None
        if not args.no_example:
            seed = seed_example(stack, requests=args.requests, root=stack.root)
            LOG.info("registered %s: %d requests in [%s, %s), baseline %s", seed.model_id, seed.requests,
                     seed.window_start.isoformat(), seed.window_end.isoformat(), seed.baseline_uri)
        return {"bus": stack.resource("EventBus"), "state_machine": stack.state_machine_arn,
                "bucket": stack.resource("DataBucket"), "model": seed.model_id if seed else "-"}

    return setup


def serve(args: argparse.Namespace, *, stop: threading.Event, on_ready: Callable[[str], None] | None = None) -> int:
    """Bind both ports, deploy, seed, serve until ``stop`` is set; returns the exit status."""
    return samlocal_server.serve(args, stop=stop, on_ready=on_ready, setup=_setup(args), stack_class=OfflineStack,
                                 parameters={"Stage": STAGE}, api_stage=STAGE, label="driftline")


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
