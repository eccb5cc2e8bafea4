"""The demo report: one self-contained HTML page with inline CSS and inline SVG charts.

No JavaScript, no matplotlib, no external resources: the file opens anywhere and can be archived as is.
Every piece of text from the data is escaped with :func:`html.escape`, and every ``<svg>`` element is
well-formed XML on its own (the tests parse each one).

``summary`` is the demo's ``build/demo/summary.json``::

    {"scenarios": {"drift": S, "stable": S}}
    S = {"days": [{"day", "model_version", "metrics": {...}, "drift": {"detected", "drifted_features"},
                   "decision": {"retrain", "reasons"}, "deployed_version", "execution_status"}, ...],
         "retrains": int, "deployments": int, "executions": {STATUS: count}}

``details`` (optional) holds, per scenario name: ``thresholds`` ``{metric: value}``,
``confusion_matrices`` ``{label: [[tn, fp], [fn, tp]]}``, ``curves`` ``{"champion"|"challenger":
{"roc": {"fpr", "tpr"}, "pr": {"precision", "recall"}}}``, ``feature_drift`` ``{feature: [per-day value]}``
and ``regression`` ``{"mse": [...], "rmse": [...]}`` per day. Missing parts are left out of the page.

Example
-------
>>> day = {"day": 0, "model_version": "v1", "metrics": {"accuracy": 0.9}, "drift": {"detected": False,
...        "drifted_features": []}, "decision": {"retrain": False, "reasons": []},
...        "deployed_version": None, "execution_status": "SUCCEEDED"}
>>> page = render_report({"scenarios": {"stable": {"days": [day], "retrains": 0, "deployments": 0,
...                                                "executions": {"SUCCEEDED": 1}}}})
>>> page.startswith("<!DOCTYPE html>")
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")
METRIC_ORDER = ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "log_loss", "brier")
MARKER_STYLES = {
    "retrain": ("#ff7f0e", "6 3", "retrain"),
    "deploy": ("#2ca02c", "", "deploy"),
    "failed": ("#d62728", "2 2", "failed run"),
}

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;
color:#222;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.3rem;border-bottom:1px solid #ddd;padding-bottom:.3rem;margin-top:2.5rem}
h3{font-size:1.05rem;margin-top:1.5rem}
.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem;
min-width:8rem}.card b{display:block;font-size:1.4rem}
.charts{display:flex;flex-wrap:wrap;gap:1rem;align-items:flex-start}
table.days{border-collapse:collapse;font-size:.85rem;width:100%}
table.days th,table.days td{border:1px solid #e2e2e2;padding:.25rem .45rem;text-align:left;vertical-align:top}
table.days tr.retrain td{background:#fff4e5}table.days tr.failed td{background:#fdecea}
table.days tr.deploy td{background:#eaf7ea}
.ok{color:#2ca02c}.bad{color:#d62728}
svg{background:#fff;border:1px solid #eee;border-radius:4px}
svg text{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif}
"""


def _esc(value: Any) -> str:
    return escape(str(value), quote=True)


def _num(value: Any) -> float | None:
    """A finite float, or ``None`` for missing / NaN / non-numeric values."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering ``[low, high]`` (steps of 1, 2 or 5 times a power of ten).

    >>> nice_ticks(0.0, 1.0)
    [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    """
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"tick range must be finite, got [{low}, {high}]")
    if high < low:
        low, high = high, low
    if high == low:
        return [low]
    raw = (high - low) / max(1, count)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step - 1e-9)
    last = math.floor(high / step + 1e-9)
    return [round(i * step, 12) for i in range(first, last + 1)]


def _tick_label(value: float) -> str:
    if value == int(value) and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.4g}"


