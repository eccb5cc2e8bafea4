"""The peers' own suites against the layer (scikit-learn's test_regression and SciPy's test_entropy;
``make peer`` runs every selected module): the swap takes effect, no test fails on a different
value, and the pass rate does not fall below what the layer reaches today.

The run is one separate pytest process (the swap must not leak into this session, whose tests use
scikit-learn and SciPy as oracles).
"""

from __future__ import annotations

import pytest

from tests.peer import run_peer

# measured with run_peer.py --quick (see docs/dropin.md); raise them as the layer improves
# (issue 16: scikit-learn test_regression 9/9; SciPy test_entropy 15/15 + test_contingency 15/15, of which
# 9/15 passed before chi2_contingency's `method` and SciPy-style tuple results)
FLOOR = {"sklearn": 1.0, "scipy": 1.0}
MIN_CALLING = {"sklearn": 9, "scipy": 30}


@pytest.mark.slow
def test_quick_peer_subset_passes_without_a_differing_value():
    out = run_peer.run(quick=True)
    for name, s in out.items():
        assert s["calling_replaced"] >= MIN_CALLING[name], f"{name}: the swap did not take effect"
        values = {k: v["error"] for k, v in s["failures"].items() if v["kind"] in ("value", "accepted")}
        assert values == {}, f"{name}: tests fail on a different value or an input accepted where the peer raises"
        assert s["pass_rate"] >= FLOOR[name], f"{name}: {s['pass_rate']:.3f} < {FLOOR[name]}: {s['failures']}"


def test_xdist_worker_callers_are_merged_into_the_report(tmp_path):
    """Under pytest-xdist the workers record which tests call a replaced function: merged, a test one
    worker saw call the layer counts (the pass rate is computed over exactly those tests)."""
    import json

    report = tmp_path / "report.json"
    tests = {
        "a::t1": {"outcome": "passed", "calls_replaced": False},
        "a::t2": {"outcome": "failed", "calls_replaced": False},
    }
    report.write_text(json.dumps({"replaced": {}, "tests": tests}))
    (tmp_path / "report.json.gw0").write_text(json.dumps({"callers": ["a::t2"]}))
    data = run_peer.load_report(report)
    assert [k for k, v in data["tests"].items() if v["calls_replaced"]] == ["a::t2"]
    assert run_peer.summarise(dict(data, seconds=0.0), "a::")["pass_rate"] == 0.0
