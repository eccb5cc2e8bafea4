"""trigger_router: turns schedules, ground truth landing in S3 and alarms into one ``Run Requested`` per model."""
