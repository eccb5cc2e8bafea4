"""The run reports the ReportFunction wrote: ``runs/<modelId>/<runId>/report.html`` and ``report.json``."""

from __future__ import annotations

from driftline_common.errors import DriftlineError
from driftline_common.s3io import S3Uri, get_bytes
from driftline_common.settings import Settings
from driftline_common.store import RunStore

#: how many of the newest runs "the latest report" looks through (a running run has no report yet)
LATEST_LOOKBACK = 10


class ReportNotFound(DriftlineError):
    """No report was written for the run (yet): it is still running, or its report step failed."""

    http_status = 404


def report_uri(settings: Settings, model_id: str, run_id: str, *, as_json: bool) -> S3Uri:
    return S3Uri(settings.bucket, f"runs/{model_id}/{run_id}/report.{'json' if as_json else 'html'}")


def run_report(settings: Settings, model_id: str, run_id: str, *, as_json: bool) -> bytes:
    """The stored report of one run (HTML, or its ``report.json``), or :class:`ReportNotFound`."""
    try:
        return get_bytes(report_uri(settings, model_id, run_id, as_json=as_json))
    except FileNotFoundError:
        raise ReportNotFound(f"no report for run {run_id!r} of model {model_id!r} (still running, or its report "
                             "step failed: see the run's reportError)", modelId=model_id, runId=run_id) from None


def latest_report(settings: Settings, runs: RunStore, model_id: str, *, as_json: bool) -> tuple[str, bytes]:
    """The newest run's report among the last runs that have one: ``(runId, body)``."""
    for run in runs.list(model_id, limit=LATEST_LOOKBACK):
        run_id = str(run["runId"])
        try:
            return run_id, get_bytes(report_uri(settings, model_id, run_id, as_json=as_json))
        except FileNotFoundError:
            continue
    raise ReportNotFound(f"none of the last {LATEST_LOOKBACK} runs of model {model_id!r} has a report",
                         modelId=model_id)
