"""Run the peers' own test modules against the layer and summarise (``make peer``).

    PYTHONPATH=... .venv/bin/python tests/peer/run_peer.py [--quick] [--json OUT]

Each suite runs in its own pytest process with the ``peer_swap`` plugin (the peers' functions
replaced by the layer's before collection). Counted are the tests that call a replaced function;
a failure is classified by the plugin (``value``, ``accepted``, ``message``, ``other``). The
SciPy modules are large: only the tests named after a replaced function are selected (``-k``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import sklearn

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SITE = str(Path(sklearn.__file__).parents[1])  # the installed packages, unresolved (as sys.path has them)

SKLEARN = [
    "sklearn.metrics.tests.test_classification",
    "sklearn.metrics.tests.test_ranking",
    "sklearn.metrics.tests.test_regression",
    "sklearn.metrics.tests.test_score_objects",
    "sklearn.metrics.tests.test_common",
]
SCIPY_K = (
    "ks_2samp or KS or Ks or kstwo or chisquare or Chisquare or entropy or Entropy or contingency"
    " or wasserstein or Wasserstein or jensenshannon"
)
SCIPY = [
    "scipy.stats.tests.test_stats",
    "scipy.stats.tests.test_entropy",
    "scipy.stats.tests.test_contingency",
    "scipy.stats.tests.test_axis_nan_policy",
    "scipy.spatial.tests.test_distance",
]
# a fast subset for `make test`: one sklearn and one SciPy module (each peer in its own process: their
# conftest.py files do not load together)
QUICK = {
    "sklearn": ["sklearn.metrics.tests.test_regression"],
    "scipy": ["scipy.stats.tests.test_entropy", "scipy.stats.tests.test_contingency"],
}
# deliberately not supported by the layer (numpy only), by test name: scipy.sparse inputs (the layer ships
# without SciPy; sparse indicator matrices that scikit-learn's own helpers build are densified) and
# array-API namespaces other than NumPy (array_api_strict, torch, cupy, jax, dask: not in the Lambda layer)
SKIP_K = (
    "not sparse and not csr and not csc and not array_api_strict and not torch and not cupy and not jax"
    " and not dask"
)


def load_report(report: Path) -> dict[str, Any]:
    """The plugin's report; under pytest-xdist the workers' caller lists are merged into it."""
    data: dict[str, Any] = json.loads(report.read_text())
    callers: set[str] = set()
    for part in report.parent.glob(report.name + ".*"):
        callers.update(json.loads(part.read_text())["callers"])
    if callers:
        for nodeid, entry in data["tests"].items():
            entry["calls_replaced"] = entry["calls_replaced"] or nodeid in callers
    return data


def run_suite(modules: list[str], keyword: str | None, workers: int = 0) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        env = dict(os.environ, PEER_SWAP_REPORT=str(report), SKLEARN_SKIP_NETWORK_TESTS="1")
        for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
            env.pop(name, None)  # run from an xdist worker of the outer suite, this run is not one of its workers
        env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(ROOT / "layers" / "metrics"), env.get("PYTHONPATH", "")])
        k = SKIP_K if keyword is None else f"({keyword}) and {SKIP_K}"
        cmd = [
            sys.executable, "-m", "pytest", "-q", "-p", "peer_swap", "-p", "no:cacheprovider",
            # the peers' own conftest.py files (fixtures, seeds) load from the installed packages
            "-c", str(HERE / "peer.ini"), "--rootdir", SITE, "-k", k, "--pyargs", *modules,
        ]
        if workers:
            cmd[4:4] = ["-n", str(workers)]
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=env, cwd=HERE, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - start
        if not report.exists():
            raise RuntimeError(f"peer run wrote no report:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        data = load_report(report)
        if not data["tests"]:
            raise RuntimeError(f"peer run collected no test:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    data["seconds"] = elapsed
    return data


def summarise(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Counts over the tests (node ids starting with ``prefix``) that call a replaced function."""
    tests = {k: v for k, v in data["tests"].items() if v.get("calls_replaced") and k.startswith(prefix)}
    outcomes = Counter(v["outcome"] for v in tests.values())
    kinds = Counter(v.get("kind") for v in tests.values() if v["outcome"] == "failed")
    run = outcomes["passed"] + outcomes["failed"]
    return {
        "calling_replaced": len(tests),
        "passed": outcomes["passed"],
        "failed": outcomes["failed"],
        "skipped": outcomes["skipped"],
        "pass_rate": outcomes["passed"] / run if run else float("nan"),
        "failures_by_kind": dict(kinds),
        "seconds": round(data["seconds"], 1),
        "failures": {k: v for k, v in tests.items() if v["outcome"] == "failed"},
    }


def run(quick: bool = False, modules: list[str] | None = None, workers: int = 0) -> dict[str, dict[str, Any]]:
    """Summaries per peer (``sklearn``, ``scipy``), or per module with ``modules``."""
    if quick:
        return {name: summarise(run_suite(mods, None, workers), name + "/") for name, mods in QUICK.items()}
    if modules:
        out = {}
        for mod in modules:
            peer = mod.split(".")[0]
            key = SCIPY_K if peer == "scipy" else None
            out[mod] = summarise(run_suite([mod], key, workers), peer + "/")
        return out
    return {
        "sklearn": summarise(run_suite(SKLEARN, None, workers), "sklearn/"),
        "scipy": summarise(run_suite(SCIPY, SCIPY_K, workers), "scipy/"),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="the small subset run by make test")
    ap.add_argument("--json", type=Path, help="write the summary (with every failure) here")
    ap.add_argument("--module", action="append", help="run only this peer module, each in its own process")
    ap.add_argument("-n", "--workers", type=int, default=0, help="pytest-xdist workers per process")
    args = ap.parse_args(argv)
    out = run(args.quick, args.module, args.workers)
    for name, s in out.items():
        print(
            f"{name}: {s['passed']}/{s['passed'] + s['failed']} pass ({100 * s['pass_rate']:.1f} %) of the "
            f"{s['calling_replaced']} tests that call a replaced function; failures by kind "
            f"{s['failures_by_kind']}; {s['skipped']} skipped; {s['seconds']} s"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1, sort_keys=True, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