def line_chart(
    series: Sequence[Mapping[str, Any]],
    *,
    title: str = "",
    x_label: str = "",
    y_label: str = "",
    width: int = 680,
    height: int = 300,
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
    hlines: Sequence[Mapping[str, Any]] = (),
    vlines: Sequence[Mapping[str, Any]] = (),
    diagonal: bool = False,
    css_class: str = "chart",
) -> str:
    """An SVG line chart with axes, ticks, a legend, horizontal and vertical reference lines.

    ``series``: ``{"name", "x": [...], "y": [...]}`` with optional ``"color"``, ``"dash"`` and
    ``"points"`` (draw dots); missing or NaN values break the line. ``hlines``: ``{"y", "label"}`` with
    optional ``"class"``/``"color"``/``"data"`` (extra ``data-*`` attributes); ``vlines`` likewise with
    ``"x"``. ``diagonal`` draws the ``y = x`` chance line of ROC plots.
    """
    margin_left, margin_right, margin_top, margin_bottom = 56, 150, 34 if title else 14, 44
    plot_w = width - margin_left - margin_right
    plot_h = height - margin_top - margin_bottom
    xs = [v for s in series for v in map(_num, s.get("x", ())) if v is not None]
    ys = [v for s in series for v in map(_num, s.get("y", ())) if v is not None]
    ys += [v for v in (_num(h.get("y")) for h in hlines) if v is not None]
    xs += [v for v in (_num(line.get("x")) for line in vlines) if v is not None]
    x_lo, x_hi = x_range or ((min(xs), max(xs)) if xs else (0.0, 1.0))
    y_lo, y_hi = y_range or ((min(ys), max(ys)) if ys else (0.0, 1.0))
    if x_hi == x_lo:
        x_lo, x_hi = x_lo - 0.5, x_hi + 0.5
    if y_hi == y_lo:
        y_lo, y_hi = y_lo - 0.5, y_hi + 0.5
    if y_range is None:
        ticks = nice_ticks(y_lo, y_hi)
        y_lo, y_hi = min(y_lo, ticks[0]), max(y_hi, ticks[-1])

    def sx(x: float) -> float:
        return margin_left + (x - x_lo) / (x_hi - x_lo) * plot_w

    def sy(y: float) -> float:
        return margin_top + plot_h - (y - y_lo) / (y_hi - y_lo) * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{_esc(css_class)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{_esc(title or y_label)}">'
    ]
    if title:
        out.append(f'<text x="{margin_left}" y="20" font-size="14" font-weight="600">{_esc(title)}</text>')
    # grid, ticks and axes
    for tick in nice_ticks(y_lo, y_hi):
        y = sy(tick)
        out.append(f'<line class="grid" x1="{margin_left}" x2="{margin_left + plot_w}" y1="{y:.1f}" '
                   f'y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{margin_left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">'
                   f'{_esc(_tick_label(tick))}</text>')
    for tick in nice_ticks(x_lo, x_hi, 8):
        x = sx(tick)
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{margin_top + plot_h}" y2="{margin_top + plot_h + 4}" '
                   f'stroke="#444"/>')
        out.append(f'<text x="{x:.1f}" y="{margin_top + plot_h + 16}" font-size="11" text-anchor="middle">'
                   f'{_esc(_tick_label(tick))}</text>')
    out.append(f'<line class="axis" x1="{margin_left}" x2="{margin_left}" y1="{margin_top}" '
               f'y2="{margin_top + plot_h}" stroke="#444"/>')
    out.append(f'<line class="axis" x1="{margin_left}" x2="{margin_left + plot_w}" y1="{margin_top + plot_h}" '
               f'y2="{margin_top + plot_h}" stroke="#444"/>')
    if x_label:
        out.append(f'<text x="{margin_left + plot_w / 2:.1f}" y="{height - 8}" font-size="12" '
                   f'text-anchor="middle">{_esc(x_label)}</text>')
    if y_label:
        cy = margin_top + plot_h / 2
        out.append(f'<text x="14" y="{cy:.1f}" font-size="12" text-anchor="middle" '
                   f'transform="rotate(-90 14 {cy:.1f})">{_esc(y_label)}</text>')
    if diagonal:
        out.append(f'<line class="chance" x1="{sx(x_lo):.1f}" y1="{sy(y_lo):.1f}" x2="{sx(x_hi):.1f}" '
                   f'y2="{sy(y_hi):.1f}" stroke="#aaa" stroke-dasharray="4 4"/>')
    legend: list[tuple[str, str, str]] = []
    # reference lines
    for h in hlines:
        y = _num(h.get("y"))
        if y is None or not y_lo <= y <= y_hi:
            continue
        color = h.get("color", "#888")
        data = "".join(f' data-{_esc(k)}="{_esc(v)}"' for k, v in dict(h.get("data", {})).items())
        out.append(f'<line class="{_esc(h.get("class", "hline"))}"{data} x1="{margin_left}" '
                   f'x2="{margin_left + plot_w}" y1="{sy(y):.1f}" y2="{sy(y):.1f}" stroke="{_esc(color)}" '
                   f'stroke-dasharray="5 4"><title>{_esc(h.get("label", ""))}</title></line>')
        if h.get("label"):
            out.append(f'<text x="{margin_left + plot_w - 4}" y="{sy(y) - 3:.1f}" font-size="10" '
                       f'text-anchor="end" fill="{_esc(color)}">{_esc(h["label"])}</text>')
    for line in vlines:
        x = _num(line.get("x"))
        if x is None or not x_lo <= x <= x_hi:
            continue
        color = line.get("color", "#888")
        data = "".join(f' data-{_esc(k)}="{_esc(v)}"' for k, v in dict(line.get("data", {})).items())
        out.append(f'<line class="{_esc(line.get("class", "vline"))}"{data} x1="{sx(x):.1f}" x2="{sx(x):.1f}" '
                   f'y1="{margin_top}" y2="{margin_top + plot_h}" stroke="{_esc(color)}" stroke-width="1.5" '
                   f'stroke-dasharray="{_esc(line.get("dash", ""))}"><title>{_esc(line.get("label", ""))}'
                   f'</title></line>')
        if line.get("legend"):
            legend.append((str(line["legend"]), str(color), str(line.get("dash", ""))))
    # series
    for index, s in enumerate(series):
        color = s.get("color") or PALETTE[index % len(PALETTE)]
        dash = s.get("dash", "")
        segment: list[str] = []
        segments: list[list[str]] = []
        dots: list[str] = []
        for xv, yv in zip(s.get("x", ()), s.get("y", ()), strict=False):
            x, y = _num(xv), _num(yv)
            if x is None or y is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            segment.append(f"{sx(x):.1f},{sy(y):.1f}")
            dots.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.5" fill="{_esc(color)}"/>')
        if segment:
            segments.append(segment)
        out.append(f'<g class="series" data-name="{_esc(s.get("name", ""))}">')
        for seg in segments:
            out.append(f'<polyline fill="none" stroke="{_esc(color)}" stroke-width="2" '
                       f'stroke-dasharray="{_esc(dash)}" points="{" ".join(seg)}"/>')
        if s.get("points", False):
            out.extend(dots)
        out.append("</g>")
        legend.insert(index, (str(s.get("name", "")), str(color), str(dash)))
    # legend
    lx = margin_left + plot_w + 12
    for row, (name, color, dash) in enumerate(legend):
        ly = margin_top + 8 + row * 18
        out.append(f'<line x1="{lx}" x2="{lx + 22}" y1="{ly}" y2="{ly}" stroke="{_esc(color)}" stroke-width="2.5" '
                   f'stroke-dasharray="{_esc(dash)}"/>')
        out.append(f'<text class="legend" x="{lx + 28}" y="{ly + 4}" font-size="11">{_esc(name)}</text>')
    out.append("</svg>")
    return "".join(out)


