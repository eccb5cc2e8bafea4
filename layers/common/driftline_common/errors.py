"""Domain errors, in one module.

State-machine functions raise these; the Lambda runtime reports the class name as ``errorType`` and the
ASL ``Retry``/``Catch`` blocks match on those names (never on message text). The HTTP API maps them to
status codes in one place (``api.handler``). Every error carries a machine-readable ``code`` and a
message that says what was wrong and what was expected.
"""

from __future__ import annotations

from typing import Any


class DriftlineError(Exception):
    """Base class of every Driftline domain error."""

    code = "DriftlineError"
    http_status = 500

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        return {"error": type(self).__name__, "message": self.message, "details": self.details}


class InvalidEvent(DriftlineError):
    """The event given to a function is malformed (missing or mistyped fields)."""

    http_status = 400


class InvalidModelConfig(DriftlineError):
    """A model configuration failed validation (on write or on read)."""

    http_status = 400


class ModelNotFound(DriftlineError):
    """No configuration is registered for the model id."""

    http_status = 404


class RunNotFound(DriftlineError):
    """No run with this id exists for the model."""

    http_status = 404


class DataFormatError(DriftlineError):
    """A data file (capture, ground truth, baseline, CSV) cannot be read at all."""

    http_status = 422


class InsufficientData(DriftlineError):
    """The window holds no usable labelled rows (nothing to evaluate)."""

    http_status = 422


class BaselineNotFound(DriftlineError):
    """The model's drift baseline does not exist at its configured location."""

    http_status = 404


class RetrainInProgress(DriftlineError):
    """Another retrain holds the model's lock."""

    http_status = 409


class TrainingFailed(DriftlineError):
    """The SageMaker training job (or hyperparameter tuning job) failed."""


class DeploymentFailed(DriftlineError):
    """Creating or updating the SageMaker endpoint failed."""


class ConfigurationError(DriftlineError):
    """The function's own environment (table names, bucket...) is missing or invalid."""


class ConcurrentModification(DriftlineError):
    """An item changed between read and conditional write; read again and retry."""

    http_status = 409


class DuplicateTrigger(DriftlineError):
    """The triggering event was already handled by another run (EventBridge delivers at least once)."""

    http_status = 409


class PayloadTooLarge(DriftlineError):
    """A request or config exceeds a service limit (e.g. DynamoDB's 400 KB item size)."""

    http_status = 413


class InternalError(DriftlineError):
    """An unexpected exception inside a function, typed at its handler's boundary.

    ``details`` name the original exception (``errorClass``, ``errorMessage``); its traceback is logged, never
    returned (see :func:`driftline_common.observability.task_boundary`).
    """

    MAX_MESSAGE = 1000

    @classmethod
    def from_exception(cls, exc: BaseException) -> InternalError:
        name = type(exc).__qualname__
        module = type(exc).__module__
        qualified = name if module == "builtins" else f"{module}.{name}"
        text = str(exc)[: cls.MAX_MESSAGE]
        return cls(f"unexpected {name}: {text}" if text else f"unexpected {name}",
                   errorClass=qualified, errorMessage=text)


class InvalidConstraints(DataFormatError):
    """A Model Monitor ``constraints.json`` / ``statistics.json`` (or a bias/operational section's input) cannot be
    used: ``details`` name the file (``uri``) and the entry."""
