"""Driftline on the offline emulator (:mod:`samlocal`): the demo, the scenarios' set-up, ``make up``'s example
model and ``make invoke``'s seeding. The emulator itself knows nothing of Driftline."""

from samlocal import OfflineStack as _EmulatorStack
from samlocal import StackError, offline_aws

__all__ = ["OfflineStack", "StackError", "offline_aws"]


class OfflineStack(_EmulatorStack):
    """:class:`samlocal.OfflineStack` with Driftline's stack name (``driftline``: ``driftline-databucket``, ...)."""

    DEFAULT_STACK_NAME = "driftline"
