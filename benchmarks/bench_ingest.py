"""Benchmark: reading, joining and evaluating / drift-checking a window of SageMaker Data Capture + ground truth.

Windows of realistic SageMaker Data Capture JSON Lines (compact, as SageMaker writes them; 10,000 records per
object; inferenceId set; ground truth as SageMaker ground-truth JSON Lines) are generated once under
``build/bench/ingest/`` in four shapes: binary CSV (5 numeric + 1 categorical feature, a score ``"0.8312\\n"``),
binary JSON (``{"instances": [[...]]}`` → ``{"predictions": [{"score", "predicted_label"}]}``), multiclass CSV
(3 per-class probabilities) and regression CSV. Each case runs in a fresh subprocess (peak RSS from
``resource.getrusage``) with the objects served from local files (one object in memory at a time, as a Lambda
reading S3 holds it), side by side:

- the reference — ``json.loads`` of every capture and ground-truth line (the capture's for ``drift``), nothing
  else — timed in the same subprocess right before and right after the measured work (both see the same load;
  the ratio uses their mean);
- ``evaluate``: the evaluator's work — read + join (:func:`read_labelled_window`) + :func:`evaluate_window` +
  the joined window's columns as the ``dataset.npz`` it stores (:func:`dataset_arrays` through ``numpy.savez``);
  the labelled dataset CSV (:func:`dataset_csv`), which is written only when a retrain or the comparison first
  reads it, is timed after it on its own (``csv``, not part of ``evaluate``);
- ``drift``: the drift checker's work — :func:`read_capture` + :func:`check_features` against a baseline;
- ``old``: ``evaluate`` with the per-record reader Driftline shipped before (``tests/unit/reference_datasets.py``),
  up to ``--old-max`` rows (it needs ~1.7 GB at 1e6).

Targets (issue 9): ``evaluate`` and ``drift`` each ≤ 0.5 × ``stdlib`` at 1e6 rows, peak RSS ≤ 1 GB.

Run (standalone; ``--rows`` takes a comma list, ``3e6`` included when given)::

    OPENBLAS_CORETYPE= OPENBLAS_L2_SIZE= .venv/bin/python benchmarks/bench_ingest.py --rows 1e4,1e5,1e6 --old-max 0

One table line is printed per case as soon as it is measured.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PATHS = [ROOT, ROOT / "layers" / "common", ROOT / "layers" / "metrics", ROOT / "functions" / "metric_evaluator",
         ROOT / "functions" / "drift_checker"]
for _p in PATHS:
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

DATA = ROOT / "build" / "bench" / "ingest"
PER_OBJECT = 10_000
SHAPES = ("binary-csv", "binary-json", "multiclass-csv", "regression-csv")
TARGET_RATIO = 0.5
TARGET_RSS_MB = 1024


# ---------------------------------------------------------------------------------------------------- data
def _config(shape: str) -> dict[str, Any]:
    cfg = json.loads((ROOT / "tests/fixtures/model_config_binary.json").read_text())
    cfg["dataCapture"] = {"s3Uri": "s3://bench-bucket/capture", "format": "sagemaker"}
    cfg["groundTruth"] = {"s3Uri": "s3://bench-bucket/gt", "format": "sagemaker"}
    if shape.startswith("multiclass"):
        cfg.update(problemType="multiclass", labels=["a", "b", "c"], positiveLabel=None,
                   thresholds=[{"metric": "accuracy", "min": 0.5}],
                   promotion={"metric": "accuracy", "minImprovement": 0.01, "minSamples": 10})
    elif shape.startswith("regression"):
        cfg.update(problemType="regression", labels=None, positiveLabel=None,
                   thresholds=[{"metric": "rmse", "max": 1.0}],
                   promotion={"metric": "rmse", "minImprovement": 0.01, "minSamples": 10})
    return cfg


def generate(shape: str, rows: int) -> Path:
    """Write the window's objects once (``capture/…/part-N.jsonl``, ``gt/…/part-N.jsonl``); return its folder."""
    import numpy as np

    out = DATA / f"{shape}-{rows}"
    if (out / "done").exists():
        return out
    rng = np.random.default_rng(rows)
    for kind in ("capture", "gt"):
        (out / kind).mkdir(parents=True, exist_ok=True)
    cats = np.array(["red", "green", "blue", "amber"])
    for part, lo in enumerate(range(0, rows, PER_OBJECT)):
        n = min(PER_OBJECT, rows - lo)
        x = rng.normal(size=(n, 5))
        c = cats[rng.integers(0, 4, n)]
        logit = x[:, 0] - 0.5 * x[:, 1] + rng.normal(size=n)
        p = 1 / (1 + np.exp(-logit))
        hour = (lo // max(rows // 24, 1)) % 24
        cap_lines, gt_lines = [], []
        for i in range(n):
            uid = f"{rng.integers(0, 2**63):016x}-{lo + i:08d}"
            feats = ",".join(f"{v:.6f}" for v in x[i]) + f",{c[i]}"
            when = f"2025-01-01T{hour:02d}:{(i // 60) % 60:02d}:{i % 60:02d}Z"
            if shape == "binary-json":
                vals = ",".join(f"{v:.6f}" for v in x[i])
                data_in = '{\\"instances\\": [[' + vals + f', \\"{c[i]}\\"]]}}'
                data_out = '{\\"predictions\\": [{\\"score\\": ' + f"{p[i]:.8f}" + ', \\"predicted_label\\": ' \
                    + f"{int(p[i] > 0.5)}}}]}}"
                ienc = oenc = "JSON"
                ict = oct_ = "application/json"
            else:
                data_in = feats
                if shape == "multiclass-csv":
                    z = np.exp([logit[i], 0.0, -logit[i]])
                    pr = z / z.sum()
                    data_out = ",".join(f"{v:.8f}" for v in pr) + "\\n"
                elif shape == "regression-csv":
                    data_out = f"{logit[i] * 3 + 10:.6f}\\n"
                else:
                    data_out = f"{p[i]:.8f}\\n"
                ienc = oenc = "CSV"
                ict, oct_ = "text/csv", "text/csv; charset=utf-8"
            cap_lines.append(
                '{"captureData":{"endpointInput":{"observedContentType":"' + ict + '","mode":"INPUT","data":"'
                + data_in + '","encoding":"' + ienc + '"},"endpointOutput":{"observedContentType":"' + oct_
                + '","mode":"OUTPUT","data":"' + data_out + '","encoding":"' + oenc + '"}},"eventMetadata":'
                '{"eventId":"' + f"ev-{uid}" + '","inferenceId":"' + f"inf-{uid}" + '","inferenceTime":"' + when
                + '"},"eventVersion":"0"}')
            if shape == "multiclass-csv":
                label = "abc"[int(np.argmax([logit[i], 0.0, -logit[i]]) if rng.random() < 0.8 else rng.integers(3))]
            elif shape == "regression-csv":
                label = f"{logit[i] * 3 + 10 + rng.normal():.6f}"
            else:
                label = str(int(rng.random() < p[i]))
            gt_lines.append('{"groundTruthData":{"data":"' + label + '","encoding":"CSV"},"eventMetadata":'
                            '{"eventId":"' + f"inf-{uid}" + '"},"eventVersion":"0"}')
        day = f"2025/01/01/{hour:02d}"
        (out / "capture" / f"{day.replace('/', '-')}-part-{part:04d}.jsonl").write_text("\n".join(cap_lines) + "\n")
        (out / "gt" / f"{day.replace('/', '-')}-part-{part:04d}.jsonl").write_text("\n".join(gt_lines) + "\n")
    (out / "done").write_text("ok")
    return out


# ---------------------------------------------------------------------------------------------------- one case
def _serve(folder: Path) -> None:
    """Serve the folder's files as the bucket's objects to both readers (listing and GET), one at a time."""
    from driftline_common import sources
    from driftline_common.s3io import S3Uri

    from tests.unit import reference_datasets as ref

    def key_of(path: Path) -> str:
        kind = path.parent.name
        day, _, rest = path.name.partition("-part-")
        return f"{kind}/{day.replace('-', '/')}/part-{rest}"

    files = {key_of(p): p for p in sorted(folder.glob("*/*.jsonl"))}

    def get_bytes(uri: Any) -> bytes:
        loc = S3Uri.parse(uri) if isinstance(uri, str) else uri
        return files[loc.key].read_bytes()

    def list_objects(uri: Any) -> Any:
        loc = S3Uri.parse(uri) if isinstance(uri, str) else uri
        for key, path in files.items():
            if key.startswith(loc.key):
                yield key, path.stat().st_size, f'"{path.stat().st_mtime_ns}"'

    def list_keys(uri: Any) -> Any:
        for key, size, _ in list_objects(uri):
            yield key, size

    sources.get_bytes = get_bytes  # type: ignore[assignment]
    sources.list_objects = list_objects  # type: ignore[assignment]
    sources.window_listing = lambda *a, **k: None  # type: ignore[assignment]  # (no hour listing: list_objects)
    ref.get_bytes = get_bytes  # type: ignore[assignment]
    ref.list_keys = list_keys  # type: ignore[assignment]


def case(method: str, shape: str, rows: int) -> dict[str, Any]:
    """Run one measurement in this process (called in a fresh subprocess by :func:`main`)."""
    import resource
    from datetime import UTC, datetime

    import numpy as np
    from driftline_common import datasets as ds
    from driftline_common.config import parse_config

    from tests.unit import reference_datasets as ref

    folder = generate(shape, rows)
    cfg = parse_config(_config(shape))
    start, end = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 2, tzinfo=UTC)
    _serve(folder)
    baseline = None
    if method == "drift":
        from drift_checker.baseline import build_baseline

        rng = np.random.default_rng(1)
        train = "\n".join(",".join([*(f"{v:.5f}" for v in rng.normal(size=5)), "red"]) for _ in range(5000))
        baseline = build_baseline(cfg, [train])
    if method in ("evaluate", "old"):
        from metric_evaluator.evaluate import evaluate_window
    if method == "drift":
        from drift_checker.logic import check_features
    kinds = ("capture",) if method == "drift" else ("capture", "gt")
    # the reference in this process, right before (and after) the measured work: both see the same machine load
    ref_before = _stdlib_cpu(folder, kinds) if method in ("evaluate", "drift") else math.nan
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    c0 = time.process_time()
    n = 0
    capture_seconds = csv_seconds = capture_cpu = csv_cpu = math.nan
    if method == "stdlib":  # the capture's lines, then the ground truth's
        for kind in ("capture", "gt"):
            for path in sorted(folder.glob(f"{kind}/*.jsonl")):
                for line in path.read_bytes().decode("utf-8").splitlines():
                    json.loads(line)
                    n += kind == "capture"
            if kind == "capture":
                capture_seconds = time.perf_counter() - t0
                capture_cpu = time.process_time() - c0
    elif method == "old":  # the evaluator of three sessions ago wrote the dataset CSV in every run
        window = ref.read_labelled_window(cfg, start, end)
        doc = evaluate_window(cfg, window)
        ref.dataset_csv(cfg, window)
        n = doc["sampleSize"]
    elif method == "evaluate":
        import io

        from driftline_common.labelled_csv import dataset_arrays

        window = ds.read_labelled_window(cfg, start, end)
        doc = evaluate_window(cfg, window)
        np.savez(io.BytesIO(), **dataset_arrays(cfg, window))  # the dataset's columns, as the evaluator stores them
        n = doc["sampleSize"]
    elif method == "drift":
        captured = ds.read_capture(cfg, start, end)
        check_features(cfg, baseline or {}, captured.features)
        n = len(captured)
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if method == "evaluate":  # the deferred dataset CSV (a retrain's or the comparison's first read), on its own
        t_csv, c_csv = time.perf_counter(), time.process_time()
        ds.dataset_csv(cfg, window)
        csv_seconds, csv_cpu = time.perf_counter() - t_csv, time.process_time() - c_csv
    ref_after = _stdlib_cpu(folder, kinds) if method in ("evaluate", "drift") else math.nan
    return {"ref_cpu": (ref_before + ref_after) / 2, "ref_cpu_before": ref_before, "ref_cpu_after": ref_after,
            "method": method, "shape": shape, "rows": rows, "seconds": seconds, "rows_seen": n,
            "peak_rss_mb": rss, "rss_before_mb": rss0, "capture_seconds": capture_seconds, "csv_seconds": csv_seconds,
            "cpu": cpu, "capture_cpu": capture_cpu, "csv_cpu": csv_cpu}


