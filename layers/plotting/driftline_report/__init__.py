"""driftline_report: the one run-report renderer (``report.json`` → self-contained HTML with inline SVG).

Used by the ReportFunction (last step of every run) and by ``make demo``. See docs/reports.md.
"""

from driftline_report.document import SCHEMA, build_report, per_class
from driftline_report.page import page, render_html, render_sections

__all__ = ["SCHEMA", "build_report", "page", "per_class", "render_html", "render_sections"]
