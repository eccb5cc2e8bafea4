"""The report's charts: matplotlib figures drawn by the SVG backend, returned as inline ``<svg>`` strings.

Text stays text (``svg.fonttype = none``) so a page is searchable and the tests can read every label; ids are
deterministic (``svg.hashsalt``) and no date is written, so one report renders byte for byte the same twice.
Hover text: an artist given a gid ``tip-N`` gets ``<title>`` N of the ``tips`` list after rendering.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from html import escape
from typing import Any

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

plt.rcParams.update({
    "svg.fonttype": "none", "svg.hashsalt": "driftline", "font.size": 9, "axes.titlesize": 10,
    "axes.spines.top": False, "axes.spines.right": False, "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"], "axes.grid": True, "grid.alpha": 0.3,
})

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
CHAMPION, CHALLENGER = "#1f77b4", "#ff7f0e"


def to_svg(fig: Figure, tips: Sequence[str] = (), *, label: str = "") -> str:
    """The figure as one ``<svg>`` element (no XML prolog), with ``<title>`` hover texts filled in."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    plt.close(fig)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<!--.*?-->\s*", "", svg, flags=re.S)
    for i, tip in enumerate(tips):
        svg = svg.replace(f'<g id="tip-{i}">', f'<g id="tip-{i}"><title>{escape(tip)}</title>', 1)
    if label:
        svg = svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" data-chart="{escape(label)}" ', 1)
    return svg


def _finite(values: Sequence[Any]) -> list[float]:
    out = []
    for v in values:
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(f):
            out.append(f)
    return out


def _num(v: Any) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return math.nan
    return f


def history_chart(metric: str, points: list[dict[str, Any]], threshold: dict[str, Any] | None,
                  events: list[dict[str, Any]], colour_index: int = 0) -> str:
    """One thresholded metric over the last runs: value, per-window interval, threshold, run events.

    ``points``: ``{"x": index, "label", "value", "lower", "upper"}``; ``events``: ``{"x", "kind"}``.
    The y-axis spans the data and its intervals; a threshold is drawn inside when that at most triples the span,
    else it is named at the edge it lies beyond (``max 1.2 ↑``). Threshold labels sit in the right margin,
    outside the data. Run events get their own strip above the chart, one labelled row per kind, each with
    its own marker shape (never a metric colour).
    """
    kinds = [k for k in EVENT_STYLES if any(e["kind"] == k for e in events)]
    if kinds:
        fig, (axe, ax) = plt.subplots(2, 1, figsize=(5.9, 2.7 + 0.16 * len(kinds)), sharex=True,
                                      height_ratios=[0.35 + 0.22 * len(kinds), 3])
    else:
        fig, ax = plt.subplots(figsize=(5.9, 2.7))
        axe = None
    colour = METRIC_COLOURS[colour_index % len(METRIC_COLOURS)]
    xs = [p["x"] for p in points]
    vals = [_num(p.get("value")) for p in points]
    lo = [_num(p.get("lower")) for p in points]
    hi = [_num(p.get("upper")) for p in points]
    ax.plot(xs, vals, "-o", color=colour, ms=4, lw=1.5, label=metric)
    have_ci = [i for i in range(len(xs)) if math.isfinite(lo[i]) and math.isfinite(hi[i]) and math.isfinite(vals[i])]
    if have_ci:
        ax.errorbar([xs[i] for i in have_ci], [vals[i] for i in have_ci],
                    yerr=[[max(0.0, vals[i] - lo[i]) for i in have_ci], [max(0.0, hi[i] - vals[i]) for i in have_ci]],
                    fmt="none", ecolor=colour, alpha=0.5, capsize=3, lw=1, label="interval")
    span = _finite(vals) + _finite(lo) + _finite(hi)
    a, b = (min(span), max(span)) if span else (0.0, 1.0)
    data_range = (b - a) or max(abs(a) * 0.05, 0.01)
    tvals: list[tuple[str, float]] = []
    if threshold:
        for side in ("min", "max"):
            if threshold.get(side) is not None and math.isfinite(_num(threshold[side])):
                tvals.append((side, float(threshold[side])))
    inside = [(s, t) for s, t in tvals if max(b, t) - min(a, t) <= 3 * data_range]
    for _, t in inside:
        a, b = min(a, t), max(b, t)
    pad = (b - a) * 0.12 or data_range * 0.5
    ax.set_ylim(a - pad, b + pad)
    for side, t in tvals:
        if (side, t) in inside:
            ax.axhline(t, color=THRESHOLD_COLOUR, ls="--", lw=1.2)
            ax.annotate(f"{side} {t:g}", xy=(1.0, t), xycoords=("axes fraction", "data"), xytext=(4, 0),
                        textcoords="offset points", va="center", ha="left", color=THRESHOLD_COLOUR, fontsize=8,
                        annotation_clip=False)
        else:
            above = t > b
            ax.annotate(f"{side} {t:g} {'↑' if above else '↓'}", xy=(1.0, 1.0 if above else 0.0),
                        xycoords="axes fraction", xytext=(4, 0), textcoords="offset points",
                        va="top" if above else "bottom", ha="left", color=THRESHOLD_COLOUR, fontsize=8)
    if axe is not None:
        for row, kind in enumerate(kinds):
            marker, ecol, _ = EVENT_STYLES[kind]
            xk = [e["x"] for e in events if e["kind"] == kind]
            axe.plot(xk, [row] * len(xk), marker=marker, color=ecol, ms=8, ls="none")
            for x in xk:
                ax.axvline(x, color=ecol, lw=0.8, ls=":", alpha=0.8)
        axe.set_yticks(range(len(kinds)), [EVENT_STYLES[k][2] for k in kinds], fontsize=7)
        axe.set_ylim(-0.6, len(kinds) - 0.4)
        axe.invert_yaxis()
        axe.grid(False)
        axe.spines[["left", "bottom"]].set_visible(False)
        axe.tick_params(axis="both", length=0)
        axe.set_title(f"{metric} over the last {len(points)} runs")
    else:
        ax.set_title(f"{metric} over the last {len(points)} runs")
    labels = [p["label"] for p in points]
    if all(lab.endswith("00:00") for lab in labels):
        labels = [lab[:10] for lab in labels]
    ax.set_xticks(xs, labels, rotation=30, ha="right", fontsize=7)
    ax.set_xlim(min(xs) - 0.5, max(xs) + 0.5)
    ax.set_ylabel(metric)
    ax.legend(loc="best", fontsize=7, framealpha=0.8)
    return to_svg(fig, label=f"history {metric}")


