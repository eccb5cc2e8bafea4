"""A labelled history file drawn from a scenario's population: input for ``driftline backtest``.

Each simulated day holds ``--rows`` rows spread evenly over the day, with the columns a production log of a
model typically has: ``event_time`` (ISO 8601, UTC), ``request_id``, the features by name, ``label`` (the
ground truth), and optionally ``score`` (``--scores``: the true positive-class probability for a binary
population, a stand-in for what the production model scored).

Usage::

    python -m driftline_examples.history --scenario sudden-concept --days 30 --out build/history.csv
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from .scenarios import base

ORIGIN = datetime(2026, 1, 5, tzinfo=UTC)


def write_history(path: Path, scenario: base.Scenario, *, days: int, rows: int, origin: datetime = ORIGIN,
                  first_day: int = 0) -> int:
    """Write days ``first_day .. first_day+days-1`` of ``scenario`` to ``path`` (CSV); returns the row count.

    Cells are written as :meth:`Scenario.csv_row` and :meth:`Scenario.label_text` write them, a day's column at
    a time (a year of 5,000 rows a day takes seconds).
    """
    names = [f.name for f in scenario.features]
    cat = set(scenario.categorical)
    step = 86400.0 / max(1, rows)
    n = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        fh.write(",".join(["event_time", "request_id", *names, "label"]) + "\r\n")
        for d in range(first_day, first_day + days):
            X, y, _ = scenario.day(d, rows)
            start = np.datetime64((origin + timedelta(days=d - first_day)).replace(tzinfo=None), "us")
            stamps = np.datetime_as_string(start + np.rint(np.arange(len(y)) * step * 1e6).astype(np.int64), unit="s")
            cols = [[f"{t}Z" for t in stamps.tolist()], [f"req-{d:04d}-{i:06d}" for i in range(len(y))]]
            for j in range(X.shape[1]):
                values = X[:, j].tolist()
                cols.append([str(int(v)) for v in values] if j in cat else [repr(float(v)) for v in values])
            cols.append([scenario.label_text(v) for v in y])
            fh.write("".join(",".join(r) + "\r\n" for r in zip(*cols, strict=True)))
            n += len(y)
    return n


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m driftline_examples.history", description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", default="sudden-concept", help="a registered scenario (make scenarios --list)")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--rows", type=int, default=1500, help="rows per day")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    scenario = base.get(args.scenario)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    n = write_history(args.out, scenario, days=args.days, rows=args.rows)
    print(f"wrote {n} rows ({args.days} days of {args.scenario}) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
