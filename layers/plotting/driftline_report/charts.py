"""The report's charts: matplotlib figures drawn by the SVG backend, returned as inline ``<svg>`` strings.

Text stays text (``svg.fonttype = none``: no glyph paths, smaller files) so a page is searchable and the tests can
read every label; ids are deterministic (``svg.hashsalt``) and no date is written, so one report renders byte for
byte the same twice.

Cost: the report is drawn after every pipeline execution, so each chart is drawn ONCE: pyplot-free ``Figure``
objects on the SVG canvas, fixed margins computed from the label lengths (no ``bbox_inches="tight"`` or
``tight_layout``, which draw or measure the figure a second time), one collection where a chart would otherwise
have one artist per bar or line, and the drift heat map's per-cell outlines, ``×`` marks and hover ``<title>``
written straight into the SVG.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from html import escape
from typing import Any

import matplotlib
import numpy as np
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.collections import PolyCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

matplotlib.rcParams.update({
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
CHAMPION, CHALLENGER, THIRD_MODEL = "#1f77b4", "#ff7f0e", "#2ca02c"
SVG_DPI = 72  # the SVG backend's user unit is the point


def _text_in(labels: Sequence[Any], size: float = 9.0) -> float:
    """Width in inches of the longest label at ``size`` points (DejaVu Sans averages ~0.6 em per character)."""
    return max((len(str(v)) for v in labels), default=0) * size * 0.62 / 72


def _figure(w: float, h: float, *, left: float = 0.6, right: float = 0.2, bottom: float = 0.5, top: float = 0.35,
            **grid: Any) -> tuple[Figure, Any]:
    """A pyplot-free figure of ``w`` × ``h`` inches with fixed margins (inches); the gridspec keywords
    (``nrows``, ``ncols``, ``height_ratios``, ``wspace`` …) go to ``add_gridspec``."""
    fig = Figure(figsize=(w, h))
    FigureCanvasSVG(fig)
    nrows, ncols = grid.pop("nrows", 1), grid.pop("ncols", 1)
    gs = fig.add_gridspec(nrows, ncols, left=min(left / w, 0.45), right=1 - min(right / w, 0.45),
                          bottom=min(bottom / h, 0.45), top=1 - min(top / h, 0.45), **grid)
    return fig, gs


def to_svg(fig: Figure, tips: Sequence[str] = (), *, label: str = "", overlay: str = "") -> str:
    """The figure as one ``<svg>`` element (no XML prolog), with ``<title>`` hover texts filled in and
    ``overlay`` (SVG markup in the figure's point coordinates) appended on top."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<!--.*?-->\s*", "", svg, flags=re.S)
    for i, tip in enumerate(tips):
        svg = svg.replace(f'<g id="tip-{i}">', f'<g id="tip-{i}"><title>{escape(tip)}</title>', 1)
    if overlay:
        end = svg.rindex("</svg>")
        svg = svg[:end] + overlay + svg[end:]
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
    outside the data; the legend sits above the chart, beside the title. Run events get their own strip above
    the chart, one labelled row per kind, each with its own marker shape (never a metric colour).
    """
    kinds = [k for k in EVENT_STYLES if any(e["kind"] == k for e in events)]
    labels = [p["label"] for p in points]
    if all(lab.endswith("00:00") for lab in labels):
        labels = [lab[:10] for lab in labels]
    bottom = 0.25 + _text_in(labels, 7) * 0.5 + 0.1
    left = max(0.75, _text_in([EVENT_STYLES[k][2] for k in kinds], 7) + 0.2)
    strip = 0.35 + 0.22 * len(kinds) if kinds else 0.0
    fig, gs = _figure(5.9, 2.2 + bottom + strip * 0.9, left=left, right=1.05, bottom=bottom, top=0.45,
                      nrows=2 if kinds else 1, height_ratios=[strip, 2.2] if kinds else None, hspace=0.08)
    ax = fig.add_subplot(gs[-1])
    axe = fig.add_subplot(gs[0]) if kinds else None  # not sharex: the strip needs no x ticks (Tick objects cost)
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
    ax.yaxis.set_major_locator(MaxNLocator(5))
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
    title_ax = axe if axe is not None else ax
    if axe is not None:
        for row, kind in enumerate(kinds):
            marker, ecol, _ = EVENT_STYLES[kind]
            xk = [e["x"] for e in events if e["kind"] == kind]
            axe.plot(xk, [row] * len(xk), marker=marker, color=ecol, ms=8, ls="none")
            ax.vlines(xk, 0, 1, transform=ax.get_xaxis_transform(), colors=ecol, lw=0.8, linestyles=":", alpha=0.8)
        axe.set_yticks(range(len(kinds)), [EVENT_STYLES[k][2] for k in kinds], fontsize=7)
        axe.set_ylim(-0.6, len(kinds) - 0.4)
        axe.invert_yaxis()
        axe.grid(False)
        axe.spines[["left", "bottom"]].set_visible(False)
        axe.tick_params(axis="both", length=0, labelbottom=False)
        axe.set_xticks([])
        axe.set_xlim(min(p["x"] for p in points) - 0.5, max(p["x"] for p in points) + 0.5)
    title_ax.set_title(f"{metric} over the last {len(points)} runs", loc="left")
    ax.set_xticks(xs, labels, rotation=30, ha="right", fontsize=7)
    ax.set_xlim(min(xs) - 0.5, max(xs) + 0.5)
    ax.set_ylabel(metric)
    handles, names = ax.get_legend_handles_labels()
    fig.legend(handles, names, loc="upper right", bbox_to_anchor=(1 - 1.05 / 5.9, 1.0), ncols=2, fontsize=7,
               frameon=False)
    return to_svg(fig, label=f"history {metric}")


def confusion_chart(labels: list[str], matrix: list[list[int]], *, title: str = "Confusion matrix") -> str:
    """Counts and row-normalised (recall per true class) side by side."""
    m = np.asarray(matrix, dtype=float)
    k = len(labels)
    with np.errstate(invalid="ignore", divide="ignore"):
        norm = m / m.sum(axis=1, keepdims=True)
    cell = 0.45 if k <= 6 else 0.3
    side = min(max(1.6, cell * k, _text_in([title], 9) - 0.3), 7.0)
    tick = _text_in(labels, 9)
    bottom = 0.55 + (tick * 0.71 if k > 3 else 0.1)
    left = 0.45 + tick
    top = 0.5
    w = left * 2 + side * 2 + 0.3
    fig, gs = _figure(w, side + bottom + top, left=left, right=0.15, bottom=bottom, top=top, ncols=2,
                      wspace=left / side + 0.05)
    for n, (data, sub, fmt) in enumerate(((m, "counts", "{:.0f}"), (norm, "row-normalised", "{:.2f}"))):
        ax = fig.add_subplot(gs[n])
        shown = np.nan_to_num(data, nan=0.0)
        vmax = 1.0 if sub == "row-normalised" else max(1.0, float(shown.max()))
        ax.imshow(shown, cmap="Blues", vmin=0.0, vmax=vmax, aspect="auto")
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
        ax.set_title(f"{title}\n({sub})", fontsize=9)
    return to_svg(fig, label=f"{title} counts and row-normalised")


def _bars(x0: np.ndarray, width: float, heights: Sequence[float] | np.ndarray, colour: str, label: str = "", *,
          horizontal: bool = False) -> PolyCollection:
    """Bars as ONE PolyCollection (one SVG path group instead of one patch per bar)."""
    verts = []
    for x, h in zip(np.asarray(x0, dtype=float), np.asarray(heights, dtype=float), strict=True):
        rect = [(x, 0.0), (x, h), (x + width, h), (x + width, 0.0)]
        verts.append([(b, a) for a, b in rect] if horizontal else rect)
    return PolyCollection(verts, facecolors=colour, edgecolors="white", linewidths=0.5, label=label)


def per_class_chart(rows: list[dict[str, Any]]) -> str:
    """Precision, recall and F1 per class (grouped bars, one collection per measure), from the confusion matrix."""
    labels = [r["label"] for r in rows]
    x = np.arange(len(labels))
    w = max(4.5, 0.9 * len(labels) + 2)
    bottom = 0.35 + (_text_in(labels, 9) * 0.5 if len(labels) > 4 else 0)
    fig, gs = _figure(w + 0.3, 2.8, left=0.5, right=1.3, bottom=bottom, top=0.35)
    ax = fig.add_subplot(gs[0])
    for i, (key, col) in enumerate((("precision", "#1f77b4"), ("recall", "#2ca02c"), ("f1", "#9467bd"))):
        vals = np.nan_to_num([_num(r.get(key)) for r in rows], nan=0.0)
        x0 = x + (i - 1) * 0.26 - 0.13
        ax.add_collection(_bars(x0, 0.26, vals, col, key))
    ax.set_xticks(x, labels, rotation=30 if len(labels) > 4 else 0)
    ax.set_xlim(-0.6, len(labels) - 0.4)
    ax.set_ylim(0, 1.05)
    ax.set_title("Precision / recall / F1 per class")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return to_svg(fig, label="per-class precision recall f1")
def roc_chart(curves: list[dict[str, Any]], operating: Sequence[dict[str, Any]] = (), *, title: str = "ROC",
              label: str = "roc curve") -> str:
    """ROC curves (``{"name", "fpr", "tpr", "auc", "colour"?}``), AUC in the legend, operating point(s)."""
    fig, gs = _figure(4.2, 4.0, left=0.6, right=0.15, bottom=0.5, top=0.35)
    ax = fig.add_subplot(gs[0])
    ax.plot([0, 1], [0, 1], color="#999999", ls=":", lw=1, label="chance (AUC 0.5)")
    for i, c in enumerate(curves):
        col = c.get("colour") or METRIC_COLOURS[i % len(METRIC_COLOURS)]
        ax.plot(c["fpr"], c["tpr"], color=col, lw=1.6, label=f"{c['name']} (AUC {c['auc']:.3f})")
    for op in operating:
        ax.plot([op["fpr"]], [op["tpr"]], marker="o", ms=8, mfc="none", mec=op.get("colour", "black"), mew=2,
                ls="none", label=op["label"])
    ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="false positive rate", ylabel="true positive rate", title=title)
    ax.legend(loc="lower right", fontsize=7)
    return to_svg(fig, label=label)


def pr_chart(curves: list[dict[str, Any]], prevalence: float | None, operating: Sequence[dict[str, Any]] = (), *,
             title: str = "Precision–recall", label: str = "precision recall curve") -> str:
    """Precision–recall curves with AP in the legend, the prevalence baseline and the operating point(s)."""
    fig, gs = _figure(4.2, 4.0, left=0.6, right=0.15, bottom=0.5, top=0.35)
    ax = fig.add_subplot(gs[0])
    if prevalence is not None and math.isfinite(prevalence):
        ax.axhline(prevalence, color="#999999", ls=":", lw=1, label=f"prevalence baseline ({prevalence:.3f})")
    for i, c in enumerate(curves):
        col = c.get("colour") or METRIC_COLOURS[i % len(METRIC_COLOURS)]
        ax.plot(c["recall"], c["precision"], color=col, lw=1.6, label=f"{c['name']} (AP {c['ap']:.3f})",
                drawstyle="steps-post")
    for op in operating:
        ax.plot([op["recall"]], [op["precision"]], marker="o", ms=8, mfc="none", mec=op.get("colour", "black"),
                mew=2, ls="none", label=op["label"])
    ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="recall", ylabel="precision", title=title)
    ax.legend(loc="lower left", fontsize=7)
    return to_svg(fig, label=label)


def reliability_chart(cal: dict[str, Any]) -> str:
    """Reliability curve: fraction of positives per score bin against the bin's mean score, bin counts below."""
    fig, gs = _figure(4.2, 4.6, left=0.65, right=0.15, bottom=0.5, top=0.35, nrows=2, height_ratios=[3, 1],
                      hspace=0.12)
    ax = fig.add_subplot(gs[0])
    axc = fig.add_subplot(gs[1], sharex=ax)
    mp, fp, cnt = (np.asarray([_num(v) for v in cal[k]]) for k in ("meanPredicted", "fractionPositive", "count"))
    ok = np.isfinite(mp) & np.isfinite(fp)
    ax.plot([0, 1], [0, 1], color="#999999", ls=":", lw=1, label="perfectly calibrated")
    ax.plot(mp[ok], fp[ok], "-o", color=METRIC_COLOURS[0], ms=4, label="model")
    ax.set(xlim=(0, 1), ylim=(0, 1.01), ylabel="fraction of positives", title="Reliability (calibration)")
    ax.tick_params(labelbottom=False)
    ax.legend(loc="upper left", fontsize=7)
    edges = np.asarray(cal["edges"], dtype=float)
    axc.stairs(np.nan_to_num(cnt), edges, fill=True, color="#aaaaaa")
    axc.set(xlabel="predicted probability (bin)", ylabel="rows")
    axc.yaxis.set_major_locator(MaxNLocator(3))
    return to_svg(fig, label="reliability curve")


def residual_chart(hist: dict[str, Any]) -> str:
    edges = np.asarray(hist["edges"], dtype=float)
    counts = np.asarray(hist["counts"], dtype=float)
    fig, gs = _figure(4.6, 3.0, left=0.65, right=0.15, bottom=0.5, top=0.35)
    ax = fig.add_subplot(gs[0])
    ax.stairs(counts, edges, fill=True, color=METRIC_COLOURS[0])
    ax.axvline(0.0, color="black", lw=1, ls="--", label="zero residual")
    ax.set(xlabel="residual (actual − predicted)", ylabel="rows", title="Residual histogram")
    ax.legend(fontsize=7)
    return to_svg(fig, label="residual histogram")


def residual_compare_chart(hists: Sequence[tuple[str, str, dict[str, Any]]]) -> str:
    """The residual histograms of several models on shared edges, as outlined steps (``(name, colour, hist)``)."""
    fig, gs = _figure(4.6, 3.0, left=0.65, right=0.15, bottom=0.5, top=0.35)
    ax = fig.add_subplot(gs[0])
    for name, colour, h in hists:
        ax.stairs(np.asarray(h["counts"], dtype=float), np.asarray(h["edges"], dtype=float), color=colour, lw=1.6,
                  label=name)
    ax.axvline(0.0, color="black", lw=1, ls="--", label="zero residual")
    ax.set(xlabel="residual (actual − predicted)", ylabel="rows", title="Residual histograms, same rows")
    ax.legend(fontsize=7)
    return to_svg(fig, label="comparison residual histogram")


def predicted_actual_chart(pva: dict[str, Any], *, title: str = "Predicted vs actual (binned)",
                           label: str = "predicted vs actual") -> str:
    """Predicted against actual as a binned 2-D histogram (any window size), with the identity line."""
    edges = np.asarray(pva["edges"], dtype=float)
    counts = np.asarray(pva["counts"], dtype=float)
    fig, gs = _figure(4.6, 4.0, left=0.65, right=1.0, bottom=0.5, top=0.35)
    ax = fig.add_subplot(gs[0])
    shown = np.ma.masked_where(counts.T == 0, counts.T)
    mesh = ax.pcolormesh(edges, edges, shown, cmap="viridis", rasterized=True)
    ax.plot([edges[0], edges[-1]], [edges[0], edges[-1]], color="#d62728", lw=1, ls="--", label="predicted = actual")
    pos = ax.get_position()
    cax = fig.add_axes((pos.x1 + 0.03, pos.y0, 0.035, pos.height))
    fig.colorbar(mesh, cax=cax, label="rows per bin")
    ax.set(xlabel="actual", ylabel="predicted", title=title)
    ax.grid(False)
    ax.legend(loc="upper left", fontsize=7)
    return to_svg(fig, label=label)


def drift_heatmap(statistic: str, scale_max: float, floor: float, features: list[str], runs: list[str],
                  cells: list[list[dict[str, Any] | None]]) -> str:
    """Effect size of one drift statistic per feature (rows) and run (columns), on a FIXED absolute colour scale
    ``[0, scale_max]`` (values above are clipped to the top colour and say so), the effect floor marked on the
    colour bar, drifted cells marked ``×`` and outlined, the p-values in each cell's ``<title>``.

    The outlines, marks and hover titles are written into the SVG directly (one ``<g>`` per cell) at the cells'
    positions, so the figure itself holds only the image, the axes and the colour bar."""
    nf, nr = len(features), len(runs)
    data = np.full((nf, nr), np.nan)
    for i in range(nf):
        for j in range(nr):
            c = cells[i][j]
            if c is not None:
                data[i, j] = _num(c.get("effectSize"))
    left = 0.3 + _text_in(features, 8)
    bottom = 0.3 + _text_in(runs, 7) * 0.5 + 0.1
    w = min(left + 1.3 + 0.4 * nr, 12.0)
    h = max(2.4, bottom + 0.55 + 0.3 * nf)
    fig, gs = _figure(w, h, left=left, right=1.25, bottom=bottom, top=0.55)
    ax = fig.add_subplot(gs[0])
    cmap = matplotlib.colormaps["YlOrRd"].with_extremes(bad="#eeeeee")
    im = ax.imshow(np.ma.masked_invalid(data), cmap=cmap, norm=Normalize(vmin=0.0, vmax=scale_max, clip=True),
                   aspect="auto")
    ax.grid(False)
    ax.set_xticks([])  # tick labels are written into the SVG below (one text each, no matplotlib Tick objects)
    ax.set_yticks([])
    ax.set_title(f"{statistic}\neffect size per feature and run (× = drifted)")
    pos = ax.get_position()
    cax = fig.add_axes((pos.x1 + 0.12 / w, pos.y0, 0.14 / w, pos.height))
    cb = fig.colorbar(im, cax=cax, extend="max")
    cb.set_label(f"effect size, fixed scale 0–{scale_max:g}; black line: floor {floor:g}", fontsize=7)
    cb.ax.axhline(floor, color="black", lw=2.5)
    # cell overlays in SVG points: data (j ± 0.5, i ± 0.5) → figure inches → points, y down
    fig.set_dpi(SVG_DPI)
    to_px = ax.transData.transform
    height = h * SVG_DPI
    out = []
    for i in range(nf):
        for j in range(nr):
            c = cells[i][j]
            if c is None:
                continue
            (x0, y0), (x1, y1) = to_px([(j - 0.5, i + 0.5), (j + 0.5, i - 0.5)])
            drifted = bool(c.get("drifted"))
            tip = (f"{features[i]} · {runs[j]}: {statistic} {_num(c.get('effectSize')):.4g}; "
                   f"p = {_num(c.get('pvalue')):.3g}, adjusted p = {_num(c.get('pvalueAdjusted')):.3g}"
                   f"{'; DRIFTED' if drifted else ''}")
            stroke = 'stroke="#000" stroke-width="2"' if drifted else 'stroke="none"'
            mark = (f'<text x="{(x0 + x1) / 2:.2f}" y="{height - (y0 + y1) / 2:.2f}" text-anchor="middle" '
                    'dominant-baseline="central" style="font: bold 11px \'DejaVu Sans\', sans-serif">×</text>'
                    if drifted else "")
            out.append(f'<g class="cell"><title>{escape(tip)}</title><rect x="{x0:.2f}" y="{height - y1:.2f}" '
                       f'width="{x1 - x0:.2f}" height="{y1 - y0:.2f}" fill="#fff" fill-opacity="0" {stroke}/>'
                       f"{mark}</g>")
    font = "font-family:'DejaVu Sans',sans-serif"
    for j, run in enumerate(runs):
        x, y = to_px((j, nf - 0.5))
        out.append(f'<text transform="translate({x:.2f},{height - y + 6:.2f}) rotate(-30)" text-anchor="end" '
                   f'dominant-baseline="hanging" style="font-size:7px;{font}">{escape(str(run))}</text>')
    for i, feature in enumerate(features):
        x, y = to_px((-0.5, i))
        out.append(f'<text x="{x - 4:.2f}" y="{height - y:.2f}" text-anchor="end" dominant-baseline="central" '
                   f'style="font-size:8px;{font}">{escape(str(feature))}</text>')
    return to_svg(fig, label=f"drift {statistic}", overlay="".join(out))


def bars_chart(title: str, names: list[str], values: list[float], *, xlabel: str = "rows") -> str:
    n = max(1, len(names))
    left = 0.3 + _text_in(names, 9)
    fig, gs = _figure(left + 3.4, 0.95 + 0.3 * n, left=left, right=0.4, bottom=0.5, top=0.3)
    ax = fig.add_subplot(gs[0])
    ax.add_collection(_bars(np.arange(len(names)) - 0.4, 0.8, values, "#7f7f7f", horizontal=True))
    for i, v in enumerate(values):
        ax.text(v, i, f" {v:g}", va="center", fontsize=8)
    ax.set_yticks(range(len(names)), names)
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.set(title=title, xlabel=xlabel)
    ax.set_xlim(0, max([*values, 1]) * 1.2)
    return to_svg(fig, label=title)