def confusion_chart(labels: list[str], matrix: list[list[int]], *, title: str = "Confusion matrix") -> str:
    """Counts and row-normalised (recall per true class) side by side."""
    m = np.asarray(matrix, dtype=float)
    k = len(labels)
    with np.errstate(invalid="ignore", divide="ignore"):
        norm = m / m.sum(axis=1, keepdims=True)
    size = min(3.2 + 0.35 * k, 9.0)
    fig, axes = plt.subplots(1, 2, figsize=(2 * size + 1.0, size))
    for ax, data, sub, fmt in ((axes[0], m, "counts", "{:.0f}"), (axes[1], norm, "row-normalised", "{:.2f}")):
        shown = np.nan_to_num(data, nan=0.0)
        vmax = 1.0 if sub == "row-normalised" else max(1.0, float(shown.max()))
        ax.imshow(shown, cmap="Blues", vmin=0.0, vmax=vmax)
        ax.grid(False)
        for i in range(k):
            for j in range(k):
                v = data[i, j]
                txt = "n/a" if not math.isfinite(v) else fmt.format(v)
                ax.text(j, i, txt, ha="center", va="center", fontsize=8 if k <= 6 else 6,
                        color="white" if shown[i, j] > 0.6 * vmax else "black")
        ax.set_xticks(range(k), labels, rotation=45 if k > 3 else 0, ha="right" if k > 3 else "center")
        ax.set_yticks(range(k), labels)
        ax.set_xlabel("predicted")
        ax.set_ylabel("actual")
        ax.set_title(f"{title} ({sub})")
    fig.tight_layout()
    return to_svg(fig, label=f"{title} counts and row-normalised")


def per_class_chart(rows: list[dict[str, Any]]) -> str:
    """Precision, recall and F1 per class (grouped bars), from the confusion matrix."""
    labels = [r["label"] for r in rows]
    x = np.arange(len(labels))
    fig, ax = plt.subplots(figsize=(max(4.5, 0.9 * len(labels) + 2), 2.8))
    for i, (key, col) in enumerate((("precision", "#1f77b4"), ("recall", "#2ca02c"), ("f1", "#9467bd"))):
        vals = [_num(r.get(key)) for r in rows]
        ax.bar(x + (i - 1) * 0.26, np.nan_to_num(vals, nan=0.0), width=0.26, color=col, label=key)
    ax.set_xticks(x, labels, rotation=30 if len(labels) > 4 else 0)
    ax.set_ylim(0, 1.05)
    ax.set_title("Precision / recall / F1 per class")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return to_svg(fig, label="per-class precision recall f1")


