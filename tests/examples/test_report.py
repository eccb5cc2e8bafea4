"""The demo report: well-formed SVG, markers and thresholds where the data says, escaped text."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest
from driftline_examples.report import render_report

SVG = "{http://www.w3.org/2000/svg}"
EVIL = '<script>alert("x")</script>&'


def _day(d: int, *, auc: float, retrain: bool = False, deployed: str | None = None,
         status: str = "SUCCEEDED", drifted: tuple[str, ...] = ()) -> dict:
    return {
        "day": d,
        "model_version": "v2" if d > 9 else "v1",
        "metrics": {"accuracy": auc - 0.05, "precision": auc - 0.1, "recall": auc - 0.08, "f1": auc - 0.09,
                    "roc_auc": auc},
        "drift": {"detected": bool(drifted), "drifted_features": list(drifted)},
        "decision": {"retrain": retrain, "reasons": ["metric_breach:roc_auc", "min_samples_ok"] if retrain else []},
        "deployed_version": deployed,
        "execution_status": status,
    }


@pytest.fixture
def summary() -> dict:
    drift_days = [_day(d, auc=0.87) for d in range(7)]
    drift_days += [_day(7, auc=0.8, drifted=("f2",)), _day(8, auc=0.72, drifted=("f2", EVIL)),
                   _day(9, auc=0.7, retrain=True, drifted=("f2", "f4")),
                   _day(10, auc=0.86, deployed="v2", drifted=("f2", "f4")),
                   _day(11, auc=float("nan"), status="FAILED"), _day(12, auc=0.85), _day(13, auc=0.86)]
    stable_days = [_day(d, auc=0.87) for d in range(14)]
    return {"scenarios": {
        "drift": {"days": drift_days, "retrains": 1, "deployments": 1,
                  "executions": {"SUCCEEDED": 13, "FAILED": 1}},
        "stable": {"days": stable_days, "retrains": 0, "deployments": 0, "executions": {"SUCCEEDED": 14}},
    }}


@pytest.fixture
def details() -> dict:
    return {"drift": {
        "thresholds": {"roc_auc": 0.8, "f1": 0.7},
        "confusion_matrices": {"champion day 9": [[400, 120], [150, 330]], "challenger day 9": [[450, 70], [90, 390]]},
        "curves": {"champion": {"roc": {"fpr": [0, 0.3, 1], "tpr": [0, 0.6, 1]},
                                "pr": {"precision": [1, 0.7, 0.5], "recall": [0, 0.6, 1]}},
                   "challenger": {"roc": {"fpr": [0, 0.1, 1], "tpr": [0, 0.8, 1]},
                                  "pr": {"precision": [1, 0.85, 0.5], "recall": [0, 0.8, 1]}}},
        "feature_drift": {"f0": [0.01] * 14, "f2": [0.01] * 7 + [0.3] * 7, EVIL: [0.02] * 14},
        "regression": {"mse": [0.1] * 14, "rmse": [math.sqrt(0.1)] * 14},
    }}


SVG_NS = "{http://www.w3.org/2000/svg}"


def _svgs(page: str) -> dict[str, ET.Element]:
    out = {}
    for m in re.finditer(r"<svg\b.*?</svg>", page, flags=re.S):
        root = ET.fromstring(m.group(0))  # noqa: S314 - our own output; well-formed XML each
        out[f"{root.get('data-chart')}#{len(out)}"] = root
    return out


def _text(svg: ET.Element) -> str:
    return " ".join("".join(t.itertext()) for t in svg.iter(f"{SVG_NS}text"))


def _charts(page: str, name: str) -> list[ET.Element]:
    return [v for k, v in _svgs(page).items() if k.split("#")[0] == name]


def test_the_demo_page_uses_the_run_report_renderer(summary: dict, details: dict) -> None:
    page = render_report(summary, details)
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page
    assert "Scenario drift" in page
    assert "Scenario stable" in page
    roc = _charts(page, "history roc_auc")
    assert len(roc) == 2  # one per scenario; only the drift scenario's details carry thresholds
    assert "min 0.8" not in _text(roc[1])
    text = _text(roc[0])
    assert "min 0.8" in text
    assert "retrain" in text
    assert "deployment" in text
    assert "failed run" in text
    assert "day 13" in text
    assert _charts(page, "Confusion matrix counts and row-normalised")
    assert _charts(page, "champion day 9 confusion matrix counts and row-normalised")
    curves = _text(_charts(page, "comparison roc curve")[0])
    assert "champion (AUC 0.650)" in curves
    assert "challenger (AUC 0.850)" in curves
    heat = _charts(page, "drift effect size (PSI numeric / L∞ categorical)")[0]
    assert _text(heat).count("×") == 1 + sum(
        f in d["drift"]["drifted_features"] for d in summary["scenarios"]["drift"]["days"] for f in ("f2", EVIL))


def test_nan_metric_and_missing_details_do_not_fail(summary: dict) -> None:
    page = render_report(summary)
    assert "confusion matrices: none recorded" in page
    assert not _charts(page, "roc curve")
    assert not _charts(page, "comparison roc curve")


def test_text_from_the_data_is_escaped(summary: dict, details: dict) -> None:
    page = render_report(summary, details)
    assert EVIL not in page
    assert "<script" not in page


def test_invalid_summary_is_rejected() -> None:
    with pytest.raises(ValueError, match="scenarios"):
        render_report({"days": []})
