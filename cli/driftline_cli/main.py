"""``driftline``: the command line of Driftline (see ``docs/cli.md``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from . import __version__
from .aws import CliError
from .output import Out


def _common() -> argparse.ArgumentParser:
    """Options every command takes (before or after the command name)."""
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("where to talk to")
    g.add_argument("--endpoint-url", default=argparse.SUPPRESS,
                   help="AWS endpoint (make up: http://127.0.0.1:4566; env DRIFTLINE_ENDPOINT_URL); default: AWS")
    g.add_argument("--api-url", default=argparse.SUPPRESS,
                   help="the HTTP API (make up: http://127.0.0.1:3000; env DRIFTLINE_API_URL); default: the "
                        "stack's HttpApiUrl output")
    g.add_argument("--stack-name", default=argparse.SUPPRESS,
                   help="the deployed stack (env DRIFTLINE_STACK_NAME; default driftline-dev)")
    g.add_argument("--region", default=argparse.SUPPRESS, help="AWS region (default: the AWS configuration)")
    g.add_argument("--profile", default=argparse.SUPPRESS, help="AWS profile")
    g.add_argument("--output", "-o", choices=("table", "json"), default=argparse.SUPPRESS,
                   help="table (default) or json")
    return p


def build_parser() -> argparse.ArgumentParser:
    from . import commands

    common = _common()
    parser = argparse.ArgumentParser(prog="driftline", parents=[common],
                                     description="Driftline for your own model: configure, backtest, register, "
                                                 "baseline, run, approve, report.")
    parser.add_argument("--version", action="version", version=f"driftline {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Callable[[Any, Out], int], help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    p = add("init", commands.cmd_init, "write a commented starter config (YAML)")
    p.add_argument("--problem-type", required=True, choices=("binary", "multiclass", "regression"))
    p.add_argument("--model-id", required=True)
    p.add_argument("--bucket", required=True, help="the stack's data bucket (DataBucketName output)")
    p.add_argument("--features", required=True, help="comma-separated names, ':categorical' marks a category, "
                                                     "e.g. 'age,income,region:categorical'")
    p.add_argument("--labels", nargs="+", help="class labels in score order (positive last for binary)")
    p.add_argument("--endpoint-name", help="SageMaker endpoint (default driftline-<model-id>)")
    p.add_argument("--window-hours", type=int, default=24)
    p.add_argument("--entry-point", default="train.py", help="the training script in your source directory")
    p.add_argument("--out", help="file to write (default <model-id>.yaml)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")

    p = add("validate", commands.cmd_validate, "validate a config with the API's own model; lists every problem")
    p.add_argument("config")

    p = add("register", commands.cmd_register, "validate, then PUT /models/{modelId}")
    p.add_argument("config")

    p = add("baseline", commands.cmd_baseline, "build the drift baseline from training data and upload it")
    p.add_argument("model_id")
    p.add_argument("--data", required=True, help="training CSV: s3://bucket/key, an S3 prefix, a file or directory")
    p.add_argument("--to", help="where to write it (default: the config's baselineUri)")

    p = add("run", commands.cmd_run, "start a run; --wait prints its outcome")
    p.add_argument("model_id")
    p.add_argument("--window-end", help="end of the evaluated window (ISO 8601, UTC); default: the current hour")
    p.add_argument("--wait", action="store_true", help="wait for the run to end (or to wait for an approval)")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds --wait waits (default 900)")
    p.add_argument("--event-bus", help="bus of --window-end runs (default: the stack's EventBusName output)")

    p = add("runs", commands.cmd_runs, "list a model's runs, newest first")
    p.add_argument("model_id")
    p.add_argument("--limit", type=int, default=20)

    p = add("versions", commands.cmd_versions, "a model's Model Registry versions, their status and lineage")
    p.add_argument("model_id")

    p = add("show", commands.cmd_show, "one run: outcome, metrics, drift, decision, comparison")
    p.add_argument("model_id")
    p.add_argument("run_id")

    for name in ("approve", "reject"):
        p = add(name, commands.cmd_approval, f"{name} the promotion a run waits for")
        p.add_argument("model_id")
        p.add_argument("run_id")
        p.add_argument("--comment")

    p = add("report", commands.cmd_report, "fetch a run's report (HTML; JSON with -o json)")
    p.add_argument("model_id")
    p.add_argument("--run", help="run id (default: the latest run)")
    p.add_argument("--to", help="file to write (default <model>-<run|latest>-report.html)")
    p.add_argument("--open", action="store_true", help="open it in the browser")

    from .backtest_cli import add_backtest_arguments, cmd_backtest

    p = add("backtest", cmd_backtest, "replay a labelled history through the real pipeline, offline")
    add_backtest_arguments(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    for name in ("endpoint_url", "api_url", "stack_name", "region", "profile"):
        if not hasattr(args, name):
            setattr(args, name, None)
    out = Out(getattr(args, "output", "table"))
    try:
        return int(args.handler(args, out))
    except CliError as exc:
        out.note(f"error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        out.note("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
