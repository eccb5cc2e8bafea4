"""The report's charts, drawn straight into inline ``<svg>`` strings by :mod:`driftline_report.svg`.

The report is drawn after EVERY pipeline execution, so the charts are plain string formatting: no plotting
library on the hot path (importing matplotlib cost ~1 CPU-s per cold process, drawing a 20-run report ~1–2 CPU-s;
this renderer draws it in a few tens of milliseconds, see docs/reports.md). Text stays text (``<text>``), each
chart is well-formed XML with ``data-chart`` naming it, and one report renders byte for byte the same twice.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Any

from driftline_report.svg import AXIS, Axes, Canvas, colour, luminance, n, nice_ticks, text_width, tick_label

#: metric lines (never used for event markers)
METRIC_COLOURS = ("#1f77b4", "#9467bd", "#17becf", "#8c564b", "#e377c2", "#bcbd22")
#: run events: shape, colour (greys and a dark orange: never a metric colour), label
EVENT_STYLES: dict[str, tuple[str, str, str]] = {
    "retrain": ("^", "#d95f02", "retrain"),
    "promotion": ("*", "#1b5e20", "promotion"),
    "deployment": ("D", "#333333", "deployment"),
    "rollback": ("X", "#b00020", "rollback"),
    "failed": ("s", "#777777", "failed run"),
}
THRESHOLD_COLOUR = "#d62728"
CHAMPION, CHALLENGER, THIRD_MODEL = "#1f77b4", "#ff7f0e", "#2ca02c"
CHANCE = "#999999"


def _finite(values: Sequence[Any]) -> list[float]:
    out = []
    for v in values:
        f = _num(v)
        if math.isfinite(f):
            out.append(f)
    return out


def _num(v: Any) -> float:
    if v is None or isinstance(v, bool):
        return math.nan
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _floats(values: Sequence[Any]) -> list[float]:
    return [_num(v) for v in values]


def _widest(labels: Sequence[Any], size: float) -> float:
    return max((text_width(str(v), size) for v in labels), default=0.0)


def _legend_height(count: int, size: float = 7, columns: int = 1) -> float:
    return math.ceil(count / columns) * (size + 5) + 4


def history_chart(metric: str, points: list[dict[str, Any]], threshold: dict[str, Any] | None,
                  events: list[dict[str, Any]], colour_index: int = 0) -> str:
    """One thresholded metric over the last runs: value, per-window interval, threshold, run events.

    ``points``: ``{"x": index, "label", "value", "lower", "upper"}``; ``events``: ``{"x", "kind"}``.
    The y-axis spans the data and its intervals; a threshold is drawn inside when that at most triples the span,
    else it is named at the edge it lies beyond (``max 1.2 ↑``). Threshold labels sit in the right margin,
    outside the data; the legend sits under the title. Run events get their own strip above the chart, one
    labelled row per kind, each with its own marker shape (never a metric colour).
    """
    kinds = [k for k in EVENT_STYLES if any(e["kind"] == k for e in events)]
    labels = [str(p["label"]) for p in points]
    if all(lab.endswith("00:00") for lab in labels):
        labels = [lab[:10] for lab in labels]
    xs = [float(p["x"]) for p in points]
    vals, lo, hi = (_floats([p.get(k) for p in points]) for k in ("value", "lower", "upper"))
    span = _finite(vals) + _finite(lo) + _finite(hi)
    a, b = (min(span), max(span)) if span else (0.0, 1.0)
    data_range = (b - a) or max(abs(a) * 0.05, 0.01)
    tvals = [(side, _num(threshold[side])) for side in ("min", "max")
             if threshold and math.isfinite(_num(threshold.get(side)))]
    inside = [(s, t) for s, t in tvals if max(b, t) - min(a, t) <= 3 * data_range]
    for _, t in inside:
        a, b = min(a, t), max(b, t)
    pad = (b - a) * 0.12 or data_range * 0.5
    ylim = (a - pad, b + pad)
    yt = nice_ticks(*ylim, 5)
    t_labels = [f"{s} {t:g}" + ("" if (s, t) in inside else (" ↑" if t > b else " ↓")) for s, t in tvals]
    left = max(58.0, _widest([EVENT_STYLES[k][2] for k in kinds], 7) + 16, _widest([tick_label(t) for t in yt], 8) + 26)
    right = max(30.0, _widest(t_labels, 8) + 12)
    strip = 13.0 * len(kinds) + 6 if kinds else 0.0
    bottom = _widest(labels, 7) * 0.5 + 16
    top = 36.0
    width, plot_h = 425.0, 150.0
    c = Canvas(width, top + strip + plot_h + bottom, f"history {metric}")
    c.text(left, 10, f"{metric} over the last {len(points)} runs", size=10)
    col = METRIC_COLOURS[colour_index % len(METRIC_COLOURS)]
    have_ci = [i for i in range(len(xs)) if math.isfinite(lo[i]) and math.isfinite(hi[i]) and math.isfinite(vals[i])]
    legend = [{"label": metric, "colour": col, "kind": "both", "shape": "o", "size": 5}]
    if have_ci:
        legend.append({"label": "interval", "colour": col, "kind": "line", "width": 1})
    c.legend(left, 18, legend, columns=2, box=False)
    xlim = (min(xs) - 0.5, max(xs) + 0.5)
    ax = Axes(c, left, top + strip, width - left - right, plot_h, xlim, ylim)
    every = max(1, math.ceil(len(xs) * 10 / ax.w))  # rotated labels at least 10 pt apart: every n-th run's
    ax.frame(xticks=xs[::every], xlabels=labels[::every], yticks=yt, xrotate=30, xsize=7, ylabel=metric)
    if kinds:
        sa = Axes(c, left, top, ax.w, strip - 6, xlim, (len(kinds) - 0.5, -0.5))
        for row, kind in enumerate(kinds):
            shape, ecol, name = EVENT_STYLES[kind]
            xk = [float(e["x"]) for e in events if e["kind"] == kind]
            c.text(left - 6, sa.y + (row + 0.5) * 13, name, size=7, anchor="end")
            c.markers(shape, [(sa.sx(x), sa.y + (row + 0.5) * 13) for x in xk], ecol, size=8)
            for x in xk:
                ax.vline(x, ecol, width=0.8, dash="1.5 2", opacity=0.8)
    for (side, t), text in zip(tvals, t_labels, strict=True):
        if (side, t) in inside:
            ax.hline(t, THRESHOLD_COLOUR, width=1.2, dash="5 3")
            c.text(ax.x + ax.w + 4, ax.sy(t), text, size=8, colour=THRESHOLD_COLOUR)
        else:
            above = t > b
            c.text(ax.x + ax.w + 4, ax.y + (5 if above else ax.h - 5), text, size=8, colour=THRESHOLD_COLOUR)
    if have_ci:
        d = []
        for i in have_ci:
            px, y0, y1 = ax.sx(xs[i]), ax.sy(min(lo[i], vals[i])), ax.sy(max(hi[i], vals[i]))
            d.append(f"M{n(px)} {n(y0)}V{n(y1)}M{n(px - 3)} {n(y0)}h6M{n(px - 3)} {n(y1)}h6")
        c.path("".join(d), stroke=col, width=1, opacity=0.5)
    ax.polyline(xs, vals, col, width=1.5)
    c.markers("o", [(ax.sx(x), ax.sy(v)) for x, v in zip(xs, vals, strict=True) if math.isfinite(v)], col, size=5)
    return c.svg()


def _matrix(c: Canvas, x: float, y: float, side: float, labels: Sequence[str], data: list[list[float]],
            fmt: str, vmax: float, *, titles: Sequence[str], rotate: bool, small: bool) -> None:
    """One k × k heat map with its values written in the cells, tick labels and axis labels."""
    k = len(labels)
    cell = side / max(k, 1)
    for i in range(k):
        for j in range(k):
            v = data[i][j]
            shown = v if math.isfinite(v) else 0.0
            fill = colour("Blues", shown / vmax if vmax else 0.0)
            c.rect(x + j * cell, y + i * cell, cell, cell, fill)
            c.text(x + (j + 0.5) * cell, y + (i + 0.5) * cell, fmt.format(v) if math.isfinite(v) else "n/a",
                   size=6 if small else 8, anchor="middle", colour="#fff" if luminance(fill) < 0.5 else "#000")
    c.rect(x, y, side, side, "none", stroke=AXIS, width=0.6)
    for i, lab in enumerate(labels):
        c.text(x - 5, y + (i + 0.5) * cell, lab, anchor="end")
        if rotate:
            c.text(x + (i + 0.5) * cell + 3, y + side + 5, lab, anchor="end", rotate=-45, baseline="hanging")
        else:
            c.text(x + (i + 0.5) * cell, y + side + 5, lab, anchor="middle", baseline="hanging")
    drop = _widest(labels, 9) * 0.71 + 10 if rotate else 18
    c.text(x + side / 2, y + side + 5 + drop, "predicted", anchor="middle", baseline="hanging")
    c.text(x - _widest(labels, 9) - 16, y + side / 2, "actual", anchor="middle", rotate=-90)
    c.title(x + side / 2, y - 24, titles, size=9, anchor="middle")


def confusion_chart(labels: list[str], matrix: list[list[int]], *, title: str = "Confusion matrix") -> str:
    """Counts and row-normalised (recall per true class) side by side."""
    k = len(labels)
    labels = [str(v) for v in labels]
    m = [[_num(v) for v in row] for row in matrix]
    norm = []
    for row in m:
        total = sum(v for v in row if math.isfinite(v))
        norm.append([v / total if total and math.isfinite(v) else math.nan for v in row])
    cell = 32.0 if k <= 6 else 22.0
    side = min(max(115.0, cell * k, text_width(title, 9) - 20), 500.0)
    tick = _widest(labels, 9)
    rotate = k > 3
    left, top = tick + 30, 36.0
    bottom = 34 + (tick * 0.71 if rotate else 12)
    width = 2 * (left + side) + 16
    c = Canvas(width, top + side + bottom, f"{title} counts and row-normalised")
    count_max = max([1.0, *(v for row in m for v in row if math.isfinite(v))])
    for p, (data, sub, fmt, vmax) in enumerate(((m, "counts", "{:.0f}", count_max),
                                                (norm, "row-normalised", "{:.2f}", 1.0))):
        _matrix(c, left + p * (left + side + 8), top, side, labels, data, fmt, vmax, titles=(title, f"({sub})"),
                rotate=rotate, small=k > 6)
    return c.svg()


def per_class_chart(rows: list[dict[str, Any]]) -> str:
    """Precision, recall and F1 per class (grouped bars), from the confusion matrix."""
    labels = [str(r["label"]) for r in rows]
    k = len(labels)
    rotate = k > 4
    plot_w = max(230.0, 58.0 * k)
    left, right, top = 40.0, 80.0, 24.0
    bottom = 22 + (_widest(labels, 9) * 0.5 if rotate else 10)
    c = Canvas(left + plot_w + right, top + 150 + bottom, "per-class precision recall f1")
    c.text(left, 10, "Precision / recall / F1 per class", size=10)
    ax = Axes(c, left, top, plot_w, 150, (-0.6, k - 0.4), (0.0, 1.05))
    ax.frame(xticks=list(range(k)), xlabels=labels, yticks=[0, 0.2, 0.4, 0.6, 0.8, 1.0], xrotate=30 if rotate else 0)
    legend = []
    for i, (key, col) in enumerate((("precision", "#1f77b4"), ("recall", "#2ca02c"), ("f1", "#9467bd"))):
        d = []
        for x, r in enumerate(rows):
            v = _num(r.get(key))
            v = v if math.isfinite(v) else 0.0
            x0, x1 = ax.sx(x + (i - 1) * 0.26 - 0.13), ax.sx(x + (i - 1) * 0.26 + 0.13)
            y0, y1 = ax.sy(0.0), ax.sy(v)
            d.append(f"M{n(x0)} {n(y0)}V{n(y1)}H{n(x1)}V{n(y0)}Z")
        c.path("".join(d), fill=col, stroke="#fff", width=0.5)
        legend.append({"label": key, "colour": col, "kind": "patch"})
    c.legend(ax.x + ax.w + 6, top, legend, size=8, box=False)
    return c.svg()


def _square_axes(label: str, title: str, *, height: float = 288.0, bottom: float = 40.0) -> tuple[Canvas, Axes]:
    c = Canvas(302, height, label)
    c.text(46 + 115, 12, title, size=10, anchor="middle")
    ax = Axes(c, 46, 24, 245, height - 24 - bottom, (0.0, 1.0), (0.0, 1.01))
    return c, ax


def _legend_in(c: Canvas, ax: Axes, entries: list[dict[str, Any]], corner: str) -> None:
    h = _legend_height(len(entries))
    y = ax.y + 4 if corner.startswith("upper") else ax.y + ax.h - h - 4
    if corner.endswith("right"):
        c.legend(ax.x + ax.w - 4, y, entries, anchor="end")
    else:
        c.legend(ax.x + 4, y, entries)


def roc_chart(curves: list[dict[str, Any]], operating: Sequence[dict[str, Any]] = (), *, title: str = "ROC",
              label: str = "roc curve") -> str:
    """ROC curves (``{"name", "fpr", "tpr", "auc", "colour"?}``), AUC in the legend, operating point(s)."""
    c, ax = _square_axes(label, title)
    ax.frame(xlabel="false positive rate", ylabel="true positive rate")
    ax.polyline([0.0, 1.0], [0.0, 1.0], CHANCE, width=1, dash="1.5 2")
    legend = [{"label": "chance (AUC 0.5)", "colour": CHANCE, "dash": "1.5 2", "width": 1}]
    for i, cv in enumerate(curves):
        col = cv.get("colour") or METRIC_COLOURS[i % len(METRIC_COLOURS)]
        ax.polyline(_floats(cv["fpr"]), _floats(cv["tpr"]), col)
        legend.append({"label": f"{cv['name']} (AUC {_num(cv['auc']):.3f})", "colour": col})
    for op in operating:
        col = op.get("colour", "#000")
        c.markers("o", [(ax.sx(_num(op["fpr"])), ax.sy(_num(op["tpr"])))], col, size=8, hollow=True, width=2)
        legend.append({"label": op["label"], "colour": col, "kind": "marker", "hollow": True})
    _legend_in(c, ax, legend, "lower right")
    return c.svg()


def pr_chart(curves: list[dict[str, Any]], prevalence: float | None, operating: Sequence[dict[str, Any]] = (), *,
             title: str = "Precision–recall", label: str = "precision recall curve") -> str:
    """Precision–recall curves with AP in the legend, the prevalence baseline and the operating point(s)."""
    c, ax = _square_axes(label, title)
    ax.frame(xlabel="recall", ylabel="precision")
    legend: list[dict[str, Any]] = []
    if prevalence is not None and math.isfinite(prevalence):
        ax.hline(prevalence, CHANCE, dash="1.5 2")
        legend.append({"label": f"prevalence baseline ({prevalence:.3f})", "colour": CHANCE, "dash": "1.5 2",
                       "width": 1})
    for i, cv in enumerate(curves):
        col = cv.get("colour") or METRIC_COLOURS[i % len(METRIC_COLOURS)]
        ax.polyline(_floats(cv["recall"]), _floats(cv["precision"]), col, steps=True)
        legend.append({"label": f"{cv['name']} (AP {_num(cv['ap']):.3f})", "colour": col})
    for op in operating:
        col = op.get("colour", "#000")
        c.markers("o", [(ax.sx(_num(op["recall"])), ax.sy(_num(op["precision"])))], col, size=8, hollow=True,
                  width=2)
        legend.append({"label": op["label"], "colour": col, "kind": "marker", "hollow": True})
    _legend_in(c, ax, legend, "lower left")
    return c.svg()


def reliability_chart(cal: dict[str, Any]) -> str:
    """Reliability curve: fraction of positives per score bin against the bin's mean score, bin counts below."""
    c = Canvas(302, 331, "reliability curve")
    c.text(46 + 115, 12, "Reliability (calibration)", size=10, anchor="middle")
    ax = Axes(c, 50, 24, 241, 200, (0.0, 1.0), (0.0, 1.01))
    ax.frame(xlabels=[""] * len(nice_ticks(0.0, 1.0)), ylabel="fraction of positives")
    mp, fp, cnt = (_floats(cal[k]) for k in ("meanPredicted", "fractionPositive", "count"))
    ok = [i for i in range(len(mp)) if math.isfinite(mp[i]) and math.isfinite(fp[i])]
    ax.polyline([0.0, 1.0], [0.0, 1.0], CHANCE, width=1, dash="1.5 2")
    ax.polyline([mp[i] for i in ok], [fp[i] for i in ok], METRIC_COLOURS[0], width=1.5)
    c.markers("o", [(ax.sx(mp[i]), ax.sy(fp[i])) for i in ok], METRIC_COLOURS[0], size=5)
    _legend_in(c, ax, [{"label": "perfectly calibrated", "colour": CHANCE, "dash": "1.5 2", "width": 1.0},
                       {"label": "model", "colour": METRIC_COLOURS[0], "kind": "both", "size": 5}], "upper left")
    counts = [v if math.isfinite(v) else 0.0 for v in cnt]
    top = max([1.0, *counts])
    axc = Axes(c, 50, 234, 241, 52, (0.0, 1.0), (0.0, top * 1.05))
    axc.frame(yticks=nice_ticks(0.0, top, 3), xlabel="predicted probability (bin)", ylabel="rows", ysize=7)
    axc.stairs(counts, _floats(cal["edges"]), "#aaaaaa", fill=True)
    return c.svg()


