"""pytest plugin: run scikit-learn's and SciPy's own tests with their functions replaced by the layer's.

Loaded with ``-p peer_swap`` (``tests/peer`` on ``sys.path``) in a separate pytest process that
collects the installed peers' test modules (``--pyargs sklearn.metrics.tests.test_ranking`` ...).
Before collection (the test modules import the functions by name) every public function of
``driftline_metrics`` / ``driftline_metrics.drift`` that a peer module also defines is set on the
peer modules the tests import from, wrapped so that the plugin knows which tests call a replaced
function. Each test's outcome is classified and written as JSON to ``$PEER_SWAP_REPORT``:

* ``value``: an assertion on a computed value failed (``assert_allclose`` & co) — the layer
  returned another number;
* ``accepted``: ``pytest.raises`` / ``pytest.warns`` saw no error / warning — the layer accepted an
  input the peer rejects (or did not warn);
* ``message``: an error was raised but its message or type differs from the peer's;
* ``other``: any other failure (a missing parameter, an unsupported input raising ``TypeError``
  or ``ValueError`` where the peer computes a value, ...).
"""

from __future__ import annotations

import importlib
import json
import os
import re
from collections.abc import Callable
from typing import Any

import pytest

# peer module -> the layer module whose same-named public functions replace the peer's
SWAPS: dict[str, str] = {
    "sklearn.metrics": "driftline_metrics",
    "sklearn.metrics._classification": "driftline_metrics",
    "sklearn.metrics._ranking": "driftline_metrics",
    "sklearn.metrics._regression": "driftline_metrics",
    "scipy.stats": "driftline_metrics.drift",
    "scipy.stats._stats_py": "driftline_metrics.drift",
    "scipy.stats._entropy": "driftline_metrics.drift",
    "scipy.stats.contingency": "driftline_metrics.drift",
    "scipy.spatial.distance": "driftline_metrics.drift",
}

_current: dict[str, str | None] = {"nodeid": None}
_callers: set[str] = set()
_results: dict[str, dict[str, Any]] = {}
_replaced: dict[str, list[str]] = {}

_VALUE = re.compile(
    r"Not equal to tolerance|Arrays are not (almost )?equal|Mismatched elements|Items are not equal|"
    r"assert .*(==|!=|<|>|approx|isclose|allclose)|AssertionError: assert\b"
)
_ACCEPTED = re.compile(r"DID NOT RAISE|DID NOT WARN|No warnings of type")
_MESSAGE = re.compile(r"Regex pattern did not match|does not match|Expected exception|raised .* instead")


def _tracked(name: str, fn: Callable[..., Any], peer_module: str) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        if _current["nodeid"] is not None:
            _callers.add(_current["nodeid"])
        # SciPy's tests pass ``_no_deco=True`` to reach the function under its axis/nan_policy
        # decorator (their per-slice reference); the layer's functions have no such decorator:
        # the keyword selects the function itself
        kwargs.pop("_no_deco", None)
        return fn(*args, **kwargs)

    call.__name__ = fn.__name__
    call.__module__ = peer_module  # pickled by reference to the peer module attribute it replaces
    call.__qualname__ = fn.__qualname__
    call.__doc__ = fn.__doc__
    call.__wrapped__ = fn  # type: ignore[attr-defined]
    return call


def _share_capabilities(original: Any, replacement: Any) -> None:
    """SciPy's tests look their function up in SciPy's array-API capabilities table (keyed by the
    function object): the replacement gets the original's entry."""
    try:
        from scipy._lib._array_api import xp_capabilities_table as table
    except ImportError:
        return
    if original in table and replacement not in table:
        table[replacement] = table[original]


def swap() -> dict[str, list[str]]:
    """Replace the peers' functions by the layer's; return peer module -> replaced names."""
    wrapped: dict[tuple[str, str], Callable[..., Any]] = {}
    for peer_name, layer_name in SWAPS.items():
        try:
            peer = importlib.import_module(peer_name)
        except ImportError:
            continue
        layer = importlib.import_module(layer_name)
        names = []
        for name in getattr(layer, "__all__", ()):
            ours = getattr(layer, name)
            if not callable(ours) or isinstance(ours, type) or not hasattr(peer, name):
                continue
            key = (layer_name, name)
            if key not in wrapped:
                wrapped[key] = _tracked(name, ours, peer_name)
            _share_capabilities(getattr(peer, name), wrapped[key])
            setattr(peer, name, wrapped[key])
            names.append(name)
        _replaced[peer_name] = sorted(names)
    return _replaced


def pytest_configure(config: pytest.Config) -> None:
    swap()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    _current["nodeid"] = item.nodeid
    try:
        return (yield)
    finally:
        _current["nodeid"] = None


_RAISED = re.compile(r"^E\s+(?!AssertionError|Failed)\w+(Error|Exception|Warning):", re.MULTILINE)


def _classify(text: str) -> str:
    first = next((ln for ln in text.splitlines() if ln.startswith("E ")), "")
    if _RAISED.match(first):  # the layer raised (an unsupported input, a missing parameter)
        return "other"
    if _ACCEPTED.search(text):
        return "accepted"
    if _MESSAGE.search(text):
        return "message"
    last = text.strip().splitlines()[-1] if text.strip() else ""
    if _VALUE.search(text) and ("AssertionError" in text or last.startswith("E ")):
        return "value"
    return "other"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    entry = _results.setdefault(report.nodeid, {"outcome": "passed"})
    if report.when == "call" or report.failed or report.skipped:
        if report.failed:
            text = report.longreprtext
            entry.update(outcome="failed", kind=_classify(text), error=_last_error(text))
        elif report.skipped and entry["outcome"] == "passed":
            entry["outcome"] = "skipped"


def _last_error(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.startswith("E ")]
    return " | ".join(ln[1:].strip() for ln in lines[:3])[:400]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = os.environ.get("PEER_SWAP_REPORT")
    if not path:
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:  # under pytest-xdist a worker records which tests called a replaced function; the
        # controller receives every test report and merges the workers' files (run_peer.load_report)
        with open(f"{path}.{worker}", "w", encoding="utf-8") as fh:
            json.dump({"callers": sorted(_callers)}, fh)
        return
    for nodeid, entry in _results.items():
        entry["calls_replaced"] = nodeid in _callers
    with open(path, "w", encoding="utf-8") as fh:
        json.dump({"replaced": _replaced, "tests": _results}, fh, indent=1, sort_keys=True)
