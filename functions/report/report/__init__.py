"""report: the run report (``report.html`` + ``report.json``), written as the pipeline's last step."""