def roc_chart(curves: list[dict[str, Any]], operating: list[dict[str, Any]] = ()) -> str:  # type: ignore[assignment]
    """ROC curves (``{"name", "fpr", "tpr", "auc", "colour"?}``), AUC in the legend, operating point(s)."""
    fig, ax = plt.subplots(figsize=(4.2, 4.0))
    ax.plot([0, 1], [0, 1], color="#999999", ls=":", lw=1, label="chance (AUC 0.5)")
    for i, c in enumerate(curves):
        col = c.get("colour") or METRIC_COLOURS[i % len(METRIC_COLOURS)]
        ax.plot(c["fpr"], c["tpr"], color=col, lw=1.6, label=f"{c['name']} (AUC {c['auc']:.3f})")
    for op in operating:
        ax.plot([op["fpr"]], [op["tpr"]], marker="o", ms=8, mfc="none", mec=op.get("colour", "black"), mew=2,
                ls="none", label=op["label"])
    ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    ax.set_aspect("equal")
    ax.legend(loc="lower right", fontsize=7)
    return to_svg(fig, label="roc curve")


def pr_chart(curves: list[dict[str, Any]], prevalence: float | None,
             operating: list[dict[str, Any]] = ()) -> str:  # type: ignore[assignment]
    """Precision–recall curves with AP in the legend, the prevalence baseline and the operating point(s)."""
    fig, ax = plt.subplots(figsize=(4.2, 4.0))
    if prevalence is not None and math.isfinite(prevalence):
        ax.axhline(prevalence, color="#999999", ls=":", lw=1, label=f"prevalence baseline ({prevalence:.3f})")
    for i, c in enumerate(curves):
        col = c.get("colour") or METRIC_COLOURS[i % len(METRIC_COLOURS)]
        ax.plot(c["recall"], c["precision"], color=col, lw=1.6, label=f"{c['name']} (AP {c['ap']:.3f})",
                drawstyle="steps-post")
    for op in operating:
        ax.plot([op["recall"]], [op["precision"]], marker="o", ms=8, mfc="none", mec=op.get("colour", "black"),
                mew=2, ls="none", label=op["label"])
    ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="recall", ylabel="precision", title="Precision–recall")
    ax.set_aspect("equal")
    ax.legend(loc="lower left", fontsize=7)
    return to_svg(fig, label="precision recall curve")


def reliability_chart(cal: dict[str, Any]) -> str:
    """Reliability curve: fraction of positives per score bin against the bin's mean score, bin counts below."""
    fig, (ax, axc) = plt.subplots(2, 1, figsize=(4.2, 4.6), height_ratios=[3, 1], sharex=True)
    mp, fp, cnt = (np.asarray([_num(v) for v in cal[k]]) for k in ("meanPredicted", "fractionPositive", "count"))
    ok = np.isfinite(mp) & np.isfinite(fp)
    ax.plot([0, 1], [0, 1], color="#999999", ls=":", lw=1, label="perfectly calibrated")
    ax.plot(mp[ok], fp[ok], "-o", color=METRIC_COLOURS[0], ms=4, label="model")
    ax.set(xlim=(0, 1), ylim=(0, 1.01), ylabel="fraction of positives", title="Reliability (calibration)")
    ax.legend(loc="upper left", fontsize=7)
    edges = np.asarray(cal["edges"], dtype=float)
    axc.bar(edges[:-1], np.nan_to_num(cnt), width=np.diff(edges), align="edge", color="#aaaaaa", edgecolor="white")
    axc.set(xlabel="predicted probability (bin)", ylabel="rows")
    fig.tight_layout()
    return to_svg(fig, label="reliability curve")


def residual_chart(hist: dict[str, Any]) -> str:
    edges = np.asarray(hist["edges"], dtype=float)
    counts = np.asarray(hist["counts"], dtype=float)
    fig, ax = plt.subplots(figsize=(4.6, 3.0))
    ax.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color=METRIC_COLOURS[0], edgecolor="white")
    ax.axvline(0.0, color="black", lw=1, ls="--", label="zero residual")
    ax.set(xlabel="residual (actual − predicted)", ylabel="rows", title="Residual histogram")
    ax.legend(fontsize=7)
    return to_svg(fig, label="residual histogram")