def _hist_axes(label: str, title: str, edges: Sequence[float], top: float) -> tuple[Canvas, Axes]:
    c = Canvas(331, 216, label)
    c.text(50 + 133, 12, title, size=10, anchor="middle")
    ax = Axes(c, 50, 24, 270, 152, (edges[0], edges[-1]), (0.0, max(top, 1.0) * 1.05))
    ax.frame(xlabel="residual (actual − predicted)", ylabel="rows")
    return c, ax


def residual_chart(hist: dict[str, Any]) -> str:
    edges, counts = _floats(hist["edges"]), _floats(hist["counts"])
    c, ax = _hist_axes("residual histogram", "Residual histogram", edges, max(_finite(counts), default=1.0))
    ax.stairs(counts, edges, METRIC_COLOURS[0], fill=True)
    if edges[0] <= 0.0 <= edges[-1]:
        ax.vline(0.0, "#000", dash="4 2")
    _legend_in(c, ax, [{"label": "zero residual", "colour": "#000", "dash": "4 2", "width": 1}], "upper right")
    return c.svg()


def residual_compare_chart(hists: Sequence[tuple[str, str, dict[str, Any]]]) -> str:
    """The residual histograms of several models on shared edges, as outlined steps (``(name, colour, hist)``)."""
    edges = _floats(hists[0][2]["edges"])
    top = max((v for _, _, h in hists for v in _finite(h["counts"])), default=1.0)
    c, ax = _hist_axes("comparison residual histogram", "Residual histograms, same rows", edges, top)
    legend: list[dict[str, Any]] = []
    for name, col, h in hists:
        ax.stairs(_floats(h["counts"]), _floats(h["edges"]), col, fill=False)
        legend.append({"label": name, "colour": col})
    if edges[0] <= 0.0 <= edges[-1]:
        ax.vline(0.0, "#000", dash="4 2")
    legend.append({"label": "zero residual", "colour": "#000", "dash": "4 2", "width": 1})
    _legend_in(c, ax, legend, "upper right")
    return c.svg()


