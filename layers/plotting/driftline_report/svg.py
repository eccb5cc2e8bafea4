"""A small direct-SVG drawing kit for the report's charts: a canvas, axes with nice ticks, markers, legends,
colour maps and colour bars. Pure Python (no numpy, no matplotlib): a report is a few thousand elements, so
string formatting is the whole cost (milliseconds), and importing this costs nothing at a cold start.

Coordinates are SVG user units of one point (1/72 in), y down. Text is ``<text>`` (searchable, testable); text
widths are estimated (DejaVu Sans / Verdana average about 0.6 em per character), so layouts leave room for
the widest label rather than measuring it. Nothing here writes an ``id``: many charts share one page.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

FONT = "'DejaVu Sans',Verdana,Arial,sans-serif"
GRID = "#e4e4e4"
AXIS = "#444444"

#: colour maps as evenly spaced anchors, interpolated linearly in RGB (ColorBrewer Blues / YlOrRd, viridis)
CMAPS: dict[str, tuple[str, ...]] = {
    "Blues": ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b"),
    "YlOrRd": ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026", "#800026"),
    "viridis": ("#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58",
                "#b5de2b", "#fde725"),
}
_RGB: dict[str, list[tuple[int, int, int]]] = {
    name: [(int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16)) for c in cols] for name, cols in CMAPS.items()}


def n(v: float) -> str:
    """A coordinate with at most one decimal (``12``, ``12.5``)."""
    r = round(v, 1)
    return str(int(r)) if r == int(r) else str(r)


def text_width(s: str, size: float) -> float:
    """Estimated width in points of ``s`` at ``size`` points."""
    return len(s) * size * 0.6


def colour(cmap: str, t: float) -> str:
    """The colour of ``t`` in [0, 1] (clipped) on ``cmap``."""
    anchors = _RGB[cmap]
    t = 0.0 if not math.isfinite(t) else min(max(t, 0.0), 1.0)
    pos = t * (len(anchors) - 1)
    i = min(int(pos), len(anchors) - 2)
    f = pos - i
    a, b = anchors[i], anchors[i + 1]
    r, g, b_ = (round(a[k] + (b[k] - a[k]) * f) for k in range(3))
    return f"#{r:02x}{g:02x}{b_:02x}"


def luminance(hex_colour: str) -> float:
    r, g, b = (int(hex_colour[k:k + 2], 16) / 255 for k in (1, 3, 5))
    return 0.299 * r + 0.587 * g + 0.114 * b


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """At most about ``count`` round tick values (1, 2, 2.5, 5 × 10^k steps) inside ``[lo, hi]``."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    raw = (hi - lo) / max(count - 1, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw * 0.999)
    first = math.ceil(lo / step - 1e-9)
    out = []
    k = first
    while k * step <= hi + step * 1e-9:
        out.append(round(k * step, 12))
        k += 1
    return out


def tick_label(v: float) -> str:
    """``0.25``, ``1200``, ``1.5e+06``: short and exact for round tick values."""
    if v == 0:
        return "0"
    return f"{v:.6g}" if abs(v) < 1e6 else f"{v:.3g}"


def marker_path(shape: str, x: float, y: float, size: float) -> str:
    """An SVG path ``d`` for a marker centred at (x, y), ``size`` points across: ``o ^ D s X *``."""
    r = size / 2
    if shape == "^":
        return f"M{n(x)} {n(y - r)}L{n(x + r)} {n(y + r * 0.8)}L{n(x - r)} {n(y + r * 0.8)}Z"
    if shape == "D":
        return f"M{n(x)} {n(y - r)}L{n(x + r * 0.75)} {n(y)}L{n(x)} {n(y + r)}L{n(x - r * 0.75)} {n(y)}Z"
    if shape == "s":
        return f"M{n(x - r * 0.8)} {n(y - r * 0.8)}h{n(r * 1.6)}v{n(r * 1.6)}h{n(-r * 1.6)}Z"
    if shape == "X":
        a, b = r, r * 0.35
        pts = [(-a + b, -a), (0, -b), (a - b, -a), (a, -a + b), (b, 0), (a, a - b), (a - b, a), (0, b), (-a + b, a),
               (-a, a - b), (-b, 0), (-a, -a + b)]
        return "M" + "L".join(f"{n(x + dx)} {n(y + dy)}" for dx, dy in pts) + "Z"
    if shape == "*":
        star: list[str] = []
        for k in range(10):
            rad = r if k % 2 == 0 else r * 0.42
            ang = -math.pi / 2 + k * math.pi / 5
            star.append(f"{n(x + rad * math.cos(ang))} {n(y + rad * math.sin(ang))}")
        return "M" + "L".join(star) + "Z"
    return f"M{n(x - r)} {n(y)}a{n(r)} {n(r)} 0 1 0 {n(2 * r)} 0a{n(r)} {n(r)} 0 1 0 {n(-2 * r)} 0Z"


