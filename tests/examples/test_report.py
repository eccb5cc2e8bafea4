"""The demo report: well-formed SVG, markers and thresholds where the data says, escaped text."""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET

import pytest
from driftline_examples.report import line_chart, nice_ticks, render_report

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


def _svgs(page: str) -> list[ET.Element]:
    fragments = re.findall(r"<svg\b.*?</svg>", page, flags=re.S)
    return [ET.fromstring(fragment) for fragment in fragments]  # noqa: S314 - our own output


def _by_class(svgs: list[ET.Element], css: str) -> list[ET.Element]:
    return [s for s in svgs if css in s.get("class", "").split()]


def test_every_svg_is_well_formed_and_all_charts_are_present(summary: dict, details: dict) -> None:
    page = render_report(summary, details)
    svgs = _svgs(page)
    assert page.count("<svg") == len(svgs)
    assert len(_by_class(svgs, "timeline")) == 2
    assert len(_by_class(svgs, "confusion")) == 2
    assert len(_by_class(svgs, "roc")) == 1
    assert len(_by_class(svgs, "pr")) == 1
    assert len(_by_class(svgs, "error")) == 1
    # drift scenario: the heat map from details; stable: no drift flagged, no heat map
    assert len(_by_class(svgs, "heatmap")) == 1
    roc = _by_class(svgs, "roc")[0]
    assert {g.get("data-name") for g in roc.iter(f"{SVG}g")} == {"champion", "challenger"}


def test_threshold_lines_are_drawn_at_their_values(summary: dict, details: dict) -> None:
    timeline = _by_class(_svgs(render_report(summary, details)), "timeline")[0]
    lines = {el.get("data-metric"): float(el.get("y1")) for el in timeline.iter(f"{SVG}line")
             if "threshold" in el.get("class", "").split()}
    assert set(lines) == {"roc_auc", "f1"}
    # y axis is [0, 1]: read the pixel positions of the 0 and 1 grid lines to invert the scale
    grid = sorted(float(el.get("y1")) for el in timeline.iter(f"{SVG}line") if el.get("class") == "grid")
    top, bottom = grid[0], grid[-1]
    for metric, value in details["drift"]["thresholds"].items():
        assert (bottom - lines[metric]) / (bottom - top) == pytest.approx(value, abs=0.01)
    stable = _by_class(_svgs(render_report(summary, details)), "timeline")[1]
    assert not [el for el in stable.iter(f"{SVG}line") if "threshold" in el.get("class", "")]


def test_retrain_deploy_and_failure_markers_sit_on_their_days(summary: dict, details: dict) -> None:
    drift, stable = _by_class(_svgs(render_report(summary, details)), "timeline")
    markers = {(el.get("data-kind"), int(el.get("data-day"))): float(el.get("x1"))
               for el in drift.iter(f"{SVG}line") if "marker" in el.get("class", "").split()}
    assert set(markers) == {("retrain", 9), ("deploy", 10), ("failed", 11)}
    assert markers[("retrain", 9)] < markers[("deploy", 10)] < markers[("failed", 11)]
    # equal spacing: one day is the same number of pixels everywhere on the axis
    assert markers[("deploy", 10)] - markers[("retrain", 9)] == pytest.approx(
        markers[("failed", 11)] - markers[("deploy", 10)], abs=0.2)
    assert not [el for el in stable.iter(f"{SVG}line") if "marker" in el.get("class", "")]
    legend = {t.text for t in drift.iter(f"{SVG}text") if t.get("class") == "legend"}
    assert {"roc_auc", "f1", "retrain", "deploy", "failed run"} <= legend


def test_nan_metric_breaks_the_line_instead_of_failing(summary: dict) -> None:
    drift = _by_class(_svgs(render_report(summary)), "timeline")[0]
    auc = next(g for g in drift.iter(f"{SVG}g") if g.get("data-name") == "roc_auc")
    polylines = list(auc.iter(f"{SVG}polyline"))
    assert len(polylines) == 2  # days 0-10 and 12-13 around the NaN of day 11
    assert [len(p.get("points").split()) for p in polylines] == [11, 2]


def test_confusion_matrix_cells_carry_the_counts(summary: dict, details: dict) -> None:
    svg = _by_class(_svgs(render_report(summary, details)), "confusion")[0]
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    for name, count in (("TN", 400), ("FP", 120), ("FN", 150), ("TP", 330)):
        assert f"{name} {count}" in texts
    assert "40.0 %" in texts  # 400 of 1000


def test_text_from_the_data_is_escaped(summary: dict, details: dict) -> None:
    page = render_report(summary, details)
    assert EVIL not in page
    assert "<script" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in page
    heatmap = _by_class(_svgs(page), "heatmap")[0]
    assert EVIL in {t.text for t in heatmap.iter(f"{SVG}text")}  # the XML parser unescapes it back


