"""The console script: ``[project.scripts] driftline`` names the CLI's main, and ``python -m driftline_cli`` runs it."""

from __future__ import annotations

import importlib
import subprocess
import sys
import tomllib

from .conftest import ROOT, subprocess_env


def test_pyproject_declares_the_driftline_console_script() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    target = project["project"]["scripts"]["driftline"]
    module, _, func = target.partition(":")
    main = getattr(importlib.import_module(module), func)
    assert callable(main)
    packages = project["tool"]["setuptools"]["packages"]["find"]
    assert "cli" in packages["where"]
    # every code directory the CLI imports at run time is in the distribution
    for top in ("driftline_cli", "driftline_common", "drift_checker", "driftline_offline", "samlocal",
                "driftline_examples", "metric_evaluator", "retrain_launcher", "deployer", "api", "trigger_router"):
        assert any(pattern.rstrip("*") == top for pattern in packages["include"]), top


def test_python_dash_m_runs_the_same_command() -> None:
    done = subprocess.run([sys.executable, "-m", "driftline_cli", "--help"], capture_output=True, text=True,
                          timeout=120, check=False, cwd=ROOT, env=subprocess_env())
    assert done.returncode == 0, done.stderr
    for command in ("init", "validate", "register", "baseline", "run", "runs", "show", "approve", "reject",
                    "report", "backtest"):
        assert command in done.stdout