def confusion_matrix_svg(label: str, matrix: Sequence[Sequence[Any]], *, size: int = 220) -> str:
    """A 2x2 confusion matrix ``[[tn, fp], [fn, tp]]`` as an SVG grid shaded by count."""
    cells = [[_num(v) for v in row] for row in matrix]
    if len(cells) != 2 or any(len(row) != 2 for row in cells) or any(v is None or v < 0 for r in cells for v in r):
        raise ValueError(f"confusion matrix {label!r} must be [[tn, fp], [fn, tp]] of counts, got {matrix!r}")
    values = [[float(v or 0.0) for v in row] for row in cells]
    total = sum(map(sum, values)) or 1.0
    peak = max(max(row) for row in values) or 1.0
    cell, left, top = (size - 70) / 2, 60, 40
    names = (("TN", "FP"), ("FN", "TP"))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="confusion" width="{size}" height="{size}" '
           f'viewBox="0 0 {size} {size}" role="img" aria-label="{_esc(label)}">',
           f'<text x="{size / 2:.1f}" y="16" font-size="13" font-weight="600" text-anchor="middle">'
           f'{_esc(label)}</text>',
           f'<text x="{left + cell:.1f}" y="{top - 6}" font-size="10" text-anchor="middle">predicted 0 | 1</text>']
    for i in range(2):
        out.append(f'<text x="{left - 6}" y="{top + (i + 0.5) * cell + 4:.1f}" font-size="10" '
                   f'text-anchor="end">true {i}</text>')
        for j in range(2):
            value = values[i][j]
            shade = 0.12 + 0.78 * value / peak
            good = i == j
            fill = f"rgba({'44,160,44' if good else '214,39,40'},{shade:.3f})"
            x, y = left + j * cell, top + i * cell
            out.append(f'<rect class="cell" data-cell="{names[i][j]}" x="{x:.1f}" y="{y:.1f}" width="{cell:.1f}" '
                       f'height="{cell:.1f}" fill="{fill}" stroke="#fff"/>')
            out.append(f'<text x="{x + cell / 2:.1f}" y="{y + cell / 2:.1f}" font-size="13" text-anchor="middle">'
                       f'{names[i][j]} {int(value)}</text>')
            out.append(f'<text x="{x + cell / 2:.1f}" y="{y + cell / 2 + 15:.1f}" font-size="10" '
                       f'text-anchor="middle">{100 * value / total:.1f} %</text>')
    out.append("</svg>")
    return "".join(out)


