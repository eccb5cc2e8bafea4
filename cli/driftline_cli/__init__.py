"""``driftline``: the command line for your own models (register, baseline, runs, reports, offline backtests).

See ``docs/cli.md``. The entry point is :func:`driftline_cli.main.main` (``[project.scripts] driftline``).
"""

__version__ = "0.1.0"
