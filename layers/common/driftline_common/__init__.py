"""Shared AWS-facing code of Driftline's functions: configuration model, typed errors, S3 readers,
the run/model/lock stores and event publishing. The numeric code lives apart, in ``driftline_metrics``."""

__version__ = "0.1.0"