def predicted_actual_chart(pva: dict[str, Any], *, title: str = "Predicted vs actual (binned)",
                           label: str = "predicted vs actual") -> str:
    """Predicted against actual as a binned 2-D histogram (any window size), with the identity line.

    ``counts[i][j]``: actual bin ``i`` (x), predicted bin ``j`` (y); empty bins are left blank; the cells of one
    colour level are one path."""
    edges = _floats(pva["edges"])
    counts = [_floats(row) for row in pva["counts"]]
    vmax = max([1.0, *(v for row in counts for v in row if math.isfinite(v))])
    c = Canvas(331, 288, label)
    c.text(50 + 117, 12, title, size=10, anchor="middle")
    ax = Axes(c, 50, 24, 234, 224, (edges[0], edges[-1]), (edges[0], edges[-1]))
    levels: dict[int, list[str]] = {}
    for i, row in enumerate(counts):
        x0, x1 = ax.sx(edges[i]), ax.sx(edges[i + 1])
        for j, v in enumerate(row):
            if not (math.isfinite(v) and v > 0):
                continue
            y0, y1 = ax.sy(edges[j + 1]), ax.sy(edges[j])
            levels.setdefault(min(int(v / vmax * 24), 23), []).append(
                f"M{n(x0)} {n(y0)}h{n(x1 - x0)}v{n(y1 - y0)}h{n(x0 - x1)}Z")
    for level in sorted(levels):
        c.path("".join(levels[level]), fill=colour("viridis", (level + 0.5) / 24))
    ax.frame(xlabel="actual", ylabel="predicted", grid=False, box=True)
    ax.polyline([edges[0], edges[-1]], [edges[0], edges[-1]], THRESHOLD_COLOUR, width=1, dash="4 2")
    _legend_in(c, ax, [{"label": "predicted = actual", "colour": THRESHOLD_COLOUR, "dash": "4 2", "width": 1}],
               "upper left")
    c.colour_bar(ax.x + ax.w + 8, ax.y, 9, ax.h, "viridis", vmax, label="rows per bin")
    return c.svg()


