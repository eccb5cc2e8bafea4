"""Bad history files: a clear error naming the file, the column and the first bad row; nothing written.

Every case runs the real ``driftline backtest`` command; the checks happen before any stack is deployed.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from driftline_cli.history import Columns, HistoryError, parse_window, read_history, split
from driftline_common.config import parse_config

from .conftest import write_csv

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "driftline_examples" / "classifier"
HEADER = ["t", "id", "f0", "f1", "f2", "f3", "f4", "f5", "y", "p"]


def _rows(n: int, *, days: int = 3) -> list[list[object]]:
    step = days * 86400 // n
    return [[f"2026-01-{5 + (i * step) // 86400:02d}T{(i * step) % 86400 // 3600:02d}:00:00Z", f"r{i}",
             0.1 * i, 1, 2, 3, 4, i % 3, i % 2, 0.25] for i in range(n)]


def _backtest(run_cli, cfg: Path, data: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    return run_cli("backtest", str(cfg), "--data", str(data), "--time-column", "t", "--label-column", "y",
                   "--id-column", "id", "--source-dir", str(EXAMPLE), "--train-windows", "1", "--out", str(out),
                   *extra)


@pytest.mark.parametrize(("change", "column", "row", "words"), [
    (lambda rows: [r[:1] + r[2:] for r in rows], "id", None, "missing column"),
    (lambda rows: [r if i != 7 else ["yesterday", *r[1:]] for i, r in enumerate(rows)], "t", 9, "not a time"),
    (lambda rows: [r if i != 11 else [*r[:8], "maybe", r[9]] for i, r in enumerate(rows)], "y", 13,
     "not among the config's labels"),
    (lambda rows: [r if i != 4 else [*r[:9], "nan"] for i, r in enumerate(rows)], "p", 6, "finite"),
    (lambda rows: [r if i != 5 else [*r[:2], "", *r[3:]] for i, r in enumerate(rows)], "f0", 7, "finite"),
])
def test_bad_rows_name_file_column_and_row(binary_config: Path, tmp_path: Path, run_cli, change, column, row,
                                           words) -> None:
    rows = change(_rows(60))
    header = HEADER if column != "id" else [h for h in HEADER if h != "id"]
    data = write_csv(tmp_path / "history.csv", header, rows)
    out = tmp_path / "out"
    code, stdout, err = _backtest(run_cli, binary_config, data, out, "--score-column", "p")
    assert code == 1, stdout
    for part in (str(data), f"column {column!r}", words):
        assert part in err, err
    if row is not None:
        assert f"row {row}" in err, err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["churn.yaml", "history.csv"]  # nothing else written


def test_fewer_rows_than_one_window(binary_config: Path, tmp_path: Path, run_cli) -> None:
    data = write_csv(tmp_path / "history.csv", HEADER, _rows(30, days=1))  # all in the training day
    out = tmp_path / "out"
    code, _, err = _backtest(run_cli, binary_config, data, out)
    assert code == 1
    for part in (str(data), "column 't'", "fewer rows than one window"):
        assert part in err, err
    assert not out.exists()


def test_an_empty_file_and_a_missing_file(binary_config: Path, tmp_path: Path, run_cli) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    code, _, err = _backtest(run_cli, binary_config, empty, tmp_path / "out")
    assert code == 1
    assert "empty" in err
    code, _, err = _backtest(run_cli, binary_config, tmp_path / "nope.csv", tmp_path / "out")
    assert code == 1
    assert "no such file" in err
    assert not (tmp_path / "out").exists()


def test_multiclass_scores_need_one_column_per_class(tmp_path: Path, run_cli) -> None:
    cfg = tmp_path / "m.yaml"
    assert run_cli("init", "--problem-type", "multiclass", "--model-id", "m", "--bucket", "b-1", "--features",
                   "f0,f1,f2,f3,f4,f5", "--labels", "0", "1", "2", "--out", str(cfg))[0] == 0
    data = write_csv(tmp_path / "h.csv", HEADER, _rows(60))
    code, _, err = _backtest(run_cli, cfg, data, tmp_path / "out", "--score-columns", "p")
    assert code == 1
    assert "3 labels" in err


def test_history_sorted_and_split_into_windows(binary_config: Path, tmp_path: Path) -> None:
    import yaml

    cfg = parse_config(yaml.safe_load(binary_config.read_text()), scope=None)
    rows = list(reversed(_rows(72)))  # out of order on purpose
    rows[0][0] = "1767657600"  # epoch seconds are times too: the last row moves to 2026-01-06T00:00:00Z
    data = write_csv(tmp_path / "h.csv", HEADER, rows)
    h = read_history(data, cfg, Columns(time="t", label="y", id="id", score="p"))
    assert len(h) == 72
    assert list(h.times) == sorted(h.times)
    assert h.features[0] == "0.0,1,2,3,4,0"
    assert h.labels[0] == "0"
    assert h.scores
    assert h.scores[0] == "0.25"
    train, wins = split(h, parse_window("1d"), train_until=None, train_windows=1, path=data, time_column="t")
    assert train.stop == 24
    assert [w.rows.stop - w.rows.start for w in wins] == [25, 23]
    assert wins[0].start.isoformat() == "2026-01-06T00:00:00+00:00"
    with pytest.raises(ValueError, match="1d or 6h"):
        parse_window("1 week")


def test_parquet_histories_read_like_csv(binary_config: Path, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    import yaml

    cfg = parse_config(yaml.safe_load(binary_config.read_text()), scope=None)
    rows = _rows(48, days=2)
    csv_path = write_csv(tmp_path / "h.csv", HEADER, rows)
    columns = {name: [r[j] for r in rows] for j, name in enumerate(HEADER)}
    columns["t"] = [datetime.fromisoformat(t.replace("Z", "+00:00")) for t in columns["t"]]
    pq.write_table(pa.table(columns), tmp_path / "h.parquet")
    spec = Columns(time="t", label="y", id="id", score="p")
    a, b = read_history(csv_path, cfg, spec), read_history(tmp_path / "h.parquet", cfg, spec)
    assert list(a.times) == list(b.times)
    assert a.ids == b.ids
    assert a.labels == b.labels
    assert [line.split(",")[1:] for line in a.features] == [line.split(",")[1:] for line in b.features]
    bad = columns | {"p": [*columns["p"][:5], float("nan"), *columns["p"][6:]]}
    pq.write_table(pa.table(bad), tmp_path / "bad.parquet")
    with pytest.raises(HistoryError, match=r"bad\.parquet, column 'p', row 5: the score must be a finite number"):
        read_history(tmp_path / "bad.parquet", cfg, spec)
