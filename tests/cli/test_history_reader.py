"""The column-wise history reader agrees with a row-by-row reading: same rows, or the same first bad row.

The reference below is the row-by-row reader the column-wise one replaced (every cell checked in file order);
random histories with random faults injected must give the same ``History`` or the same error message.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from driftline_cli.history import (
    Columns,
    History,
    HistoryError,
    _finite,
    _label,
    _parse_time,
    _read_table,
    read_history,
)
from driftline_common.config import parse_config

from .conftest import write_csv

HEADER = ["t", "id", "f0", "f1", "f2", "f3", "f4", "f5", "y", "p"]
SPEC = Columns(time="t", label="y", id="id", score="p")


def reference_read(path: str | Path, cfg: Any, columns: Columns) -> History:
    """Read and check ``path`` against the model config ``cfg`` (a :class:`ModelConfig`)."""
    path = Path(path)
    if not path.is_file():
        raise HistoryError(path, "no such file")
    header, rows, first_line = _read_table(path)
    row_no = (lambda i: i + first_line) if first_line else (lambda i: i)
    index = {name: i for i, name in enumerate(header)}
    features = [f.name for f in cfg.features]
    score_cols = list(columns.scores) or ([columns.score] if columns.score else [])
    if cfg.problem_type == "multiclass" and columns.score and not columns.scores:
        raise HistoryError(path, "a multiclass model needs one score column per class: --score-columns "
                                 f"in the order of the config's labels {cfg.labels}", column=columns.score)
    if columns.scores and len(columns.scores) != len(cfg.labels or []):
        raise HistoryError(path, f"--score-columns names {len(columns.scores)} columns; the config has "
                                 f"{len(cfg.labels or [])} labels {cfg.labels}")
    wanted = [columns.time, columns.label, *([columns.id] if columns.id else []), *score_cols, *features]
    for name in wanted:
        if name not in index:
            raise HistoryError(path, f"missing column (the header has {header[:20]})", column=name)
    if not rows:
        raise HistoryError(path, "no data rows", column=columns.time)
    t_col, y_col = index[columns.time], index[columns.label]
    id_col = index[columns.id] if columns.id else None
    s_cols = [index[c] for c in score_cols]
    f_cols = [(index[f.name], f.name, f.type) for f in cfg.features]
    labels = {str(v) for v in cfg.labels or []}
    classification = cfg.problem_type != "regression"
    width = len(header)
    times = np.empty(len(rows), dtype=np.float64)
    ids: list[str] = []
    feats: list[str] = []
    ys: list[str] = []
    scores: list[str] | None = [] if s_cols else None
    seen_ids: set[str] = set()
    for i, row in enumerate(rows):
        n = row_no(i)
        if len(row) != width:
            raise HistoryError(path, f"{len(row)} cells where the header has {width}", row=n)
        try:
            times[i] = _parse_time(row[t_col])
        except (ValueError, OverflowError):
            raise HistoryError(path, "not a time (ISO 8601 such as 2026-01-05T13:00:00Z, or epoch seconds)",
                               column=columns.time, row=n, value=row[t_col]) from None
        y = row[y_col].strip()
        if classification:
            y = _label(y, labels)
            if y is None:
                raise HistoryError(path, f"label not among the config's labels {sorted(labels)}",
                                   column=columns.label, row=n, value=row[y_col])
        elif not _finite(y):
            raise HistoryError(path, "the regression target must be a finite number", column=columns.label,
                               row=n, value=row[y_col])
        ys.append(y)
        cells = []
        for c, name, kind in f_cols:
            cell = row[c].strip()
            if kind == "numeric" and not _finite(cell):
                raise HistoryError(path, "a numeric feature must be a finite number", column=name, row=n, value=cell)
            if kind == "categorical" and (not cell or "," in cell or '"' in cell):
                raise HistoryError(path, "a category must be non-empty text without commas or quotes",
                                   column=name, row=n, value=cell)
            cells.append(cell)
        feats.append(",".join(cells))
        if scores is not None:
            for c, name in zip(s_cols, score_cols, strict=True):
                if not _finite(row[c]):
                    raise HistoryError(path, "the score must be a finite number (NaN, inf and empty are not)",
                                       column=name, row=n, value=row[c])
            scores.append(",".join(row[c].strip() for c in s_cols))
        rid = row[id_col].strip() if id_col is not None else f"row-{n}"
        if not rid or rid in seen_ids:
            raise HistoryError(path, "ids must be non-empty and unique" + (" (repeated)" if rid else ""),
                               column=columns.id, row=n, value=rid)
        seen_ids.add(rid)
        ids.append(rid)
    order = np.argsort(times, kind="stable")
    pick = order.tolist()
    return History(path, times[order], [ids[i] for i in pick], [feats[i] for i in pick], [ys[i] for i in pick],
                   None if scores is None else [scores[i] for i in pick], [row_no(i) for i in pick])



def _history(rng: random.Random, n: int) -> list[list[Any]]:
    rows = []
    for i in range(n):
        t = 1767571200 + i * 3000 + rng.randrange(60)
        when = (f"{np.datetime64(t, 's')}Z" if rng.random() < 0.8 else
                str(t) if rng.random() < 0.5 else f"{np.datetime64(t, 's')}+00:00".replace("T", " "))
        rows.append([when, f"r{i}", f"{rng.gauss(0, 1):.4f}", rng.randrange(5), f" {rng.random():.3f}", 3, 4,
                     rng.choice("abc"), rng.choice(["0", "1", "1.0", " 0"]), f"{rng.random():.4f}"])
    rng.shuffle(rows)
    return rows


FAULTS: list[tuple[int, Any]] = [
    (0, "yesterday"), (0, "2026-13-05T00:00:00Z"), (0, ""), (1, ""), (1, "r3"), (2, "nan"), (2, ""), (2, "x"),
    (3, "inf"), (7, ""), (7, "a,b"), (8, "2"), (8, "maybe"), (9, "NaN"), (9, ""), (9, "-inf"),
]


@pytest.mark.parametrize("seed", range(12))
def test_column_wise_reader_agrees_with_row_by_row(binary_config: Path, tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    cfg = yaml.safe_load(binary_config.read_text())
    cfg["features"][5] = {"name": "f5", "type": "categorical"}
    model = parse_config(cfg, scope=None)
    rows = _history(rng, 200)
    for _ in range(seed % 4):  # 0 to 3 faults, anywhere
        col, value = rng.choice(FAULTS)
        rows[rng.randrange(len(rows))][col] = value
    if seed == 5:
        rows[50] = rows[50][:-1]  # a short row after other faults
    data = write_csv(tmp_path / "h.csv", HEADER, rows)
    try:
        expected: History | str = reference_read(data, model, SPEC)
    except HistoryError as exc:
        expected = str(exc)
    try:
        got: History | str = read_history(data, model, SPEC)
    except HistoryError as exc:
        got = str(exc)
    if isinstance(expected, str):
        assert got == expected
        return
    assert isinstance(got, History), got
    assert got.ids == expected.ids
    assert got.features == expected.features
    assert got.labels == expected.labels
    assert got.scores == expected.scores
    assert got.source_rows == expected.source_rows
    np.testing.assert_array_equal(got.times, expected.times)


@pytest.mark.parametrize(("name", "rows"), [("sudden-concept", 50), ("regression-drift", 7), ("multiclass-drift", 33)])
def test_example_history_cells_are_the_scenarios_own(tmp_path: Path, name: str, rows: int) -> None:
    import csv
    from datetime import timedelta

    from driftline_examples.history import ORIGIN, write_history
    from driftline_examples.scenarios import base

    scenario = base.get(name)
    path = tmp_path / "h.csv"
    assert write_history(path, scenario, days=2, rows=rows) == 2 * rows
    with path.open(newline="") as fh:
        got = list(csv.reader(fh))
    assert got[0] == ["event_time", "request_id", *(f.name for f in scenario.features), "label"]
    want = []
    for d in range(2):
        X, y, _ = scenario.day(d, rows)
        for i in range(rows):
            when = ORIGIN + timedelta(days=d, seconds=i * 86400.0 / rows)
            want.append([when.strftime("%Y-%m-%dT%H:%M:%SZ"), f"req-{d:04d}-{i:06d}",
                         *scenario.csv_row(X[i]).split(","), scenario.label_text(y[i])])
    assert got[1:] == want


def test_a_window_goes_to_the_endpoint_in_at_most_six_requests_of_whole_hours() -> None:
    from driftline_cli.backtest import REQUESTS_PER_WINDOW, hour_parts, request_parts

    times = np.sort(np.random.default_rng(1).uniform(0, 86400, 5000)) + 1767571200.0  # a day from midnight
    parts = hour_parts(times, slice(100, 4900))
    assert len(parts) == 24
    assert all(len({int(t // 3600) for t in times[p]}) == 1 for p in parts)
    requests = request_parts(parts)
    assert len(requests) == REQUESTS_PER_WINDOW == 6
    assert np.array_equal(np.concatenate(requests), np.arange(100, 4900))  # every row once, in time order
    assert [len({int(t // 3600) for t in times[r]}) for r in requests] == [4] * 6
    assert [len(r) for r in request_parts(parts[:2])] == [len(parts[0]), len(parts[1])]
    assert request_parts([]) == []