def drift_heatmap(statistic: str, scale_max: float, floor: float, features: list[str], runs: list[str],
                  cells: list[list[dict[str, Any] | None]]) -> str:
    """Effect size of one drift statistic per feature (rows) and run (columns), on a FIXED absolute colour scale
    ``[0, scale_max]`` (values above are clipped to the top colour, the bar's triangle says so), the effect floor
    marked on the colour bar, drifted cells marked ``×`` and outlined, the p-values in each cell's ``<title>``
    (one ``<g>`` per cell)."""
    nf, nr = len(features), len(runs)
    left = 22 + _widest(features, 8)
    bottom = 22 + _widest(runs, 7) * 0.5
    top, right = 40.0, 128.0
    cw = max(12.0, min(29.0, (864 - left - right) / max(nr, 1)))
    ch = 22.0
    width = left + cw * nr + right
    height = max(173.0, top + ch * nf + bottom)
    c = Canvas(width, height, f"drift {statistic}")
    c.title(left, 12, [statistic, "effect size per feature and run (× = drifted)"], size=10)
    x0, y0 = left, top
    for i in range(nf):
        for j in range(nr):
            cell = cells[i][j]
            x, y = x0 + j * cw, y0 + i * ch
            if cell is None:
                c.rect(x, y, cw, ch, "#eeeeee")
                continue
            eff = _num(cell.get("effectSize"))
            fill = colour("YlOrRd", eff / scale_max) if math.isfinite(eff) else "#eeeeee"
            drifted = bool(cell.get("drifted"))
            tip = (f"{features[i]} · {runs[j]}: {statistic} {eff:.4g}; p = {_num(cell.get('pvalue')):.3g}, "
                   f"adjusted p = {_num(cell.get('pvalueAdjusted')):.3g}{'; DRIFTED' if drifted else ''}")
            stroke = ' stroke="#000" stroke-width="2"' if drifted else ""
            mark = (f'<text x="{n(x + cw / 2)}" y="{n(y + ch / 2)}" text-anchor="middle" dominant-baseline="central" '
                    'font-size="11" font-weight="bold">×</text>' if drifted else "")
            c.add(f'<g class="cell"><title>{escape(tip)}</title><rect x="{n(x)}" y="{n(y)}" width="{n(cw)}" '
                  f'height="{n(ch)}" fill="{fill}"{stroke}/>{mark}</g>')
    c.rect(x0, y0, cw * nr, ch * nf, "none", stroke=AXIS, width=0.6)
    for j, run in enumerate(runs):
        c.text(x0 + (j + 0.5) * cw + 2, y0 + ch * nf + 6, run, size=7, anchor="end", rotate=-30, baseline="hanging")
    for i, feature in enumerate(features):
        c.text(x0 - 4, y0 + (i + 0.5) * ch, feature, size=8, anchor="end")
    c.colour_bar(x0 + cw * nr + 10, y0 + 8, 10, max(ch * nf - 8, 60.0), "YlOrRd", scale_max, extend=True, mark=floor,
                 label=["effect size,", f"fixed scale 0–{scale_max:g};", "black line:", f"floor {floor:g}"])
    return c.svg()


def bars_chart(title: str, names: list[str], values: list[float], *, xlabel: str = "rows") -> str:
    """Horizontal bars with their values written at their ends."""
    k = max(1, len(names))
    left = 22 + _widest(names, 9)
    c = Canvas(left + 245, 68 + 22 * k, title)
    c.text(left, 12, title, size=10)
    top = max([*values, 1.0]) * 1.2
    ax = Axes(c, left, 24, 216, 22 * k, (0.0, top), (k - 0.5, -0.5))
    ax.frame(yticks=list(range(len(names))), ylabels=[str(s) for s in names], xlabel=xlabel, ysize=9)
    d = []
    for i, v in enumerate(values):
        y0, y1 = ax.sy(i - 0.4), ax.sy(i + 0.4)
        d.append(f"M{n(ax.sx(0.0))} {n(y0)}H{n(ax.sx(v))}V{n(y1)}H{n(ax.sx(0.0))}Z")
        c.text(ax.sx(v) + 3, ax.sy(i), f"{v:g}", size=8)
    if d:
        c.path("".join(d), fill="#7f7f7f")
    return c.svg()
