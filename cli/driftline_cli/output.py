"""What the CLI prints: rich tables for people (default), JSON for scripts (``--output json``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table


class Out:
    """Print results as a table (``table``) or as one JSON document (``json``); messages go to stderr."""

    def __init__(self, fmt: str = "table", *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> None:
        self.fmt = fmt
        self.stdout = stdout or sys.stdout
        # a pipe or file gets wide tables (no folding at 80 columns); a terminal its own width
        wide = None if getattr(self.stdout, "isatty", lambda: False)() else 200
        self.console = Console(file=self.stdout, highlight=False, soft_wrap=True, width=wide)
        self.err = Console(file=stderr or sys.stderr, highlight=False, soft_wrap=True)

    @property
    def json(self) -> bool:
        return self.fmt == "json"

    def data(self, value: Any) -> None:
        self.stdout.write(json.dumps(value, indent=2, default=str) + "\n")
        self.stdout.flush()

    def table(self, title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        table = Table(title=title, show_lines=False, title_justify="left")
        for c in columns:
            table.add_column(c, overflow="fold")
        for row in rows:
            table.add_row(*("-" if v is None or v == "" else str(v) for v in row))
        self.console.print(table)

    def kv(self, title: str | None, pairs: Sequence[tuple[str, Any]]) -> None:
        self.table(title, ("field", "value"), [(k, v) for k, v in pairs])

    def line(self, text: str) -> None:
        self.console.print(text, markup=False)

    def note(self, text: str) -> None:
        """A progress or status message: stderr, so ``--output json`` stays parseable."""
        self.err.print(text, markup=False)


def fmt_num(value: Any, digits: int = 3) -> str:
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value)
    if isinstance(value, int | float):
        return f"{value:.{digits}f}" if isinstance(value, float) else str(value)
    return str(value)