def heatmap_svg(rows: Mapping[str, Sequence[Any]], *, days: Sequence[int] | None = None, title: str = "",
                value_label: str = "drift statistic") -> str:
    """Features (rows) by days (columns), darker = larger value; missing values are hatched grey."""
    names = list(rows)
    width_cols = max((len(v) for v in rows.values()), default=0)
    days = list(days) if days is not None else list(range(width_cols))
    values = [_num(v) for r in rows.values() for v in r]
    finite = [v for v in values if v is not None]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
    span = (hi - lo) or 1.0
    cw, ch, left, top = 26, 20, 90, 34 if title else 12
    width = left + cw * max(1, len(days)) + 20
    height = top + ch * max(1, len(names)) + 60
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="heatmap" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{_esc(title or value_label)}">']
    if title:
        out.append(f'<text x="{left}" y="20" font-size="14" font-weight="600">{_esc(title)}</text>')
    for r, name in enumerate(names):
        y = top + r * ch
        out.append(f'<text x="{left - 6}" y="{y + ch / 2 + 4:.1f}" font-size="11" text-anchor="end">'
                   f'{_esc(name)}</text>')
        for c, raw in enumerate(rows[name]):
            value = _num(raw)
            x = left + c * cw
            if value is None:
                fill, text = "#ddd", "n/a"
            else:
                fill, text = f"rgba(214,39,40,{0.05 + 0.9 * (value - lo) / span:.3f})", _fmt(value)
            day_label = days[c] if c < len(days) else c
            out.append(f'<rect class="cell" data-feature="{_esc(name)}" data-day="{_esc(day_label)}" '
                       f'x="{x}" y="{y}" width="{cw - 1}" height="{ch - 1}" fill="{fill}">'
                       f'<title>{_esc(name)}, day {_esc(day_label)}: {_esc(text)}</title></rect>')
    base = top + ch * len(names)
    for c, d in enumerate(days):
        out.append(f'<text x="{left + c * cw + cw / 2:.1f}" y="{base + 14}" font-size="10" '
                   f'text-anchor="middle">{_esc(d)}</text>')
    out.append(f'<text x="{left}" y="{base + 34}" font-size="11">columns: days; colour: {_esc(value_label)} '
               f'from {_esc(_fmt(lo))} (light) to {_esc(_fmt(hi))} (dark)</text>')
    out.append("</svg>")
    return "".join(out)


# --------------------------------------------------------------------------------------------------------
# Page
# --------------------------------------------------------------------------------------------------------
def _metric_names(days: Sequence[Mapping[str, Any]]) -> list[str]:
    seen: list[str] = []
    for d in days:
        for name, value in dict(d.get("metrics") or {}).items():
            if name not in seen and _num(value) is not None:
                seen.append(name)
    ordered = [m for m in METRIC_ORDER if m in seen]
    return ordered + [m for m in seen if m not in ordered]


