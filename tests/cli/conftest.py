"""Fixtures of the CLI tests: a starter config and a small labelled history written by the CLI's own tools."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from driftline_cli.main import main

FEATURES = "f0,f1,f2,f3,f4,f5"
ROOT = Path(__file__).resolve().parents[2]
#: the code directories as the Makefile puts them on PYTHONPATH (subprocesses do not get pytest's pythonpath)
PYTHONPATH = [
    "cli", "layers/metrics", "layers/common", "functions/metric_evaluator", "functions/drift_checker",
    "functions/retrain_launcher", "functions/deployer", "functions/api", "functions/trigger_router", "offline",
    "examples", ".",
]


def subprocess_env() -> dict[str, str]:
    """This environment without AWS/Driftline settings, with the repository's code on PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DRIFTLINE_"))}
    env["PYTHONPATH"] = os.pathsep.join(str(ROOT / p) for p in PYTHONPATH)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """``driftline ARGS...`` in-process: ``(exit status, stdout, stderr)``."""

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def binary_config(tmp_path: Path, run_cli: Callable[..., tuple[int, str, str]]) -> Path:
    path = tmp_path / "churn.yaml"
    code, _, err = run_cli("init", "--problem-type", "binary", "--model-id", "churn", "--bucket",
                           "driftline-databucket", "--features", FEATURES, "--out", str(path))
    assert code == 0, err
    return path


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path
