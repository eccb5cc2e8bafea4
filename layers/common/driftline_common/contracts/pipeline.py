"""The error names the state machine (``statemachines/pipeline.asl.json``) matches, in one place.

Every name is a class of :mod:`driftline_common.errors` (or :class:`driftline_common.events.EventPublishError`):
the Lambda runtime reports the raised class's name as ``errorType``. ``tests/unit/test_contracts_errors.py``
checks the ASL against these lists both ways, and ``docs/contracts.md``'s error table is generated from them.
"""

from __future__ import annotations

#: the domain errors every Lambda task's (and the Assess branches') ``Catch`` names, before its ``States.ALL``
CAUGHT = ("InvalidEvent", "InvalidModelConfig", "ModelNotFound", "RunNotFound", "DataFormatError",
          "InsufficientData", "BaselineNotFound", "TrainingFailed", "DeploymentFailed", "ConfigurationError",
          "ConcurrentModification", "InternalError")
#: retried by the idempotent steps at or after the endpoint switch (CheckDeployment, Complete, ReconcileDeployment)
RETRIED = ("InternalError", "ConcurrentModification", "EventPublishError")
#: the states that retry :data:`RETRIED`
RETRYING_STATES = ("CheckDeployment", "Complete", "ReconcileDeployment")
#: domain errors raised inside the state-machine functions' code that never leave a function, and why
HANDLED_INSIDE = {
    "RetrainInProgress": "decide catches it: another run of the model holds the retrain lock, so no second retrain",
    "InvalidConstraints": "the drift checker's monitor step catches it: the data-quality part is recorded as failed "
                          "with the file and entry, the run's model-quality part completes",
}
#: domain errors only the HTTP API raises (mapped to status codes, never seen by the state machine)
API_ONLY = ("PayloadTooLarge", "DuplicateTrigger")