class Canvas:
    """One ``<svg>`` chart: elements appended as strings, serialised once."""

    def __init__(self, width: float, height: float, label: str) -> None:
        self.width, self.height, self.label = width, height, label
        self.parts: list[str] = []

    def add(self, markup: str) -> None:
        self.parts.append(markup)

    def text(self, x: float, y: float, s: Any, *, size: float = 9, anchor: str = "start", colour: str = "",
             weight: str = "", rotate: float = 0, baseline: str = "central") -> None:
        attrs = f'x="{n(x)}" y="{n(y)}"' if not rotate else \
            f'transform="translate({n(x)},{n(y)}) rotate({n(rotate)})"'
        extra = (f' font-size="{n(size)}"' if size != 9 else "") + (f' fill="{colour}"' if colour else "") + (
            f' font-weight="{weight}"' if weight else "") + (f' text-anchor="{anchor}"' if anchor != "start" else "")
        self.parts.append(f'<text {attrs} dominant-baseline="{baseline}"{extra}>{escape(str(s))}</text>')

    def line(self, x1: float, y1: float, x2: float, y2: float, stroke: str, *, width: float = 1, dash: str = "",
             opacity: float = 1.0) -> None:
        self.parts.append(f'<line x1="{n(x1)}" y1="{n(y1)}" x2="{n(x2)}" y2="{n(y2)}" stroke="{stroke}" '
                          f'stroke-width="{n(width)}"' + (f' stroke-dasharray="{dash}"' if dash else "")
                          + (f' stroke-opacity="{opacity}"' if opacity != 1.0 else "") + "/>")

    def path(self, d: str, *, stroke: str = "none", fill: str = "none", width: float = 1, dash: str = "",
             opacity: float = 1.0) -> None:
        self.parts.append(f'<path d="{d}" stroke="{stroke}" fill="{fill}"'
                          + (f' stroke-width="{n(width)}"' if stroke != "none" else "")
                          + (f' stroke-dasharray="{dash}"' if dash else "")
                          + (f' opacity="{opacity}"' if opacity != 1.0 else "") + ' stroke-linejoin="round"/>')

    def rect(self, x: float, y: float, w: float, h: float, fill: str, *, stroke: str = "", width: float = 1) -> None:
        self.parts.append(f'<rect x="{n(x)}" y="{n(y)}" width="{n(w)}" height="{n(h)}" fill="{fill}"'
                          + (f' stroke="{stroke}" stroke-width="{n(width)}"' if stroke else "") + "/>")

    def markers(self, shape: str, points: Iterable[tuple[float, float]], colour: str, *, size: float = 7,
                hollow: bool = False, width: float = 1.5) -> None:
        d = "".join(marker_path(shape, x, y, size) for x, y in points)
        if d:
            self.path(d, stroke=colour, fill="none" if hollow else colour, width=width if hollow else 0.5)

    def title(self, x: float, y: float, lines: Sequence[str], *, size: float = 10, anchor: str = "start") -> None:
        for i, s in enumerate(lines):
            self.text(x, y + i * (size + 3), s, size=size if i == 0 else size - 1, anchor=anchor)

    def legend(self, x: float, y: float, entries: Sequence[dict[str, Any]], *, size: float = 7,
               anchor: str = "start", columns: int = 1, box: bool = True) -> None:
        """Entries ``{"label", "colour", "kind": line|marker|patch, "shape"?, "dash"?, "hollow"?}`` from the
        top-left (``anchor="start"``) or top-right (``"end"``) corner ``(x, y)``."""
        if not entries:
            return
        row_h, swatch = size + 5, 16
        widths = [swatch + 4 + text_width(e["label"], size) for e in entries]
        cols = max(1, min(columns, len(entries)))
        col_w = [max(widths[c::cols]) + 8 for c in range(cols)]
        total_w = sum(col_w) + 4
        rows = math.ceil(len(entries) / cols)
        x0 = x - total_w if anchor == "end" else x
        if box:
            self.parts.append(f'<rect x="{n(x0)}" y="{n(y)}" width="{n(total_w)}" height="{n(rows * row_h + 4)}" '
                              'fill="#fff" fill-opacity="0.85" stroke="#ccc" stroke-width="0.5"/>')
        for i, e in enumerate(entries):
            cx = x0 + 4 + sum(col_w[: i % cols])
            cy = y + 2 + (i // cols) * row_h + row_h / 2
            kind, col = e.get("kind", "line"), e["colour"]
            if kind == "patch":
                self.rect(cx, cy - 3.5, swatch, 7, col)
            if kind in ("line", "both"):
                self.line(cx, cy, cx + swatch, cy, col, width=e.get("width", 1.6), dash=e.get("dash", ""))
            if kind in ("marker", "both"):
                self.markers(e.get("shape", "o"), [(cx + swatch / 2, cy)], col, size=e.get("size", 6),
                             hollow=e.get("hollow", False))
            self.text(cx + swatch + 4, cy, e["label"], size=size)

    def colour_bar(self, x: float, y: float, w: float, h: float, cmap: str, vmax: float, *, label: str | list[str],
                   vmin: float = 0.0, extend: bool = False, mark: float | None = None, steps: int = 24) -> None:
        """A vertical colour bar from ``vmin`` (bottom) to ``vmax`` (top), ticks on the right, ``label`` rotated,
        ``extend``: a triangle on top (values above are clipped to the top colour), ``mark``: a black line; a
        ``label`` given as lines is written horizontally beside the ticks, from the top."""
        step_h = h / steps
        for k in range(steps):
            self.rect(x, y + h - (k + 1) * step_h, w, step_h + 0.3, colour(cmap, (k + 0.5) / steps))
        self.rect(x, y, w, h, "none", stroke=AXIS, width=0.5)
        if extend:
            self.path(f"M{n(x)} {n(y)}L{n(x + w / 2)} {n(y - w)}L{n(x + w)} {n(y)}Z", fill=colour(cmap, 1.0),
                      stroke=AXIS, width=0.5)
        span = (vmax - vmin) or 1.0
        for t in nice_ticks(vmin, vmax, 5):
            ty = y + h - (t - vmin) / span * h
            self.line(x + w, ty, x + w + 3, ty, AXIS, width=0.6)
            self.text(x + w + 5, ty, tick_label(t), size=7)
        if mark is not None and math.isfinite(mark) and vmin <= mark <= vmax:
            my = y + h - (mark - vmin) / span * h
            self.line(x - 2, my, x + w + 2, my, "#000", width=2.5)
        ticks_w = max((text_width(tick_label(t), 7) for t in nice_ticks(vmin, vmax, 5)), default=10)
        if isinstance(label, str):
            self.text(x + w + 9 + ticks_w, y + h / 2, label, size=7, anchor="middle", rotate=90)
            return
        for i, line in enumerate(label):
            self.text(x + w + 9 + ticks_w, y + 4 + i * 10, line, size=7)

    def svg(self, overlay: str = "") -> str:
        label = escape(self.label)
        return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{label}" data-chart="{label}" '
                f'width="{n(self.width)}pt" height="{n(self.height)}pt" '
                f'viewBox="0 0 {n(self.width)} {n(self.height)}" font-family="{FONT}" font-size="9" '
                f'fill="#222">' + "".join(self.parts) + overlay + "</svg>")


