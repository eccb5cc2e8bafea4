"""``make help`` writes plain text when its output is not a terminal (no colour codes in a pipe or a file)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_help_piped_has_no_colour_codes():
    out = subprocess.run(["make", "--no-print-directory", "help"], cwd=ROOT, capture_output=True, text=True,
                         check=True, timeout=30).stdout
    assert "\x1b" not in out
    lines = out.splitlines()
    assert any(line.split()[0] == "up" for line in lines if line.strip())
    assert any(line.split()[0] == "demo" for line in lines if line.strip())