def _stdlib_cpu(folder: Path, kinds: tuple[str, ...]) -> float:
    """CPU seconds of ``json.loads`` of every line of ``kinds`` (the reference, timed in the calling process)."""
    c0 = time.process_time()
    for kind in kinds:
        for path in sorted(folder.glob(f"{kind}/*.jsonl")):
            for line in path.read_bytes().decode("utf-8").splitlines():
                json.loads(line)
    return time.process_time() - c0


def _run_case(method: str, shape: str, rows: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in PATHS)}
    out = subprocess.run([sys.executable, __file__, "--case", method, shape, str(rows)], capture_output=True,  # noqa: S603
                         text=True, env=env, check=False, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(f"{method} {shape} {rows}: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(rows_list: list[int], shapes: tuple[str, ...] = SHAPES, old_max: int = 100_000) -> list[dict[str, Any]]:
    results = []
    for rows in rows_list:
        for shape in shapes:
            generate(shape, rows)
            got = {m: _run_case(m, shape, rows) for m in ("evaluate", "drift")}
            old = _run_case("old", shape, rows) if rows <= old_max else None
            results.append({"shape": shape, "rows": rows, **got, "old": old})
    return results


def _reference(r: dict[str, Any], method: str) -> float:
    """The stdlib CPU seconds of the same lines, timed in the measured process before and after the work (mean):
    capture + ground truth for the evaluator (and the old reader, compared with the evaluator's), the capture for
    drift."""
    return float(r["drift" if method == "drift" else "evaluate"]["ref_cpu"])


def run(rows_list: list[int] | None = None) -> list[dict[str, Any]]:
    """Rows for ``benchmarks/run.py``: evaluate and drift at 1e6 rows against the stdlib decode."""
    out = []
    for r in measure(rows_list or [1_000_000], shapes=("binary-csv", "binary-json"), old_max=0):
        for m in ("evaluate", "drift"):
            got = r[m]["cpu"]
            ratio = got / _reference(r, m)
            rss = r[m]["peak_rss_mb"]
            out.append({"case": f"ingest {m} {r['shape']} {r['rows']:.0e} rows (CPU s, peak {rss:.0f} MB)",
                        "driftline": got, "reference": _reference(r, m), "ratio": ratio,
                        "target": f"<= {TARGET_RATIO} x stdlib json.loads, <= {TARGET_RSS_MB} MB",
                        "met": ratio <= TARGET_RATIO and r[m]["peak_rss_mb"] <= TARGET_RSS_MB, "unit": "s"})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", default="1e4,1e5,1e6")
    ap.add_argument("--shapes", default=",".join(SHAPES))
    ap.add_argument("--old-max", type=float, default=1e5)
    ap.add_argument("--case", nargs=3, metavar=("METHOD", "SHAPE", "ROWS"))
    ap.add_argument("--json", type=Path, default=ROOT / "build" / "bench" / "ingest.json")
    args = ap.parse_args(argv)
    if args.case:
        print(json.dumps(case(args.case[0], args.case[1], int(args.case[2]))))
        return 0
    rows_list = [int(float(r)) for r in args.rows.split(",")]
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    print("| shape | rows | stdlib json.loads CPU s, capture + labels: before / after (capture: before / after) "
          "| evaluate: read + join + metrics + dataset columns CPU s (× stdlib) "
          "| deferred dataset CSV CPU s (× stdlib) "
          "| drift CPU s (× stdlib capture) | old per-record evaluate CPU s (× stdlib) "
          "| wall s evaluate / CSV / drift | peak RSS MB evaluate / drift / old | load |")
    print("|---|---|---|---|---|---|---|---|---|---|", flush=True)
    results = []
    for rows in rows_list:  # one line per case as soon as it is measured
        for shape in args.shapes.split(","):
            r = measure([rows], (shape,), int(args.old_max))[0]
            results.append(r)
            _row(r)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1))
    worst = max(((r["evaluate"]["cpu"] / _reference(r, "evaluate"), r["drift"]["cpu"] / _reference(r, "drift"))
                 for r in results if r["rows"] >= 1_000_000), key=max, default=(math.nan, math.nan))
    print(f"\nworst CPU ratio at >= 1e6 rows: evaluate {worst[0]:.2f}, drift {worst[1]:.2f} "
          f"(target <= {TARGET_RATIO})")
    return 0


def _row(r: dict[str, Any]) -> None:
    old = r["old"]
    ev, dr = r["evaluate"], r["drift"]

    def cell(v: float, ref: float) -> str:
        return f"{v:.2f} ({v / ref:.2f}×)"

    rss = " / ".join("—" if m is None else f"{m['peak_rss_mb']:.0f}" for m in (ev, dr, old))
    ref, ref_cap = _reference(r, "evaluate"), _reference(r, "drift")
    refs = (f"{ev['ref_cpu_before']:.2f} / {ev['ref_cpu_after']:.2f} "
            f"({dr['ref_cpu_before']:.2f} / {dr['ref_cpu_after']:.2f})")
    wall = f"{ev['seconds']:.2f} / {ev['csv_seconds']:.2f} / {dr['seconds']:.2f}"
    print(f"| {r['shape']} | {r['rows']:,} | {refs} | {cell(ev['cpu'], ref)} "
          f"| {cell(ev['csv_cpu'], ref)} | {cell(dr['cpu'], ref_cap)} "
          f"| {'—' if old is None else cell(old['cpu'], ref)} "
          f"| {wall} | {rss} | {os.getloadavg()[0]:.1f} |", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
