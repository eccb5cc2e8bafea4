"""The metrics layer is numpy-only: importing it pulls in no SciPy, scikit-learn, pandas or AWS code."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

LAYER = Path(__file__).resolve().parents[2] / "layers" / "metrics"
FORBIDDEN = ("scipy", "sklearn", "pandas", "boto3", "botocore", "aws_lambda_powertools")
SUBMODULES = ("drift", "bias", "partial")

PROBE = """
import importlib, importlib.util, json, sys
mods = ["driftline_metrics"] + [
    "driftline_metrics." + m for m in {subs!r}
    if importlib.util.find_spec("driftline_metrics." + m) is not None
]
for m in mods:
    importlib.import_module(m)
bad = sorted({{name.split(".")[0] for name in sys.modules}} & set({forbidden!r}))
print(json.dumps({{"imported": mods, "forbidden": bad}}))
"""


def test_import_pulls_in_no_forbidden_package():
    code = PROBE.format(subs=SUBMODULES, forbidden=FORBIDDEN)
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=LAYER,
        env={"PYTHONPATH": str(LAYER), "PATH": "/usr/bin:/bin"},
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert "driftline_metrics" in result["imported"]
    assert result["forbidden"] == [], f"metrics layer imported {result['forbidden']}"


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
            "import_module",
            "__import__",
        ):
            for arg in node.args[:1]:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    roots.add(arg.value.split(".")[0])
    return roots


def test_no_source_file_imports_a_forbidden_package():
    files = sorted(LAYER.rglob("*.py"))
    assert files, "no python files found under layers/metrics"
    offenders = {str(f.relative_to(LAYER)): sorted(_imported_roots(f) & set(FORBIDDEN)) for f in files}
    offenders = {k: v for k, v in offenders.items() if v}
    assert offenders == {}


def test_the_purity_probe_can_fail(tmp_path):
    # the AST check must catch a forbidden import (guards against a vacuous test)
    bad = tmp_path / "bad.py"
    bad.write_text("import json\nfrom sklearn.metrics import f1_score\n")
    assert "sklearn" in _imported_roots(bad)
