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
HIGHER_IS_BETTER = ("accuracy", "precision", "recall", "f1", "roc_auc")
LOWER_IS_BETTER = ("log_loss", "brier")
CHAR_WIDTH = 0.6  # estimated glyph width as a fraction of the font size (sans-serif average, a bit generous)
TITLE_FONT, TITLE_LINE = 14, 17
LEGEND_FONT, LEGEND_ROW, LEGEND_SWATCH, LEGEND_GAP = 11, 18, 28, 16
CM_MAX_WIDTH, HEATMAP_MAX_WIDTH = 320, 680
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
.table-scroll{overflow-x:auto;max-width:100%}
table.days{border-collapse:collapse;font-size:.85rem;min-width:100%}
table.days td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
table.days th,table.days td{border:1px solid #e2e2e2;padding:.25rem .45rem;text-align:left;vertical-align:top}
table.days tr.retrain td{background:#fff4e5}table.days tr.failed td{background:#fdecea}
table.days tr.deploy td{background:#eaf7ea}
.ok{color:#2ca02c}.bad{color:#d62728}
svg{background:#fff;border:1px solid #eee;border-radius:4px;max-width:100%;height:auto}
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


def _fmt_short(value: float) -> str:
    return f"{value:.3g}"


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


def text_width(text: str, font_size: float) -> float:
    """Estimated rendered width of ``text`` in pixels: ``CHAR_WIDTH × font_size`` per character.

    >>> text_width("abcde", 10)
    30.0
    """
    return CHAR_WIDTH * font_size * len(text)


def wrap_text(text: str, font_size: float, max_width: float) -> list[str]:
    """Split ``text`` into lines whose estimated width fits ``max_width`` (words over-long alone are cut).

    >>> wrap_text("champion v1 (retrain run) - day 9", 10, 120)
    ['champion v1 (retrain', 'run) - day 9']
    """
    per_line = max(1, int(max_width // (CHAR_WIDTH * font_size)))
    lines: list[str] = []
    current = ""
    for word in text.split():
        pieces = [word[i:i + per_line] for i in range(0, len(word), per_line)]
        for piece in pieces:
            candidate = f"{current} {piece}" if current else piece
            if len(candidate) <= per_line:
                current = candidate
            else:
                lines.append(current)
                current = piece
    if current:
        lines.append(current)
    return lines or [""]


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

    Text is laid out from its estimated width (:func:`text_width`): a long title wraps onto more lines
    and a legend too wide (or too tall) for the right margin moves below the plot, growing ``height``.
    """
    # legend entries: the series first, then the vertical markers that ask for one
    legend: list[tuple[str, str, str]] = [
        (str(s.get("name", "")), str(s.get("color") or PALETTE[i % len(PALETTE)]), str(s.get("dash", "")))
        for i, s in enumerate(series)
    ]
    legend += [(str(line["legend"]), str(line.get("color", "#888")), str(line.get("dash", "")))
               for line in vlines if line.get("legend") and _num(line.get("x")) is not None]
    entry_w = [LEGEND_SWATCH + text_width(name, LEGEND_FONT) for name, _, _ in legend]
    margin_left, margin_bottom = 56, 44
    title_lines = wrap_text(title, TITLE_FONT, width - margin_left - 8) if title else []
    margin_top = 14 + TITLE_LINE * len(title_lines) if title_lines else 14
    legend_right_w = max(entry_w, default=0.0) + 20
    legend_below = bool(legend) and (
        legend_right_w > 0.3 * width or len(legend) * LEGEND_ROW > height - margin_top - margin_bottom
    )
    margin_right = 20 if legend_below or not legend else math.ceil(legend_right_w)
    plot_w = width - margin_left - margin_right
    plot_h = height - margin_top - margin_bottom
    # below the plot the legend flows left to right and wraps at the chart's width
    below: list[tuple[float, int]] = []
    if legend_below:
        x, row = float(margin_left), 0
        for w in entry_w:
            if x > margin_left and x + w > width - 8:
                x, row = float(margin_left), row + 1
            below.append((x, row))
            x += w + LEGEND_GAP
        height += (below[-1][1] + 1) * LEGEND_ROW + 6
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
    if y_range is None:  # widen to the round ticks just outside the data
        ticks = nice_ticks(y_lo, y_hi)
        step = ticks[1] - ticks[0] if len(ticks) > 1 else 0.0
        if step > 0:
            y_lo = min(y_lo, ticks[0] - step * (ticks[0] > y_lo + 1e-12))
            y_hi = max(y_hi, ticks[-1] + step * (ticks[-1] < y_hi - 1e-12))

    def sx(x: float) -> float:
        return margin_left + (x - x_lo) / (x_hi - x_lo) * plot_w

    def sy(y: float) -> float:
        return margin_top + plot_h - (y - y_lo) / (y_hi - y_lo) * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{_esc(css_class)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{_esc(title or y_label)}">'
    ]
    for i, line in enumerate(title_lines):
        out.append(f'<text class="title" x="{margin_left}" y="{20 + i * TITLE_LINE}" font-size="{TITLE_FONT}" '
                   f'font-weight="600">{_esc(line)}</text>')
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
        out.append(f'<text x="{margin_left + plot_w / 2:.1f}" y="{margin_top + plot_h + margin_bottom - 8}" '
                   f'font-size="12" text-anchor="middle">{_esc(x_label)}</text>')
    if y_label:
        cy = margin_top + plot_h / 2
        out.append(f'<text x="14" y="{cy:.1f}" font-size="12" text-anchor="middle" '
                   f'transform="rotate(-90 14 {cy:.1f})">{_esc(y_label)}</text>')
    if diagonal:
        out.append(f'<line class="chance" x1="{sx(x_lo):.1f}" y1="{sy(y_lo):.1f}" x2="{sx(x_hi):.1f}" '
                   f'y2="{sy(y_hi):.1f}" stroke="#aaa" stroke-dasharray="4 4"/>')
    # reference lines
    labels: list[str] = []
    for h in hlines:
        y = _num(h.get("y"))
        if y is None or not y_lo <= y <= y_hi:
            continue
        color = h.get("color", "#888")
        data = "".join(f' data-{_esc(k)}="{_esc(v)}"' for k, v in dict(h.get("data", {})).items())
        out.append(f'<line class="{_esc(h.get("class", "hline"))}"{data} x1="{margin_left}" '
                   f'x2="{margin_left + plot_w}" y1="{sy(y):.1f}" y2="{sy(y):.1f}" stroke="{_esc(color)}" '
                   f'stroke-dasharray="5 4"><title>{_esc(h.get("label", ""))}</title></line>')
        if h.get("label"):  # drawn after the series, on a white box, to stay readable
            label_w = text_width(str(h["label"]), 10)
            right = margin_left + plot_w - 4
            labels.append(f'<rect class="label-bg" x="{right - label_w - 2:.1f}" y="{sy(y) - 13:.1f}" '
                          f'width="{label_w + 4:.1f}" height="12" fill="#fff" fill-opacity="0.85"/>'
                          f'<text x="{right}" y="{sy(y) - 3:.1f}" font-size="10" text-anchor="end" '
                          f'fill="{_esc(color)}">{_esc(h["label"])}</text>')
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
    out.extend(labels)
    # legend: in the right margin, or below the plot when it does not fit there
    for row, (name, color, dash) in enumerate(legend):
        if legend_below:
            lx, ly = below[row][0], margin_top + plot_h + margin_bottom + 8 + below[row][1] * LEGEND_ROW
        else:
            lx, ly = margin_left + plot_w + 12, margin_top + 8 + row * LEGEND_ROW
        out.append(f'<line x1="{lx:.1f}" x2="{lx + 22:.1f}" y1="{ly}" y2="{ly}" stroke="{_esc(color)}" '
                   f'stroke-width="2.5" stroke-dasharray="{_esc(dash)}"/>')
        out.append(f'<text class="legend" x="{lx + LEGEND_SWATCH:.1f}" y="{ly + 4}" font-size="{LEGEND_FONT}">'
                   f'{_esc(name)}</text>')
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
    # a long label first widens the SVG (up to CM_MAX_WIDTH), then wraps; the grid stays centred
    width = max(size, min(math.ceil(text_width(label, 13)) + 16, CM_MAX_WIDTH))
    lines = wrap_text(label, 13, width - 16)
    cell = (size - 70) / 2
    left, top = 60 + (width - size) / 2, 40 + 16 * (len(lines) - 1)
    height = size + 16 * (len(lines) - 1)
    names = (("TN", "FP"), ("FN", "TP"))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="confusion" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{_esc(label)}">']
    out.extend(f'<text class="title" x="{width / 2:.1f}" y="{16 + 16 * i}" font-size="13" font-weight="600" '
               f'text-anchor="middle">{_esc(line)}</text>' for i, line in enumerate(lines))
    out.append(f'<text x="{left + cell:.1f}" y="{top - 6}" font-size="10" text-anchor="middle">'
               'predicted 0 | 1</text>')
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
    """Features (rows) by days (columns), darker = larger value; missing values are hatched grey.

    The SVG is sized from its text: the feature names set the left margin, and the title and the colour
    caption widen it (up to ``HEATMAP_MAX_WIDTH``) before they wrap.
    """
    names = list(rows)
    width_cols = max((len(v) for v in rows.values()), default=0)
    days = list(days) if days is not None else list(range(width_cols))
    values = [_num(v) for r in rows.values() for v in r]
    finite = [v for v in values if v is not None]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
    span = (hi - lo) or 1.0
    cw, ch = 26, 20
    left = max(40, math.ceil(max((text_width(n, 11) for n in names), default=0.0)) + 14)
    caption = (f"columns: days; colour: {value_label} from {_fmt_short(lo)} (light) "
               f"to {_fmt_short(hi)} (dark)")
    grid_w = left + cw * max(1, len(days), width_cols) + 20
    wanted = max(text_width(title, TITLE_FONT) if title else 0.0, text_width(caption, 11)) + 16
    width = max(grid_w, min(math.ceil(wanted), HEATMAP_MAX_WIDTH))
    title_lines = wrap_text(title, TITLE_FONT, width - 16) if title else []
    caption_lines = wrap_text(caption, 11, width - 16)
    top = 14 + TITLE_LINE * len(title_lines) if title_lines else 12
    base = top + ch * len(names)
    height = base + 46 + 14 * len(caption_lines)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="heatmap" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{_esc(title or value_label)}">']
    out.extend(f'<text class="title" x="8" y="{20 + i * TITLE_LINE}" font-size="{TITLE_FONT}" font-weight="600">'
               f'{_esc(line)}</text>' for i, line in enumerate(title_lines))
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
    for c, d in enumerate(days):
        out.append(f'<text x="{left + c * cw + cw / 2:.1f}" y="{base + 14}" font-size="10" '
                   f'text-anchor="middle">{_esc(d)}</text>')
    out.extend(f'<text class="caption" x="8" y="{base + 34 + 14 * i}" font-size="11">{_esc(line)}</text>'
               for i, line in enumerate(caption_lines))
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


def _timeline_groups(metrics: Sequence[str]) -> tuple[list[str], list[str]]:
    """The metrics of the main chart (higher is better, in [0, 1]) and of the loss chart (lower is better).

    Other metrics (``mcc``, ``average_precision``, ...) stay in the table; with none of the classification
    metrics present (e.g. a custom metric set) the main chart shows every metric that is not a loss.
    """
    main = [m for m in metrics if m in HIGHER_IS_BETTER]
    losses = [m for m in metrics if m in LOWER_IS_BETTER]
    if not main:
        main = [m for m in metrics if m not in LOWER_IS_BETTER]
    return main, losses


def _metric_chart(name: str, title: str, metrics: Sequence[str], colors: Mapping[str, str],
                  days: Sequence[Mapping[str, Any]], thresholds: Mapping[str, Any], *, y_label: str,
                  height: int, css_class: str, unit_range: bool) -> str:
    x = [d.get("day") for d in days]
    series = [{"name": m, "x": x, "y": [dict(d.get("metrics") or {}).get(m) for d in days], "points": True,
               "color": colors[m]} for m in metrics]
    hlines = [{"y": value, "label": f"{metric} threshold {_fmt(float(value))}", "class": "threshold",
               "color": colors[metric], "data": {"metric": metric}}
              for metric, value in thresholds.items() if metric in metrics and _num(value) is not None]
    values = [v for s in series for v in map(_num, s["y"]) if v is not None]
    values += [float(h["y"]) for h in hlines]
    bounded = unit_range and bool(values) and min(values) >= 0.0 and max(values) <= 1.0
    return line_chart(series, title=f"{name}: {title}", x_label="day", y_label=y_label,
                      y_range=(0.0, 1.0) if bounded else None, hlines=hlines, vlines=_markers(days),
                      height=height, css_class=css_class)


def _timeline(name: str, days: Sequence[Mapping[str, Any]], thresholds: Mapping[str, Any]) -> str:
    """The main metric chart (class ``timeline``) and, if any loss is reported, a small one (``losses``)."""
    main, losses = _timeline_groups(_metric_names(days))
    colors = {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(main + losses)}
    charts = [_metric_chart(name, "model metrics by day", main, colors, days, thresholds, y_label="metric",
                            height=300, css_class="chart timeline", unit_range=True)]
    if losses:
        charts.append(_metric_chart(name, "losses by day (lower is better)", losses, colors, days, thresholds,
                                    y_label="loss", height=200, css_class="chart losses", unit_range=False))
    return "".join(charts)


def _day_table(days: Sequence[Mapping[str, Any]], metrics: Sequence[str]) -> str:
    head = "".join(f"<th>{_esc(m).replace('_', '_<wbr>')}</th>" for m in metrics)
    rows = [f"<div class='table-scroll'><table class='days'><thead><tr><th>day</th><th>model</th>{head}<th>drift</th>"
            "<th>decision</th><th>deployed</th><th>execution</th></tr></thead><tbody>"]
    for d in days:
        drift = dict(d.get("drift") or {})
        decision = dict(d.get("decision") or {})
        status = d.get("execution_status")
        css = "failed" if status not in (None, "SUCCEEDED") else (
            "deploy" if d.get("deployed_version") else ("retrain" if decision.get("retrain") else ""))
        cells = "".join(
            f"<td class='num'>{v:.3f}</td>" if (v := _num(dict(d.get('metrics') or {}).get(m))) is not None
            else "<td class='num'>–</td>"
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
    rows.append("</tbody></table></div>")
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
