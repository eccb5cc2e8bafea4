"""The events each function action accepts, as pydantic models: one module per function.

``parse_event(event, Model)`` validates an event through Powertools' parser and turns a validation failure into
:class:`~driftline_common.errors.InvalidEvent` naming the first wrong field (``details["field"]``, the dotted path
in the event) with a message that says what was expected and what came. Each function module maps its actions to
their models in ``EVENTS``; ``docs/contracts.md``'s payload tables are generated from these models' JSON Schema
(``python -m tools.contracts_doc``). Import only the module of the function you parse for (cold start).
"""

from driftline_common.contracts._base import (
    Contract,
    FieldError,
    Run,
    RunEvent,
    RunIds,
    RunWindow,
    WithRun,
    parse_event,
)

__all__ = ["Contract", "FieldError", "Run", "RunEvent", "RunIds", "RunWindow", "WithRun", "parse_event"]
