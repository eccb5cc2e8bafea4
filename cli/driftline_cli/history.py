"""A user's labelled history for ``driftline backtest``: read, checked row by row, cut into windows.

Columns: ``--time-column`` (ISO 8601, naive = UTC, or epoch seconds), ``--label-column``, optional
``--id-column`` (default: ``row-<n>``), optional scores (``--score-column`` for binary/regression,
``--score-columns`` per class in the config's label order for multiclass), and every feature of the config by
name. Anything wrong raises :class:`HistoryError` naming the file, the column and the first bad row (the data
row's line number in a CSV, counting the header as line 1; the row index in a Parquet file).
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from driftline_common.errors import DataFormatError


class HistoryError(DataFormatError):
    """The history file cannot be replayed: a missing column, a bad value, too few rows."""

    def __init__(self, path: Path | str, message: str, *, column: str | None = None, row: int | None = None,
                 value: Any = None) -> None:
        where = str(path) + (f", column {column!r}" if column else "") + (f", row {row}" if row is not None else "")
        shown = "" if value is None else f" (value {str(value)[:60]!r})"
        super().__init__(f"{where}: {message}{shown}", file=str(path), column=column, row=row)


def parse_window(text: str) -> timedelta:
    """``1d``, ``7d``, ``6h``, ``24h`` → a window length (whole hours, 1 h .. 31 d as ``windowHours`` allows)."""
    t = text.strip().lower()
    try:
        if t.endswith("d"):
            hours = int(t[:-1]) * 24
        elif t.endswith("h"):
            hours = int(t[:-1])
        else:
            raise ValueError(t)
    except ValueError:
        raise ValueError(f"--window must look like 1d or 6h, got {text!r}") from None
    if not 1 <= hours <= 744:
        raise ValueError(f"--window must be between 1h and 31d, got {text!r}")
    return timedelta(hours=hours)


@dataclass
class Columns:
    time: str
    label: str
    id: str | None = None
    score: str | None = None
    scores: tuple[str, ...] = ()


@dataclass
class History:
    """Rows sorted by time: epoch seconds, ids, the CSV text of the features, labels (text) and scores (text)."""

    path: Path
    times: np.ndarray  # float64 epoch seconds
    ids: list[str]
    features: list[str]  # one CSV line (the config's feature order) per row
    labels: list[str]
    scores: list[str] | None  # one CSV line of scores per row (the endpoint's output), or None
    source_rows: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)


def _parse_time(value: str) -> float:
    v = value.strip()
    try:
        return float(v) if v and (v[0].isdigit() or v[0] == "-") and v.replace(".", "", 1).lstrip("-").isdigit() \
            else _iso(v)
    except ValueError:
        raise ValueError(value) from None


def _iso(v: str) -> float:
    t = datetime.fromisoformat(v.replace("Z", "+00:00") if v.endswith("Z") else v)
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.timestamp()


def _read_table(path: Path) -> tuple[list[str], list[Sequence[str]], int]:
    """``(header, rows, first_line)``: every row as a sequence of text cells (Parquet values as text)."""
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            import pyarrow.parquet as pq
        except ImportError:  # pragma: no cover - pyarrow is pinned in requirements-dev
            raise HistoryError(path, "reading Parquet needs pyarrow (pip install pyarrow)") from None
        try:
            table = pq.read_table(path)
        except Exception as exc:  # noqa: BLE001 - any reader failure is a bad file
            raise HistoryError(path, f"not a readable Parquet file: {exc}") from None
        header = list(table.column_names)
        cols = [["" if v is None else (v.isoformat() if isinstance(v, datetime) else str(v))
                 for v in table.column(c).to_pylist()] for c in header]
        return header, list(zip(*cols, strict=True)), 0
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            first = next(reader, None)
            if first is None:
                raise HistoryError(path, "the file is empty")
            return [h.strip() for h in first], list(reader), 2
    except UnicodeDecodeError:
        raise HistoryError(path, "not UTF-8 text (CSV) — pass a .csv or .parquet file") from None
    except OSError as exc:
        raise HistoryError(path, f"cannot read: {exc.strerror or exc}") from None


#: ISO 8601 times numpy parses exactly as :func:`datetime.fromisoformat` does (no offset: UTC)
_PLAIN_ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?Z?")


class _Checks:
    """The first bad row of every check, column by column; :meth:`raise_first` raises the earliest one.

    Row ``i`` is the ``i``-th data row; ties go to the check registered first (the order of the cells in a
    row-by-row reading: time, label, features in config order, scores, id).
    """

    def __init__(self, path: Path, row_no: Any) -> None:
        self.path, self.row_no = path, row_no
        self.found: list[tuple[int, int, str, str | None, Any]] = []

    def bad(self, i: int | None, message: str, column: str | None, value: Any) -> None:
        if i is not None:
            self.found.append((i, len(self.found), message, column, value))

    def raise_first(self) -> None:
        if self.found:
            i, _, message, column, value = min(self.found, key=lambda f: (f[0], f[1]))
            raise HistoryError(self.path, message, column=column, row=self.row_no(i),
                               value=None if value is None else value(i))


def _first(mask: np.ndarray) -> int | None:
    hit = np.flatnonzero(mask)
    return int(hit[0]) if hit.size else None


def _floats(cells: Sequence[str]) -> tuple[np.ndarray, int | None]:
    """The cells as float64 and the first one that is not a finite number (None when all are)."""
    try:
        values = np.fromiter(map(float, cells), dtype=np.float64, count=len(cells))
    except ValueError:
        bad = next(i for i, c in enumerate(cells) if not _finite(c))
        return np.zeros(0), bad
    return values, _first(~np.isfinite(values))


def _times(cells: Sequence[str]) -> tuple[np.ndarray, int | None]:
    """Epoch seconds of every cell and the first cell that is not a time (None when all are)."""
    stripped = list(map(str.strip, cells))
    if all(map(_PLAIN_ISO.fullmatch, stripped)):
        try:
            us = np.array([c.removesuffix("Z") for c in stripped], dtype="datetime64[us]")
            return us.astype(np.int64) / 1e6, None
        except ValueError:  # e.g. month 13: the row-by-row reading finds which row
            pass
    out = np.empty(len(cells), dtype=np.float64)
    for i, c in enumerate(cells):
        try:
            out[i] = _parse_time(c)
        except (ValueError, OverflowError):
            return out, i
    return out, None


def read_history(path: str | Path, cfg: Any, columns: Columns) -> History:
    """Read and check ``path`` against the model config ``cfg`` (a :class:`ModelConfig`).

    The checks run column by column on whole columns (a year of rows takes seconds); the error names the
    earliest bad row of the file, as a row-by-row reading would.
    """
    path = Path(path)
    if not path.is_file():
        raise HistoryError(path, "no such file")
    header, rows, first_line = _read_table(path)
    row_no = (lambda i: i + first_line) if first_line else (lambda i: i)
    index = {name: i for i, name in enumerate(header)}
    score_cols = list(columns.scores) or ([columns.score] if columns.score else [])
    if cfg.problem_type == "multiclass" and columns.score and not columns.scores:
        raise HistoryError(path, "a multiclass model needs one score column per class: --score-columns "
                                 f"in the order of the config's labels {cfg.labels}", column=columns.score)
    if columns.scores and len(columns.scores) != len(cfg.labels or []):
        raise HistoryError(path, f"--score-columns names {len(columns.scores)} columns; the config has "
                                 f"{len(cfg.labels or [])} labels {cfg.labels}")
    wanted = [columns.time, columns.label, *([columns.id] if columns.id else []), *score_cols,
              *(f.name for f in cfg.features)]
    for name in wanted:
        if name not in index:
            raise HistoryError(path, f"missing column (the header has {header[:20]})", column=name)
    if not rows:
        raise HistoryError(path, "no data rows", column=columns.time)
    checks = _Checks(path, row_no)
    width = len(header)
    short = _first(np.fromiter(map(len, rows), dtype=np.int64, count=len(rows)) != width)
    if short is not None:  # the rows before it are still checked: an earlier bad cell is named first
        n_cells = len(rows[short])
        checks.bad(short, f"{n_cells} cells where the header has {width}", None, None)
        rows = rows[:short]
    n = len(rows)
    cols: list[Sequence[str]] = list(zip(*rows, strict=True)) if n else [()] * width
    del rows

    def cell(c: int) -> Any:
        return lambda i: cols[c][i]

    t_col, y_col = index[columns.time], index[columns.label]
    times, bad_t = _times(cols[t_col])
    checks.bad(bad_t, "not a time (ISO 8601 such as 2026-01-05T13:00:00Z, or epoch seconds)", columns.time,
               cell(t_col))
    if cfg.problem_type != "regression":
        allowed = {str(v) for v in cfg.labels or []}
        mapping = {v: _label(v.strip(), allowed) for v in set(cols[y_col])}
        ys: list[str | None] = [mapping[v] for v in cols[y_col]]
        checks.bad(next((i for i, v in enumerate(ys) if v is None), None),
                   f"label not among the config's labels {sorted(allowed)}", columns.label, cell(y_col))
    else:
        targets = [v.strip() for v in cols[y_col]]
        ys = list(targets)
        checks.bad(_floats(targets)[1], "the regression target must be a finite number", columns.label, cell(y_col))
    texts = []
    for f in cfg.features:
        c = index[f.name]
        values = list(map(str.strip, cols[c]))
        if f.type == "numeric":
            checks.bad(_floats(values)[1], "a numeric feature must be a finite number", f.name,
                       lambda i, v=values: v[i])
        else:
            checks.bad(next((i for i, v in enumerate(values) if not v or "," in v or '"' in v), None),
                       "a category must be non-empty text without commas or quotes", f.name,
                       lambda i, v=values: v[i])
        texts.append(values)
    feats = [",".join(r) for r in zip(*texts, strict=True)] if texts else [""] * n
    scores: list[str] | None = None
    if score_cols:
        parts = []
        for name in score_cols:
            c = index[name]
            checks.bad(_floats(cols[c])[1], "the score must be a finite number (NaN, inf and empty are not)",
                       name, cell(c))
            parts.append(list(map(str.strip, cols[c])))
        scores = [",".join(r) for r in zip(*parts, strict=True)]
    if columns.id:
        ids = [v.strip() for v in cols[index[columns.id]]]
        rep = _first_repeat(ids)
        checks.bad(rep, "ids must be non-empty and unique" + (" (repeated)" if rep is not None and ids[rep] else ""),
                   columns.id, lambda i: ids[i])
    else:
        ids = [f"row-{row_no(i)}" for i in range(n)]
    checks.raise_first()
    order = np.argsort(times, kind="stable")
    pick = order.tolist()
    return History(path, times[order], [ids[i] for i in pick], [feats[i] for i in pick], [str(ys[i]) for i in pick],
                   None if scores is None else [scores[i] for i in pick], [row_no(i) for i in pick])


def _first_repeat(ids: list[str]) -> int | None:
    """The first empty or repeated id (None when every id is non-empty and unique)."""
    if "" not in ids and len(set(ids)) == len(ids):
        return None
    seen: set[str] = set()
    for i, rid in enumerate(ids):
        if not rid or rid in seen:
            return i
        seen.add(rid)
    return None  # pragma: no cover - the fast check above found one


def _finite(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _label(value: str, labels: set[str]) -> str | None:
    if value in labels:
        return value
    try:  # "1.0" for the label "1"
        f = float(value)
    except ValueError:
        return None
    for candidate in (str(int(f)) if f.is_integer() else None, repr(f)):
        if candidate in labels:
            return candidate
    return None


@dataclass(frozen=True)
class Window:
    index: int
    start: datetime
    end: datetime
    rows: slice


def windows(history: History, length: timedelta, *, start: datetime) -> list[Window]:
    """Consecutive windows of ``length`` from ``start`` to the last row (rows are sorted by time)."""
    out = []
    s = start
    last = history.times[-1]
    seconds = length.total_seconds()
    i = 0
    while s.timestamp() <= last:
        lo = int(np.searchsorted(history.times, s.timestamp(), side="left"))
        hi = int(np.searchsorted(history.times, s.timestamp() + seconds, side="left"))
        out.append(Window(i, s, s + length, slice(lo, hi)))
        s, i = s + length, i + 1
    return out


def align(t: float, length: timedelta) -> datetime:
    """The window boundary at or before ``t``: midnight UTC for day multiples, the hour otherwise."""
    when = datetime.fromtimestamp(t, tz=UTC)
    if length.total_seconds() % 86400 == 0:
        return when.replace(hour=0, minute=0, second=0, microsecond=0)
    return when.replace(minute=0, second=0, microsecond=0)


def split(history: History, length: timedelta, *, train_until: datetime | None, train_windows: int,
          path: Path | str, time_column: str) -> tuple[slice, list[Window]]:
    """The champion's training rows and the evaluation windows after them; checks there is enough of each."""
    origin = align(float(history.times[0]), length)
    if train_until is None:
        train_until = origin + train_windows * length
    n_train = int(np.searchsorted(history.times, train_until.timestamp(), side="left"))
    span = datetime.fromtimestamp(float(history.times[-1]), tz=UTC) - datetime.fromtimestamp(
        float(history.times[0]), tz=UTC)
    if n_train < 10:
        raise HistoryError(path, f"{n_train} rows before the training cut-off {train_until:%Y-%m-%dT%H:%M:%SZ}; the "
                                 "initial champion needs at least 10 (pass --train-until or --train-windows)",
                           column=time_column)
    wins = [w for w in windows(history, length, start=train_until) if w.rows.stop > w.rows.start]
    if not wins:
        raise HistoryError(path, f"fewer rows than one window: {len(history)} rows span {span} and none falls "
                                 f"after the training cut-off {train_until:%Y-%m-%dT%H:%M:%SZ} in a window of "
                                 f"{length}", column=time_column)
    return slice(0, n_train), windows(history, length, start=train_until)


def parse_when(text: str) -> datetime:
    t = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def score_line(values: Sequence[float]) -> str:
    return ",".join(repr(float(v)) for v in values)
