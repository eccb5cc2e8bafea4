"""The commands that talk to a deployed stack (or ``make up``): config, baseline, runs, approvals, reports."""

from __future__ import annotations

import json
import time
import uuid
import webbrowser
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from .aws import ApiError, CliError, Target
from .output import Out, fmt_num
from .starter import parse_features, starter_config

#: how often ``run --wait`` asks for the run's status
POLL_SECONDS = 1.0


# ------------------------------------------------------------------------------------------------ config files
def load_config_file(path: str | Path) -> dict[str, Any]:
    """A config file as a dict: YAML (``.yaml``/``.yml``, what ``init`` writes) or JSON (anything else)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot read {p}: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text) if p.suffix.lower() in (".yaml", ".yml") else json.loads(text)
    except (yaml.YAMLError, ValueError) as exc:
        raise CliError(f"{p} is not valid {'YAML' if p.suffix.lower() in ('.yaml', '.yml') else 'JSON'}: {exc}"
                       ) from None
    if not isinstance(data, dict):
        raise CliError(f"{p}: a model config is a mapping (JSON object), got {type(data).__name__}")
    return data


def config_problems(data: dict[str, Any]) -> list[str]:
    """Every problem the API's validation (the same pydantic model) finds; ``[]`` when the config is valid.

    The stack-scope rules (S3 URIs in the stack's buckets, role ARNs in its account) are checked when the
    config is registered: they depend on the stack.
    """
    from driftline_common.config import parse_config
    from driftline_common.errors import InvalidModelConfig

    try:
        parse_config(data, scope=None)
    except InvalidModelConfig as exc:
        return list(exc.details.get("problems") or [str(exc)])
    return []


# ------------------------------------------------------------------------------------------------ init/validate
def cmd_init(args: Any, out: Out) -> int:
    target = Path(args.out or f"{args.model_id}.yaml")
    if target.exists() and not args.force:
        raise CliError(f"{target} exists; pass --force to overwrite it")
    try:
        text = starter_config(problem_type=args.problem_type, model_id=args.model_id, bucket=args.bucket,
                              features=parse_features(args.features), labels=args.labels or (),
                              endpoint_name=args.endpoint_name, window_hours=args.window_hours,
                              entry_point=args.entry_point)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    problems = config_problems(yaml.safe_load(text))
    if problems:  # the flags produced an invalid config (e.g. a bad model id): say so before writing
        raise CliError("the starter config would be invalid:\n" + "\n".join(f"  - {p}" for p in problems))
    target.write_text(text, encoding="utf-8")
    if out.json:
        out.data({"written": str(target), "problemType": args.problem_type, "modelId": args.model_id})
    else:
        out.line(f"wrote {target} ({args.problem_type}); edit it, then: driftline validate {target}")
    return 0


def cmd_validate(args: Any, out: Out) -> int:
    data = load_config_file(args.config)
    problems = config_problems(data)
    if out.json:
        out.data({"config": str(args.config), "valid": not problems, "problems": problems})
    elif problems:
        out.line(f"{args.config}: {len(problems)} problem(s)")
        for p in problems:
            out.line(f"  - {p}")
    else:
        out.line(f"{args.config}: valid ({data.get('problemType')} model {data.get('modelId')!r})")
    return 1 if problems else 0


# ------------------------------------------------------------------------------------------------ register/baseline
def cmd_register(args: Any, out: Out) -> int:
    data = load_config_file(args.config)
    problems = config_problems(data)
    if problems:
        raise CliError(f"{args.config} is invalid, nothing registered:\n" + "\n".join(f"  - {p}" for p in problems))
    model_id = data["modelId"]
    result = Target.from_args(args).call("PUT", f"/models/{model_id}", data)
    if out.json:
        out.data(result)
    else:
        out.line(f"registered {model_id} (config version {result.get('version')})")
    return 0


def _read_training_texts(target: Target, data: str, out: Out) -> list[str]:
    """The training CSV(s): a local file or directory, an S3 object or an S3 prefix (every ``.csv`` under it)."""
    from rich.progress import Progress

    if not data.startswith("s3://"):
        path = Path(data)
        if not path.exists():
            raise CliError(f"{data}: no such file or directory")
        files = sorted(path.rglob("*.csv")) if path.is_dir() else [path]
        if not files:
            raise CliError(f"no .csv file under {data}")
        return [f.read_text(encoding="utf-8-sig") for f in files]
    bucket, _, key = data.removeprefix("s3://").partition("/")
    s3 = target.client("s3")
    keys = [key] if key and not key.endswith("/") else []
    if keys:
        try:
            s3.head_object(Bucket=bucket, Key=key)
        except Exception:  # noqa: BLE001 - not an object: read it as a prefix
            keys = []
    if not keys:
        prefix = key if not key or key.endswith("/") else key + "/"
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys.extend(o["Key"] for o in page.get("Contents", []) if o["Key"].endswith(".csv") and o["Size"])
        if not keys:
            raise CliError(f"no training CSV at {data}")
    texts = []
    with Progress(console=out.err, transient=True, disable=len(keys) < 2) as progress:
        task = progress.add_task("reading training data", total=len(keys))
        for k in keys:
            texts.append(s3.get_object(Bucket=bucket, Key=k)["Body"].read().decode("utf-8-sig"))
            progress.advance(task)
    return texts


def cmd_baseline(args: Any, out: Out) -> int:
    """Build the drift baseline with the drift checker's own builder and upload it to the config's baselineUri."""
    from drift_checker.baseline import build_baseline
    from driftline_common.config import parse_config
    from driftline_common.errors import DataFormatError
    from driftline_common.numbers import dumps

    target = Target.from_args(args)
    model = target.call("GET", f"/models/{args.model_id}")
    cfg = parse_config(model["config"], scope=None)
    texts = _read_training_texts(target, args.data, out)
    try:
        doc = build_baseline(cfg, texts, source=args.data)
    except DataFormatError as exc:
        raise CliError(f"{args.data}: {exc}") from None
    uri = args.to or cfg.baseline_uri
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    target.client("s3").put_object(Bucket=bucket, Key=key, Body=dumps(doc).encode(), ContentType="application/json")
    summary = {"modelId": cfg.model_id, "baselineUri": uri, "source": args.data, "sampleSize": doc["sampleSize"],
               "badRecords": doc["badRecords"], "features": len(doc["features"]), "layout": doc["layout"]}
    if out.json:
        out.data(summary)
    else:
        out.kv(f"baseline of {cfg.model_id}", list(summary.items()))
    return 0


# ------------------------------------------------------------------------------------------------ runs
TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


def _run_row(run: dict[str, Any]) -> list[Any]:
    window = run.get("window") or {}
    trigger = run.get("trigger") or {}
    return [run.get("runId"), run.get("status"), run.get("outcome"), trigger.get("type"),
            window.get("end"), run.get("startedAt"), run.get("finishedAt")]


def _start_with_window_end(target: Target, args: Any, out: Out) -> str:
    """A ``Run Requested`` event with ``windowEnd`` on the stack's bus; the run is found by its trigger id."""
    bus = args.event_bus or ("driftline-local" if target.local else None)
    if bus is None:
        stacks = target.client("cloudformation").describe_stacks(StackName=target.stack_name)["Stacks"]
        bus = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}.get("EventBusName")
        if not bus:
            raise CliError(f"the stack {target.stack_name!r} has no EventBusName output; pass --event-bus")
    trigger_id = f"cli-{uuid.uuid4()}"
    detail = {"modelId": args.model_id, "windowEnd": args.window_end,
              "trigger": {"type": "manual", "id": trigger_id,
                          "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}}
    resp = target.client("events").put_events(Entries=[{
        "EventBusName": bus, "Source": "driftline", "DetailType": "Run Requested", "Detail": json.dumps(detail)}])
    if resp.get("FailedEntryCount"):
        raise CliError(f"the Run Requested event was refused: {resp['Entries'][0].get('ErrorMessage')}")
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        runs = target.call("GET", f"/models/{args.model_id}/runs")["runs"]
        for run in runs:
            if (run.get("trigger") or {}).get("id") == trigger_id:
                return str(run["runId"])
        time.sleep(POLL_SECONDS)
    raise CliError(f"no run of {args.model_id} appeared for the Run Requested event within {args.timeout:.0f} s")


def cmd_run(args: Any, out: Out) -> int:
    target = Target.from_args(args)
    if args.window_end:
        run_id = _start_with_window_end(target, args, out)
    else:
        run_id = target.call("POST", f"/models/{args.model_id}/runs")["runId"]
    if not args.wait:
        if out.json:
            out.data({"modelId": args.model_id, "runId": run_id})
        else:
            out.line(f"started run {run_id} of {args.model_id}")
        return 0
    run = wait_for_run(target, args.model_id, run_id, args.timeout, out)
    show_run(run, out)
    return 0 if run.get("status") == "SUCCEEDED" or _pending(run) else 1


def _pending(run: dict[str, Any]) -> bool:
    return (run.get("approval") or {}).get("status") == "PENDING"


def wait_for_run(target: Target, model_id: str, run_id: str, timeout: float, out: Out) -> dict[str, Any]:
    """Poll the run until it ends (or waits for an approval); a spinner on stderr meanwhile."""
    deadline = time.monotonic() + timeout
    with out.err.status(f"run {run_id}: waiting") as status:
        while True:
            try:
                run = target.call("GET", f"/models/{model_id}/runs/{run_id}")
            except ApiError as exc:
                if exc.status != 404:  # the run record is written by the execution's first step
                    raise
                run = {"status": "STARTING"}
            if run.get("status") in TERMINAL or _pending(run):
                return dict(run)
            status.update(f"run {run_id}: {run.get('status')}")
            if time.monotonic() > deadline:
                raise CliError(f"run {run_id} still {run.get('status')} after {timeout:.0f} s "
                               f"(driftline show {model_id} {run_id} tells its state later)")
            time.sleep(POLL_SECONDS)


def show_run(run: dict[str, Any], out: Out) -> None:
    if out.json:
        out.data(run)
        return
    decision = run.get("decision") or {}
    drift = run.get("drift") or {}
    pairs: list[tuple[str, Any]] = [
        ("run", run.get("runId")), ("status", run.get("status")), ("outcome", run.get("outcome")),
        ("window", " → ".join(str(v) for v in ((run.get("window") or {}).get("start"),
                                                 (run.get("window") or {}).get("end")))),
        ("sample size", run.get("sampleSize")),
        ("breaches", ", ".join(str(b.get("metric")) for b in run.get("breaches") or [] if isinstance(b, dict))),
        ("drift", ", ".join(drift.get("driftedFeatures") or []) if drift.get("detected") else "none"),
        ("decision", f"{'retrain' if decision.get('retrain') else 'keep'} ({', '.join(decision.get('reasons') or [])})"
         if decision else None),
    ]
    comparison = run.get("comparison") or {}
    if comparison:
        pairs.append(("comparison", f"{comparison.get('metric')}: champion {fmt_num(comparison.get('champion'))} "
                                    f"vs challenger {fmt_num(comparison.get('challenger'))} → "
                                    f"{'promote' if comparison.get('promote') else 'keep champion'}"))
    if run.get("approval"):
        pairs.append(("approval", (run.get("approval") or {}).get("status")))
    if run.get("reason"):
        pairs.append(("reason", run.get("reason")))
    metrics = run.get("metrics") or {}
    pairs.extend((f"  {k}", fmt_num(v)) for k, v in sorted(metrics.items()) if isinstance(v, int | float))
    out.kv(f"run {run.get('runId')}", pairs)


def cmd_runs(args: Any, out: Out) -> int:
    runs = Target.from_args(args).call("GET", f"/models/{args.model_id}/runs", query={"limit": str(args.limit)})
    if out.json:
        out.data(runs)
    else:
        out.table(f"runs of {args.model_id}", ("run", "status", "outcome", "trigger", "window end", "started",
                                                "finished"), [_run_row(r) for r in runs["runs"]])
    return 0


def cmd_versions(args: Any, out: Out) -> int:
    """The model's Model Registry versions (GET /models/{id}/versions), newest first, with their lineage."""
    found = Target.from_args(args).call("GET", f"/models/{args.model_id}/versions")
    if out.json:
        out.data(found)
        return 0
    rows = [(("* " if v.get("serving") else "") + str(v.get("version")), v.get("status"), v.get("role"),
             (v.get("lineage") or {}).get("runId"), (v.get("lineage") or {}).get("trainingJobName"),
             (v.get("lineage") or {}).get("deployedBy"),
             v.get("createdAt")) for v in found["versions"]]
    out.table(f"versions of {args.model_id} ({found['modelPackageGroupName']}; * = serving)",
              ("version", "status", "role", "run", "training job", "deployed by", "created"), rows)
    return 0


def cmd_show(args: Any, out: Out) -> int:
    show_run(Target.from_args(args).call("GET", f"/models/{args.model_id}/runs/{args.run_id}"), out)
    return 0


def cmd_approval(args: Any, out: Out) -> int:
    approved = args.command == "approve"
    body: dict[str, Any] = {"approved": approved}
    if args.comment:
        body["comment"] = args.comment
    result = Target.from_args(args).call("POST", f"/models/{args.model_id}/runs/{args.run_id}/approval", body)
    if out.json:
        out.data(result)
    else:
        out.line(f"run {args.run_id} of {args.model_id}: {(result.get('approval') or {}).get('status')}")
    return 0


# ------------------------------------------------------------------------------------------------ report
def cmd_report(args: Any, out: Out) -> int:
    """Fetch the run's report from the API; where the API serves none, render it locally from the run's documents."""
    from .report import render_local

    target = Target.from_args(args)
    path = (f"/models/{args.model_id}/runs/{args.run}/report" if args.run else f"/models/{args.model_id}/report")
    accept = "application/json" if out.json else "text/html"
    status, _, body = target.request("GET", path, accept=accept)
    source = "api"
    if status >= 400:
        try:
            payload = json.loads(body or b"null")
        except ValueError:
            payload = None
        error = payload.get("error") if isinstance(payload, dict) else None
        if error in ("ModelNotFound", "RunNotFound"):
            raise ApiError("GET", path, status, payload)
        if status != 404:
            raise ApiError("GET", path, status, payload)
        body = render_local(target, args.model_id, args.run, as_json=out.json).encode()
        source = "local"
    dest = Path(args.to or f"{args.model_id}-{args.run or 'latest'}-report.{'json' if out.json else 'html'}")
    dest.write_bytes(body)
    if out.json:
        out.data({"written": str(dest), "source": source})
    else:
        how = "fetched from the API" if source == "api" else \
            "rendered locally from the run's stored documents (the API serves no report route)"
        out.line(f"wrote {dest} ({how})")
    if args.open:
        webbrowser.open(dest.resolve().as_uri())
    return 0