class Axes:
    """A plotting area at (x, y) of w × h points showing ``xlim`` × ``ylim`` (data outside is clamped)."""

    def __init__(self, canvas: Canvas, x: float, y: float, w: float, h: float, xlim: tuple[float, float],
                 ylim: tuple[float, float]) -> None:
        self.c, self.x, self.y, self.w, self.h = canvas, x, y, w, h
        # a reversed limit (``(k - 0.5, -0.5)``) flips the axis; an empty one is widened
        self.x0, self.x1 = xlim if xlim[1] != xlim[0] else (xlim[0] - 0.5, xlim[0] + 0.5)
        self.y0, self.y1 = ylim if ylim[1] != ylim[0] else (ylim[0] - 0.5, ylim[0] + 0.5)

    def sx(self, v: float) -> float:
        t = (v - self.x0) / (self.x1 - self.x0)
        return self.x + min(max(t, -0.02), 1.02) * self.w

    def sy(self, v: float) -> float:
        t = (v - self.y0) / (self.y1 - self.y0)
        return self.y + self.h - min(max(t, -0.02), 1.02) * self.h

    def frame(self, *, xticks: Sequence[float] | None = None, yticks: Sequence[float] | None = None,
              xlabels: Sequence[str] | None = None, ylabels: Sequence[str] | None = None, grid: bool = True,
              xlabel: str = "", ylabel: str = "", xrotate: float = 0, xsize: float = 8, ysize: float = 8,
              box: bool = False) -> None:
        """Grid, the left and bottom spines, ticks and their labels, axis labels."""
        c = self.c
        xt = list(xticks) if xticks is not None else nice_ticks(self.x0, self.x1)
        yt = list(yticks) if yticks is not None else nice_ticks(self.y0, self.y1)
        if grid:
            d = "".join(f"M{n(self.sx(t))} {n(self.y)}v{n(self.h)}" for t in xt) + "".join(
                f"M{n(self.x)} {n(self.sy(t))}h{n(self.w)}" for t in yt)
            if d:
                c.path(d, stroke=GRID, width=0.6)
        if box:
            c.rect(self.x, self.y, self.w, self.h, "none", stroke=AXIS, width=0.6)
        else:
            c.path(f"M{n(self.x)} {n(self.y)}V{n(self.y + self.h)}H{n(self.x + self.w)}", stroke=AXIS, width=0.8)
        base = self.y + self.h
        ticks = "".join(f"M{n(self.sx(t))} {n(base)}v3" for t in xt) + "".join(
            f"M{n(self.x)} {n(self.sy(t))}h-3" for t in yt)
        if ticks:
            c.path(ticks, stroke=AXIS, width=0.6)
        xl = list(xlabels) if xlabels is not None else [tick_label(t) for t in xt]
        for t, s in zip(xt, xl, strict=True):
            if xrotate:
                c.text(self.sx(t) + 2, base + 6, s, size=xsize, anchor="end", rotate=-xrotate, baseline="hanging")
            else:
                c.text(self.sx(t), base + 5, s, size=xsize, anchor="middle", baseline="hanging")
        yl = list(ylabels) if ylabels is not None else [tick_label(t) for t in yt]
        for t, s in zip(yt, yl, strict=True):
            c.text(self.x - 5, self.sy(t), s, size=ysize, anchor="end")
        if xlabel:
            drop = max((text_width(s, xsize) for s in xl), default=0) * 0.5 + 8 if xrotate else xsize + 9
            c.text(self.x + self.w / 2, base + 5 + drop, xlabel, anchor="middle", baseline="hanging")
        if ylabel:
            left = max((text_width(s, ysize) for s in yl), default=0) + 14
            c.text(self.x - left, self.y + self.h / 2, ylabel, anchor="middle", rotate=-90)

    def polyline(self, xs: Sequence[float], ys: Sequence[float], stroke: str, *, width: float = 1.6,
                 dash: str = "", steps: bool = False) -> None:
        """A line through the finite points; a non-finite value breaks it. ``steps``: steps-post."""
        d: list[str] = []
        pen = False
        prev_y = 0.0
        for xv, yv in zip(xs, ys, strict=True):
            if not (math.isfinite(xv) and math.isfinite(yv)):
                pen = False
                continue
            px, py = self.sx(xv), self.sy(yv)
            if pen and steps:
                d.append(f"L{n(px)} {n(prev_y)}")
            d.append(f"{'L' if pen else 'M'}{n(px)} {n(py)}")
            pen, prev_y = True, py
        if d:
            self.c.path("".join(d), stroke=stroke, width=width, dash=dash)

    def stairs(self, counts: Sequence[float], edges: Sequence[float], colour: str, *, fill: bool,
               width: float = 1.6) -> None:
        """A histogram: filled (one path) or outlined steps."""
        if not counts:
            return
        base = self.sy(max(self.y0, 0.0))
        d = [f"M{n(self.sx(edges[0]))} {n(base)}"]
        for k, cnt in enumerate(counts):
            cy = self.sy(cnt if math.isfinite(cnt) else 0.0)
            d.append(f"V{n(cy)}H{n(self.sx(edges[k + 1]))}")
        d.append(f"V{n(base)}")
        if fill:
            self.c.path("".join(d) + "Z", fill=colour)
        else:
            self.c.path("".join(d), stroke=colour, width=width)

    def hline(self, v: float, stroke: str, *, width: float = 1.0, dash: str = "") -> None:
        self.c.line(self.x, self.sy(v), self.x + self.w, self.sy(v), stroke, width=width, dash=dash)

    def vline(self, v: float, stroke: str, *, width: float = 1.0, dash: str = "", opacity: float = 1.0) -> None:
        self.c.line(self.sx(v), self.y, self.sx(v), self.y + self.h, stroke, width=width, dash=dash, opacity=opacity)
