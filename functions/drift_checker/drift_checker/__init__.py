"""drift_checker: per-feature and dataset drift of a window's inputs against the training baseline."""
