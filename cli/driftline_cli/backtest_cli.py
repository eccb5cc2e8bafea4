"""The ``backtest`` command: arguments, ``--set`` overrides and ``--sweep`` variants, outputs, the table."""

from __future__ import annotations

import contextlib
import copy
import itertools
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import IO, Any

from .aws import CliError
from .output import Out, fmt_num


def add_backtest_arguments(p: Any) -> None:
    p.add_argument("config", help="the model config (YAML or JSON, as for register)")
    p.add_argument("--data", required=True, help="labelled history: CSV or Parquet")
    p.add_argument("--time-column", required=True)
    p.add_argument("--label-column", required=True)
    p.add_argument("--id-column", help="unique row ids (default: the row number)")
    p.add_argument("--score-column", help="the model's score per row (binary: positive-class probability; "
                                          "regression: the prediction)")
    p.add_argument("--score-columns", help="multiclass: one probability column per class, comma-separated, in "
                                           "the config's label order")
    p.add_argument("--source-dir", required=True, help="script-mode source directory (train.py, inference.py)")
    p.add_argument("--entry-point", default="train.py", help="training script in --source-dir")
    p.add_argument("--inference", default=None,
                   help="serving script in --source-dir (default inference.py if present, else the entry point)")
    p.add_argument("--window", default="1d", help="window length: 1d, 6h, ... (default 1d)")
    p.add_argument("--train-until", help="end of the initial champion's training data (ISO 8601); "
                                         "default: after --train-windows windows")
    p.add_argument("--train-windows", type=int, default=7, help="windows of training data when --train-until "
                                                                 "is not given (default 7)")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="PATH=VALUE",
                   help="override a config field, e.g. retrainPolicy.consecutiveBreaches=3 (repeatable)")
    p.add_argument("--sweep", dest="sweeps", action="append", default=[], metavar="PATH=V1,V2,...",
                   help="replay once per value and compare, e.g. thresholds.0.min=0.75,0.8,0.85 (repeatable: "
                        "every combination)")
    p.add_argument("--out", required=True, help="directory for backtest.json and report.html")


