"""Driftline's offline runtime: the SAM template, the ASL and the handlers, run in-process on moto."""

from .stack import OfflineStack, StackError, offline_aws

__all__ = ["OfflineStack", "StackError", "offline_aws"]