def test_optional_parts_are_omitted(summary: dict) -> None:
    svgs = _svgs(render_report(summary))
    for css in ("confusion", "roc", "pr", "error"):
        assert not _by_class(svgs, css)
    assert not [el for s in svgs for el in s.iter(f"{SVG}line") if "threshold" in el.get("class", "")]
    # without details the heat map falls back to the features flagged in the summary
    heatmap = _by_class(svgs, "heatmap")
    assert len(heatmap) == 1
    flagged = {(r.get("data-feature"), r.get("data-day")) for r in heatmap[0].iter(f"{SVG}rect")
               if "rgba(214,39,40,0.950)" in r.get("fill", "")}
    assert ("f4", "9") in flagged
    assert ("f4", "8") not in flagged


def test_day_table_lists_decisions_and_reasons(summary: dict) -> None:
    page = render_report(summary)
    assert page.count("<tr class='retrain'>") == 1
    assert page.count("<tr class='deploy'>") == 1
    assert page.count("<tr class='failed'>") == 1
    assert "metric_breach:roc_auc" in page


def test_invalid_summary_is_rejected() -> None:
    with pytest.raises(ValueError, match="scenarios"):
        render_report({"days": []})


@pytest.mark.parametrize(("low", "high"), [(0.0, 1.0), (0.61, 0.93), (-3.0, 250.0), (1e-4, 3e-4), (5.0, 5.0)])
def test_nice_ticks_cover_the_range_with_round_equal_steps(low: float, high: float) -> None:
    ticks = nice_ticks(low, high)
    assert ticks == sorted(ticks)
    if low == high:
        assert ticks == [low]
        return
    steps = {round(b - a, 12) for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1
    (step,) = steps
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert min(abs(mantissa - m) for m in (1, 2, 2.5, 5, 10)) < 1e-9
    assert ticks[0] >= low - 1e-12
    assert ticks[-1] <= high + 1e-12
    assert ticks[0] - low < step
    assert high - ticks[-1] < step


def test_line_chart_scales_points_linearly() -> None:
    svg = ET.fromstring(line_chart([{"name": "s", "x": [0, 1, 2], "y": [0.0, 0.5, 1.0]}],  # noqa: S314
                                   y_range=(0.0, 1.0), width=400, height=200))
    points = [tuple(map(float, p.split(","))) for p in next(svg.iter(f"{SVG}polyline")).get("points").split()]
    xs, ys = zip(*points, strict=True)
    assert xs[1] - xs[0] == pytest.approx(xs[2] - xs[1])
    assert ys[0] - ys[1] == pytest.approx(ys[1] - ys[2])
    assert ys[0] > ys[2]  # larger values higher up


# ----------------------------------------------------------------------------------------- text layout
CHAR_WIDTH = 0.6  # the estimate the task fixes: ~0.6 x font-size per character
LONG = "champion v1 (retrain run on drifted traffic, promoted after the shadow comparison) — day 9"


def _text_extent(el: ET.Element) -> tuple[float, float]:
    """Estimated [left, right] of one <text> from its x, anchor, font size and length."""
    width = CHAR_WIDTH * float(el.get("font-size")) * len(el.text or "")
    x = float(el.get("x"))
    anchor = el.get("text-anchor", "start")
    return {"start": (x, x + width), "middle": (x - width / 2, x + width / 2), "end": (x - width, x)}[anchor]


def _overflowing(svg: ET.Element) -> list[tuple[str, float, float]]:
    width, height = float(svg.get("width")), float(svg.get("height"))
    assert svg.get("viewBox") == f"0 0 {svg.get('width')} {svg.get('height')}"
    bad = []
    for el in svg.iter(f"{SVG}text"):
        if el.get("transform"):  # the rotated y-axis label runs vertically
            continue
        left, right = _text_extent(el)
        if left < -1e-6 or right > width + 1e-6 or not 0 < float(el.get("y")) <= height:
            bad.append((el.text or "", left, right))
    return bad


@pytest.fixture
def long_details(details: dict) -> dict:
    drift = dict(details["drift"])
    drift["confusion_matrices"] = {LONG: [[400, 120], [150, 330]], "v2 — day 15": [[450, 70], [90, 390]]}
    drift["curves"] = {"day 9: champion (v1, retrained on the drifted window)": drift["curves"]["champion"],
                       "day 9: challenger": drift["curves"]["challenger"]}
    drift["feature_drift"] = {**drift["feature_drift"], "a_rather_long_feature_name_x": [0.5] * 14}
    return {"drift": drift}


def test_long_titles_and_legends_fit_inside_their_svg(summary: dict, long_details: dict) -> None:
    page = render_report(summary, long_details)
    svgs = _svgs(page)
    assert {s.get("class") for s in svgs} >= {"confusion", "heatmap", "chart roc", "chart pr", "chart timeline"}
    for svg in svgs:
        assert _overflowing(svg) == [], svg.get("class")
    # the long label is all there, wrapped or not
    confusion = _by_class(svgs, "confusion")[0]
    title = " ".join(t.text for t in confusion.iter(f"{SVG}text") if t.get("class") == "title")
    assert title == LONG


@pytest.mark.parametrize("width", [300, 460, 680])
def test_line_chart_wraps_a_title_longer_than_the_chart(width: int) -> None:
    title = "drift scenario: " + " ".join(["a very long chart title"] * 6)
    svg = ET.fromstring(line_chart([{"name": "s", "x": [0, 1], "y": [0, 1]}],  # noqa: S314
                                   title=title, width=width))
    assert CHAR_WIDTH * 14 * len(title) > width  # on one line it would be clipped
    lines = [t for t in svg.iter(f"{SVG}text") if t.get("class") == "title"]
    assert len(lines) > 1
    assert " ".join(t.text for t in lines) == title
    assert _overflowing(svg) == []
    # the plot starts below the last title line
    top_grid = min(float(el.get("y1")) for el in svg.iter(f"{SVG}line") if el.get("class") == "grid")
    assert top_grid > max(float(t.get("y")) for t in lines)


def test_long_legend_moves_below_the_plot_short_one_stays_right() -> None:
    def legend_and_axis(name: str) -> tuple[list[ET.Element], float, float]:
        svg = ET.fromstring(line_chart([{"name": name, "x": [0, 1], "y": [0, 1]}],  # noqa: S314
                                       width=460, height=340))
        axis = [el for el in svg.iter(f"{SVG}line") if el.get("class") == "axis"]
        bottom = max(float(el.get("y1")) for el in axis)
        right = max(float(el.get("x2")) for el in axis)
        return [t for t in svg.iter(f"{SVG}text") if t.get("class") == "legend"], bottom, right

    (short,), bottom, right = legend_and_axis("f1")
    assert float(short.get("x")) > right
    assert float(short.get("y")) < bottom
    (long,), bottom, right = legend_and_axis("day 9: champion (v1, retrained on the drifted window)")
    assert float(long.get("y")) > bottom


def _with_losses(summary: dict) -> dict:
    for s in summary["scenarios"].values():
        for d in s["days"]:
            d["metrics"] |= {"log_loss": 0.4 + d["day"] / 100, "brier": 0.15, "mcc": 0.5, "average_precision": 0.8}
    return summary


def test_losses_get_their_own_chart_and_the_main_chart_keeps_classification_metrics(
        summary: dict, details: dict) -> None:
    details["drift"]["thresholds"]["log_loss"] = 0.5
    svgs = _svgs(render_report(_with_losses(summary), details))
    timelines, losses = _by_class(svgs, "timeline"), _by_class(svgs, "losses")
    assert len(timelines) == len(losses) == 2
    names = {g.get("data-name") for g in timelines[0].iter(f"{SVG}g")}
    assert names == {"accuracy", "precision", "recall", "f1", "roc_auc"}
    assert {g.get("data-name") for g in losses[0].iter(f"{SVG}g")} == {"log_loss", "brier"}
    main_thresholds = {el.get("data-metric") for el in timelines[0].iter(f"{SVG}line")
                       if "threshold" in el.get("class", "").split()}
    loss_thresholds = {el.get("data-metric") for el in losses[0].iter(f"{SVG}line")
                       if "threshold" in el.get("class", "").split()}
    assert main_thresholds == {"roc_auc", "f1"}
    assert loss_thresholds == {"log_loss"}
    # the main chart keeps the [0, 1] scale, the loss chart covers its data with round ticks
    grid = sorted(float(t.text) for t in losses[0].iter(f"{SVG}text")
                  if re.fullmatch(r"-?[\d.]+", t.text or "") and t.get("text-anchor") == "end")
    assert grid[0] <= 0.15
    assert grid[-1] >= 0.4 + 13 / 100


def test_no_loss_chart_without_losses(summary: dict, details: dict) -> None:
    assert not _by_class(_svgs(render_report(summary, details)), "losses")


def test_day_table_scrolls_and_shows_three_decimals(summary: dict) -> None:
    page = render_report(_with_losses(summary))
    assert re.search(r"\.table-scroll\{[^}]*overflow-x:auto", page)
    assert page.count("<div class='table-scroll'><table class='days'>") == 2
    day0 = summary["scenarios"]["drift"]["days"][0]["metrics"]
    row = re.search(r"<tr class=''><td>0</td><td>v1</td>(.*?)</tr>", page).group(1)
    cells = re.findall(r"<td class='num'>(.*?)</td>", row)
    order = ["accuracy", "precision", "recall", "f1", "roc_auc", "average_precision", "log_loss", "brier", "mcc"]
    assert sorted(cells) == sorted(f"{day0[m]:.3f}" for m in order)
    assert all(re.fullmatch(r"\d\.\d{3}", c) for c in cells)