# ------------------------------------------------------------------------------------------------ overrides
def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def apply_override(cfg: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``cfg`` with ``path`` (dots; list indices as numbers) set to ``value``."""
    out = copy.deepcopy(cfg)
    parts = path.split(".")
    node: Any = out
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            try:
                k = int(part)
                node[k]
            except (ValueError, IndexError):
                raise CliError(f"--set/--sweep {path}: {'.'.join(parts[:i]) or 'the config'} is a list of "
                               f"{len(node)}; {part!r} is not an index in it") from None
            if last:
                node[k] = value
            else:
                node = node[k]
        elif isinstance(node, dict):
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
        else:
            raise CliError(f"--set/--sweep {path}: {'.'.join(parts[:i])} is not an object or a list")
    return out


def parse_assignment(text: str, flag: str) -> tuple[str, str]:
    path, sep, value = text.partition("=")
    if not sep or not path.strip():
        raise CliError(f"{flag} {text!r}: expected PATH=VALUE")
    return path.strip(), value


def variants(cfg: dict[str, Any], sets: list[str], sweeps: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """``[(label, config)]``: the config with every ``--set``, once per combination of the ``--sweep`` values."""
    for s in sets:
        path, value = parse_assignment(s, "--set")
        cfg = apply_override(cfg, path, _value(value))
    axes = []
    for s in sweeps:
        path, values = parse_assignment(s, "--sweep")
        axes.append([(path, _value(v.strip())) for v in values.split(",") if v.strip()])
    if not axes:
        return [("config", cfg)]
    out = []
    for combo in itertools.product(*axes):
        variant = cfg
        for path, value in combo:
            variant = apply_override(variant, path, value)
        out.append((" ".join(f"{p}={json.dumps(v)}" for p, v in combo), variant))
    return out


# ------------------------------------------------------------------------------------------------ the command
def _inference_program(source_dir: Path, given: str | None, entry_point: str) -> str:
    if given:
        if not (source_dir / given).is_file():
            raise CliError(f"--inference {given}: no such file in {source_dir}")
        return given
    return "inference.py" if (source_dir / "inference.py").is_file() else entry_point


def cmd_backtest(args: Any, out: Out) -> int:
    from driftline_common.config import parse_config
    from driftline_common.errors import DataFormatError

    from .backtest import replay
    from .commands import config_problems, load_config_file
    from .history import Columns, parse_when, parse_window, read_history, split

    started = time.perf_counter()
    # everything is checked before anything runs or is written
    base_cfg = load_config_file(args.config)
    try:
        length = parse_window(args.window)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    hours = int(length.total_seconds() // 3600)
    base_cfg = {**base_cfg, "windowHours": hours}
    chosen = variants(base_cfg, args.sets, args.sweeps)
    for label, cfg in chosen:
        problems = config_problems(cfg)
        if problems:
            raise CliError(f"{args.config} ({label}) is invalid:\n" + "\n".join(f"  - {p}" for p in problems))
    source_dir = Path(args.source_dir)
    if not (source_dir / args.entry_point).is_file():
        raise CliError(f"--entry-point {args.entry_point}: no such file in --source-dir {source_dir}")
    inference = _inference_program(source_dir, args.inference, args.entry_point)
    columns = Columns(time=args.time_column, label=args.label_column, id=args.id_column, score=args.score_column,
                      scores=tuple(c.strip() for c in (args.score_columns or "").split(",") if c.strip()))
    model = parse_config(chosen[0][1], scope=None)
    try:
        history = read_history(args.data, model, columns)
        train_until = parse_when(args.train_until) if args.train_until else None
    except ValueError as exc:
        raise CliError(f"--train-until {args.train_until!r}: {exc}") from None
    except DataFormatError as exc:
        raise CliError(str(exc)) from None
    try:
        train, wins = split(history, length, train_until=train_until, train_windows=args.train_windows,
                            path=args.data, time_column=args.time_column)
    except DataFormatError as exc:
        raise CliError(str(exc)) from None
    out.note(f"{history.path}: {len(history)} rows; champion trained on {train.stop} rows; "
             f"{len(wins)} windows of {args.window} to replay" + (f" × {len(chosen)} variants" if len(chosen) > 1
                                                                   else ""))
    results = []
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    # the functions' own logs (Powertools JSON lines, EMF metrics) go to functions.log, not to stdout: a table or
    # --output json on stdout stays readable, and a year of windows prints no megabytes to the terminal
    with tempfile.TemporaryFile("w+", encoding="utf-8") as log, contextlib.redirect_stdout(log), Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=out.err, transient=False, auto_refresh=out.err.is_terminal, redirect_stdout=False,
            redirect_stderr=False) as bar:
        for label, cfg in chosen:
            task = bar.add_task(f"{label[:40]}: set-up", total=len(wins))

            def tick(i: int, entry: dict[str, Any], task: Any = task, label: str = label) -> None:
                bar.update(task, advance=1, description=f"{label[:40]}: {entry['start'][:16]}")
                if not out.err.is_terminal:  # a log file or CI: one plain line per window instead of a live bar
                    out.note(f"{label[:40]}: window {i + 1}/{len(wins)} {entry['start'][:16]} {entry['status']} "
                             f"{'RETRAIN' if entry['decision']['retrain'] else 'keep'} "
                             f"{entry['executionSeconds']:.2f} s (CPU {entry['executionCpuSeconds']:.2f} s)")

            results.append((label, cfg, replay(history, train, wins, cfg, length=length, source_dir=source_dir,
                                               entry_point=args.entry_point, inference_program=inference,
                                               progress=tick)))
        total = time.perf_counter() - started
        doc = _document(args, history, train, wins, results, total)
        log.flush()
        log.seek(0)
        _write_outputs(Path(args.out), doc, _report(args, results), log)
    if out.json:
        out.data({"out": args.out, **{k: doc[k] for k in ("seconds", "variants")}})
    else:
        _print(out, results, Path(args.out), total)
    return 1 if any(r.failures for _, _, r in results) else 0


def _document(args: Any, history: Any, train: slice, wins: list[Any], results: list[Any], total: float
              ) -> dict[str, Any]:
    first = results[0][2]
    return {
        "schema": "driftline.backtest/v1",
        "data": str(history.path), "rows": len(history), "trainingRows": train.stop,
        "window": args.window, "windowsReplayed": len(wins),
        "seconds": round(total, 2),
        "offlineReplacements": {"promotion.requireApproval": False,
                                "deployment": {"strategy": "all_at_once", "waitMinutes": 0}},
        # the first (or only) variant at the top level; every variant under "variants"
        "summary": first.summary, "windows": first.windows,
        "variants": [{"label": label, "overrides": label if len(results) > 1 or args.sets else None,
                      "summary": r.summary, "seconds": round(r.seconds, 2), "setupSeconds": round(r.setup_seconds, 2),
                      "failures": r.failures, "windows": r.windows, "config": r.config}
                     for label, _, r in results],
    }


def _report(args: Any, results: list[Any]) -> str:
    from driftline_examples.report import render_report

    summary: dict[str, Any] = {"scenarios": {}}
    details: dict[str, Any] = {}
    for label, _, r in results:
        days = r.report_days
        summary["scenarios"][label] = {"days": days, "retrains": r.summary["retrains"],
                                       "deployments": r.summary["deployments"],
                                       "executions": {"SUCCEEDED": len(days) - r.summary["failedWindows"],
                                                      "FAILED": r.summary["failedWindows"]}}
        details[label] = r.report_details
    return render_report(summary, details, title=f"Driftline backtest: {Path(args.data).name}")


def _write_outputs(out_dir: Path, doc: dict[str, Any], html: str, log: IO[str] | None = None) -> None:
    """Write the files into a temporary directory, then move them into ``out_dir`` (never half-written)."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir.parent, prefix=".driftline-backtest-") as tmp:
        t = Path(tmp)
        (t / "backtest.json").write_text(json.dumps(doc, indent=1, allow_nan=False, default=str) + "\n",
                                         encoding="utf-8")
        (t / "report.html").write_text(html, encoding="utf-8")
        names = ["backtest.json", "report.html"]
        if log is not None:
            with (t / "functions.log").open("w", encoding="utf-8") as fh:
                shutil.copyfileobj(log, fh)
            names.append("functions.log")
        out_dir.mkdir(exist_ok=True)
        for name in names:
            shutil.move(str(t / name), str(out_dir / name))


def _breaches_cell(w: dict[str, Any]) -> str:
    """The window's own breaches, then the metrics another rule of the policy counted (``f1 (cusum)``)."""
    own = list(w["breaches"])
    more = [f"{m} ({'+'.join(r for r in rules if r != 'window')})"
            for m, rules in (w["decision"].get("evidence") or {}).items()
            if m not in own and any(r != "window" for r in rules)]
    return ",".join(own + more)


def _print(out: Out, results: list[Any], out_dir: Path, total: float) -> None:
    first = results[0][2]
    if len(results) == 1:
        metrics = sorted({m for w in first.windows for m in w["metrics"]})[:6]
        rows = []
        for w in first.windows:
            values = [fmt_num(w["metrics"].get(m)) for m in metrics]
            rows.append([w["start"][:16], w["rows"], w["modelVersion"], *values,
                         _breaches_cell(w), ",".join(w["drift"]["features"]) if w["drift"]["detected"] else "",
                         ("RETRAIN " if w["decision"]["retrain"] else "keep ") + ",".join(w["decision"]["reasons"]),
                         "promote" if (w.get("comparison") or {}).get("promote") else
                         ("keep" if w.get("comparison") else ""), w["deployed"] or "", w["status"]])
        out.table("backtest", ("window", "rows", "model", *metrics, "breaches", "drift", "decision", "challenger",
                               "deployed", "status"), rows)
    out.table("policies" if len(results) > 1 else "summary",
              ("variant", "windows", "retrains", "windows below threshold", "promotions", "deployments",
               "drift windows", "failed", "seconds"),
              [[lab, r.summary["windows"], r.summary["retrains"], r.summary["windowsBelowThreshold"],
                r.summary["promotions"], r.summary["deployments"], r.summary["driftWindows"],
                r.summary["failedWindows"], f"{r.seconds:.1f}"] for lab, _, r in results])
    out.line(f"wrote {out_dir / 'backtest.json'} and {out_dir / 'report.html'} ({total:.1f} s)")
    for _, _, r in results:
        for f in r.failures:
            out.line(f"FAILED: {f}")