def _markers(days: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    shown: set[str] = set()
    for d in days:
        x = _num(d.get("day"))
        if x is None:
            continue
        kinds = []
        if dict(d.get("decision") or {}).get("retrain"):
            kinds.append(("retrain", "retrain decided"))
        if d.get("deployed_version"):
            kinds.append(("deploy", f"deployed {d['deployed_version']}"))
        if d.get("execution_status") not in (None, "SUCCEEDED"):
            kinds.append(("failed", f"execution {d.get('execution_status')}"))
        for kind, label in kinds:
            color, dash, legend = MARKER_STYLES[kind]
            lines.append({"x": x, "class": f"marker marker-{kind}", "color": color, "dash": dash,
                          "label": f"day {int(x)}: {label}", "data": {"day": int(x), "kind": kind},
                          "legend": legend if kind not in shown else None})
            shown.add(kind)
    return lines


def _timeline(name: str, days: Sequence[Mapping[str, Any]], thresholds: Mapping[str, Any]) -> str:
    metrics = _metric_names(days)
    x = [d.get("day") for d in days]
    series = [{"name": m, "x": x, "y": [dict(d.get("metrics") or {}).get(m) for d in days], "points": True}
              for m in metrics]
    colors = {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(metrics)}
    hlines = [{"y": value, "label": f"{metric} threshold {_fmt(float(value))}", "class": "threshold",
               "color": colors.get(metric, "#888"), "data": {"metric": metric}}
              for metric, value in thresholds.items() if _num(value) is not None]
    values = [v for s in series for v in map(_num, s["y"]) if v is not None]
    values += [float(h["y"]) for h in hlines]
    bounded = bool(values) and min(values) >= 0.0 and max(values) <= 1.0
    return line_chart(series, title=f"{name}: model metrics by day", x_label="day", y_label="metric",
                      y_range=(0.0, 1.0) if bounded else None, hlines=hlines, vlines=_markers(days),
                      css_class="chart timeline")


def _day_table(days: Sequence[Mapping[str, Any]], metrics: Sequence[str]) -> str:
    head = "".join(f"<th>{_esc(m)}</th>" for m in metrics)
    rows = [f"<table class='days'><thead><tr><th>day</th><th>model</th>{head}<th>drift</th>"
            "<th>decision</th><th>deployed</th><th>execution</th></tr></thead><tbody>"]
    for d in days:
        drift = dict(d.get("drift") or {})
        decision = dict(d.get("decision") or {})
        status = d.get("execution_status")
        css = "failed" if status not in (None, "SUCCEEDED") else (
            "deploy" if d.get("deployed_version") else ("retrain" if decision.get("retrain") else ""))
        cells = "".join(
            f"<td>{_esc(_fmt(v)) if (v := _num(dict(d.get('metrics') or {}).get(m))) is not None else '–'}</td>"
            for m in metrics
        )
        drifted = ", ".join(map(str, drift.get("drifted_features") or []))
        drift_cell = (f"<span class='bad'>yes</span> {_esc(drifted)}" if drift.get("detected")
                      else "<span class='ok'>no</span>")
        reasons = ", ".join(map(str, decision.get("reasons") or []))
        decision_cell = ("<b>retrain</b>" if decision.get("retrain") else "keep") + (
            f" <small>({_esc(reasons)})</small>" if reasons else "")
        rows.append(
            f"<tr class='{css}'><td>{_esc(d.get('day'))}</td><td>{_esc(d.get('model_version', ''))}</td>{cells}"
            f"<td>{drift_cell}</td><td>{decision_cell}</td><td>{_esc(d.get('deployed_version') or '')}</td>"
            f"<td>{_esc(status or '')}</td></tr>"
        )
    rows.append("</tbody></table>")
    return "".join(rows)


def _curves(curves: Mapping[str, Any]) -> list[str]:
    roc, pr = [], []
    for index, (model, data) in enumerate(curves.items()):
        color = PALETTE[index % len(PALETTE)]
        if data.get("roc"):
            roc.append({"name": model, "x": data["roc"].get("fpr", []), "y": data["roc"].get("tpr", []),
                        "color": color})
        if data.get("pr"):
            pr.append({"name": model, "x": data["pr"].get("recall", []), "y": data["pr"].get("precision", []),
                       "color": color})
    charts = []
    if roc:
        charts.append(line_chart(roc, title="ROC curve", x_label="false positive rate",
                                 y_label="true positive rate", x_range=(0.0, 1.0), y_range=(0.0, 1.0),
                                 diagonal=True, width=460, height=340, css_class="chart roc"))
    if pr:
        charts.append(line_chart(pr, title="Precision–recall curve", x_label="recall", y_label="precision",
                                 x_range=(0.0, 1.0), y_range=(0.0, 1.0), width=460, height=340,
                                 css_class="chart pr"))
    return charts


def _drift_rows(days: Sequence[Mapping[str, Any]]) -> dict[str, list[float]]:
    features: list[str] = []
    for d in days:
        for f in dict(d.get("drift") or {}).get("drifted_features") or []:
            if str(f) not in features:
                features.append(str(f))
    return {f: [1.0 if f in map(str, dict(d.get("drift") or {}).get("drifted_features") or []) else 0.0
                for d in days] for f in features}


def _scenario_section(name: str, s: Mapping[str, Any], detail: Mapping[str, Any]) -> str:
    days = sorted(s.get("days") or [], key=lambda d: _num(d.get("day")) or 0.0)
    executions = dict(s.get("executions") or {})
    parts = [f"<section class='scenario' id='scenario-{_esc(name)}'><h2>Scenario: {_esc(name)}</h2>",
             "<div class='cards'>",
             f"<div class='card'>days<b>{len(days)}</b></div>",
             f"<div class='card'>retrains<b>{_esc(s.get('retrains', 0))}</b></div>",
             f"<div class='card'>deployments<b>{_esc(s.get('deployments', 0))}</b></div>",
             "".join(f"<div class='card'>{_esc(status.lower())}<b>{_esc(count)}</b></div>"
                     for status, count in executions.items()),
             "</div>"]
    if days:
        parts.append("<h3>Metrics over time</h3>")
        parts.append(_timeline(name, days, dict(detail.get("thresholds") or {})))
    regression = dict(detail.get("regression") or {})
    if any(regression.get(k) for k in ("mse", "rmse")):
        day_numbers = [d.get("day") for d in days]
        series = []
        for key in ("mse", "rmse"):
            values = list(regression.get(key) or [])
            if values:
                x = day_numbers if len(day_numbers) == len(values) else list(range(len(values)))
                series.append({"name": key.upper(), "x": x, "y": values, "points": True})
        parts.append("<h3>Error</h3>")
        parts.append(line_chart(series, title=f"{name}: regression error by day", x_label="day", y_label="error",
                                vlines=_markers(days), css_class="chart error"))
    matrices = dict(detail.get("confusion_matrices") or {})
    if matrices:
        parts.append("<h3>Confusion matrices</h3><div class='charts'>")
        parts.extend(confusion_matrix_svg(str(label), m) for label, m in matrices.items())
        parts.append("</div>")
    charts = _curves(dict(detail.get("curves") or {}))
    if charts:
        parts.append("<h3>Champion and challenger</h3><div class='charts'>")
        parts.extend(charts)
        parts.append("</div>")
    feature_drift = dict(detail.get("feature_drift") or {})
    if feature_drift:
        parts.append("<h3>Per-feature drift</h3>")
        parts.append(heatmap_svg(feature_drift, days=[d.get("day") for d in days] or None,
                                 title=f"{name}: drift statistic per feature and day"))
    elif days and (rows := _drift_rows(days)):
        parts.append("<h3>Per-feature drift</h3>")
        parts.append(heatmap_svg(rows, days=[d.get("day") for d in days],
                                 title=f"{name}: features flagged as drifted", value_label="flagged"))
    if days:
        parts.append("<h3>Day by day</h3>")
        parts.append(_day_table(days, _metric_names(days)))
    parts.append("</section>")
    return "".join(parts)


def render_report(summary: Mapping[str, Any], details: Mapping[str, Any] | None = None, *,
                  title: str = "Driftline demo report") -> str:
    """Render the demo summary (and optional details) as one self-contained HTML page."""
    if not isinstance(summary, Mapping) or not isinstance(summary.get("scenarios"), Mapping):
        raise ValueError('summary must be {"scenarios": {name: {...}, ...}}')
    details = details or {}
    scenarios = summary["scenarios"]
    overview = "".join(
        f"<li><a href='#scenario-{_esc(name)}'>{_esc(name)}</a>: {_esc(s.get('retrains', 0))} retrain(s), "
        f"{_esc(s.get('deployments', 0))} deployment(s), executions "
        f"{_esc(', '.join(f'{k}={v}' for k, v in dict(s.get('executions') or {}).items()) or 'none')}</li>"
        for name, s in scenarios.items()
    )
    body = "".join(_scenario_section(str(name), s, dict(details.get(name) or {})) for name, s in scenarios.items())
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_esc(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{_esc(title)}</h1><ul class='overview'>{overview}</ul>{body}</body></html>\n"
    )
