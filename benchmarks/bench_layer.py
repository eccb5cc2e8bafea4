"""Benchmark the metrics layer's cold-start cost: import time and shipped size.

(a) ``import driftline_metrics`` (numpy included) in a fresh interpreter, best of 7,
    timed with ``time.perf_counter`` around the import inside ``python -c`` (the
    interpreter's own start-up is excluded: Lambda pays it whatever we ship).
    Reference: ``import sklearn.metrics``, what the layer replaces. Target < 150 ms.
    The submodules ``drift``, ``bias`` and ``partial`` are timed too when present.
(b) The layer as ``sam build`` ships it: ``pip install -r layers/metrics/requirements.txt
    --target <tmp> --platform manylinux2014_aarch64 --only-binary=:all: --python-version 3.11``
    plus the package directory, unzipped and zipped size. Target < 80 MB unzipped.

Each row: case, driftline, reference, ratio (reference / driftline: > 1 means we are
cheaper), target, met, unit.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "metrics"
PACKAGE = LAYER / "driftline_metrics"
REPEATS = 7
IMPORT_TARGET_MS = 150.0
SIZE_TARGET_MB = 80.0

_TIMER = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(LAYER)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def import_seconds(module: str, *, repeats: int = REPEATS) -> float:
    """Best-of-``repeats`` wall time of ``import module`` in a fresh interpreter (seconds)."""
    times = []
    for _ in range(repeats + 1):  # the first run also writes the .pyc files: discard it
        out = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
            [sys.executable, "-c", _TIMER.format(module=module)],
            capture_output=True, text=True, check=True, env=_env(), cwd=str(ROOT),
        )
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return min(times[1:])


def _row(case: str, ours: float | None, ref: float | None, target: str, met: bool | None,
         unit: str, note: str = "") -> dict[str, Any]:
    ratio = ref / ours if ours and ref else None
    return {"case": case, "driftline": ours, "reference": ref, "ratio": ratio, "target": target,
            "met": met, "unit": unit, "note": note}


def import_rows() -> list[dict[str, Any]]:
    rows = []
    try:
        ref_ms = import_seconds("sklearn.metrics") * 1e3
    except subprocess.CalledProcessError:
        ref_ms = None
    ours_ms = import_seconds("driftline_metrics") * 1e3
    rows.append(_row("import driftline_metrics (numpy incl.) vs sklearn.metrics", ours_ms, ref_ms,
                     f"< {IMPORT_TARGET_MS:g} ms", ours_ms < IMPORT_TARGET_MS, "ms"))
    for sub in ("drift", "bias", "partial"):
        if not (PACKAGE / f"{sub}.py").exists():
            continue
        ms = import_seconds(f"driftline_metrics.{sub}") * 1e3
        rows.append(_row(f"import driftline_metrics.{sub}", ms, None, f"< {IMPORT_TARGET_MS:g} ms",
                         ms < IMPORT_TARGET_MS, "ms"))
    return rows


def _tree_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _pip_target(target: Path, platform: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
           "-r", str(LAYER / "requirements.txt"), "--target", str(target),
           "--platform", platform, "--only-binary=:all:", "--python-version", "3.11"]
    return subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603


def layer_size_rows() -> list[dict[str, Any]]:
    """Build the layer as SAM does (into a temp dir) and measure it.

    ``manylinux2014`` (glibc 2.17) is what runs on Lambda's python3.11 runtime
    (Amazon Linux 2, glibc 2.26). If the pinned numpy has no such wheel, the size
    is measured with the ``manylinux_2_28`` wheel instead and a failing
    compatibility row says so: that wheel would not load on python3.11 Lambda.
    """
    rows: list[dict[str, Any]] = []
    size_target = f"< {SIZE_TARGET_MB:g} MB"
    with tempfile.TemporaryDirectory(prefix="driftline-layer-") as tmp:
        target = Path(tmp) / "python"
        proc = _pip_target(target, "manylinux2014_aarch64")
        platform_used = "manylinux2014"
        rows.append(_row("layer installs as manylinux2014_aarch64 (Lambda python3.11, glibc 2.26)", None, None,
                         "pip succeeds", proc.returncode == 0, "",
                         "" if proc.returncode == 0 else (proc.stderr.strip().splitlines() or ["?"])[-1]))
        if proc.returncode != 0:
            shutil.rmtree(target, ignore_errors=True)
            proc = _pip_target(target, "manylinux_2_28_aarch64")
            platform_used = "manylinux_2_28"
        if proc.returncode != 0:
            note = "pip failed: " + (proc.stderr.strip().splitlines() or ["?"])[-1]
            return [*rows, _row("layer size unzipped (aarch64, py3.11)", None, None, size_target, None, "MB", note)]
        shutil.copytree(PACKAGE, target / PACKAGE.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        unzipped = _tree_bytes(Path(tmp)) / 1e6
        archive = Path(tmp) / "layer.zip"
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for p in sorted(target.rglob("*")):
                if p.is_file():
                    zf.write(p, p.relative_to(tmp))
        zipped = archive.stat().st_size / 1e6
    note = f"{platform_used} wheels"
    return [
        *rows,
        _row("layer size unzipped (aarch64, py3.11)", unzipped, None, size_target, unzipped < SIZE_TARGET_MB,
             "MB", note),
        _row("layer size zipped", zipped, None, "(info)", None, "MB", note),
    ]


def run() -> list[dict[str, Any]]:
    """All layer benchmark rows."""
    return import_rows() + layer_size_rows()


if __name__ == "__main__":
    for r in run():
        print(r)