def predicted_actual_chart(pva: dict[str, Any]) -> str:
    """Predicted against actual as a binned 2-D histogram (any window size), with the identity line."""
    edges = np.asarray(pva["edges"], dtype=float)
    counts = np.asarray(pva["counts"], dtype=float)
    fig, ax = plt.subplots(figsize=(4.6, 4.0))
    shown = np.ma.masked_where(counts.T == 0, counts.T)
    mesh = ax.pcolormesh(edges, edges, shown, cmap="viridis")
    ax.plot([edges[0], edges[-1]], [edges[0], edges[-1]], color="#d62728", lw=1, ls="--", label="predicted = actual")
    fig.colorbar(mesh, ax=ax, label="rows per bin")
    ax.set(xlabel="actual", ylabel="predicted", title="Predicted vs actual (binned)")
    ax.grid(False)
    ax.legend(loc="upper left", fontsize=7)
    return to_svg(fig, label="predicted vs actual")


def drift_heatmap(statistic: str, scale_max: float, floor: float, features: list[str], runs: list[str],
                  cells: list[list[dict[str, Any] | None]]) -> str:
    """Effect size of one drift statistic per feature (rows) and run (columns), on a FIXED absolute colour scale
    ``[0, scale_max]`` (values above are clipped to the top colour and say so), the effect floor marked on the
    colour bar, drifted cells marked ``×`` and outlined, the p-values in each cell's ``<title>``."""
    nf, nr = len(features), len(runs)
    data = np.full((nf, nr), np.nan)
    for i in range(nf):
        for j in range(nr):
            c = cells[i][j]
            if c is not None:
                data[i, j] = _num(c.get("effectSize"))
    fig, ax = plt.subplots(figsize=(min(3.0 + 0.55 * nr, 11), max(2.4, 1.2 + 0.32 * nf)))
    norm = Normalize(vmin=0.0, vmax=scale_max, clip=True)
    cmap = plt.get_cmap("YlOrRd").copy()
    cmap.set_bad("#eeeeee")
    im = ax.imshow(np.ma.masked_invalid(data), cmap=cmap, norm=norm, aspect="auto")
    ax.grid(False)
    tips: list[str] = []
    for i in range(nf):
        for j in range(nr):
            c = cells[i][j]
            if c is None:
                continue
            rect = plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False,
                                 edgecolor="black" if c.get("drifted") else "none", lw=2)
            rect.set_gid(f"tip-{len(tips)}")
            ax.add_patch(rect)
            tips.append(f"{features[i]} · {runs[j]}: {statistic} {_num(c.get('effectSize')):.4g}; "
                        f"p = {_num(c.get('pvalue')):.3g}, adjusted p = {_num(c.get('pvalueAdjusted')):.3g}"
                        f"{'; DRIFTED' if c.get('drifted') else ''}")
            if c.get("drifted"):
                ax.text(j, i, "×", ha="center", va="center", fontsize=11, color="black", fontweight="bold")
    ax.set_xticks(range(nr), runs, rotation=30, ha="right", fontsize=7)
    ax.set_yticks(range(nf), features, fontsize=8)
    ax.set_title(f"{statistic}\neffect size per feature and run (× = drifted)")
    cb = fig.colorbar(im, ax=ax, extend="max", pad=0.02)
    cb.set_label(f"effect size, fixed scale 0–{scale_max:g}; black line: floor {floor:g}", fontsize=7)
    cb.ax.axhline(floor, color="black", lw=2.5)
    return to_svg(fig, tips, label=f"drift {statistic}")


def bars_chart(title: str, names: list[str], values: list[float], *, xlabel: str = "rows") -> str:
    fig, ax = plt.subplots(figsize=(5.0, 0.6 + 0.3 * max(1, len(names))))
    ax.barh(range(len(names)), values, color="#7f7f7f")
    for i, v in enumerate(values):
        ax.text(v, i, f" {v:g}", va="center", fontsize=8)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set(title=title, xlabel=xlabel)
    ax.set_xlim(0, max([*values, 1]) * 1.2)
    return to_svg(fig, label=title)
