"""samlocal: an AWS SAM application run offline, in-process, on moto.

The template is deployed into moto (:class:`OfflineStack`), its state machines execute with moto's Step Functions
interpreter, EventBridge rules and schedules deliver, its Lambda functions run in-process (the real handlers),
SageMaker training jobs and endpoints run locally in script mode, and its HTTP API is served with SigV4. Nothing in
this package knows a particular application (see ``README.md``).
"""

from .stack import REGISTRY, OfflineStack, StackError, offline_aws

__all__ = ["REGISTRY", "OfflineStack", "StackError", "offline_aws"]
