"""The functions' environment, as a typed model checked at handler entry (never at import)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from driftline_common.errors import ConfigurationError

_ENV = {
    "bucket": "DRIFTLINE_BUCKET",
    "models_table": "MODELS_TABLE",
    "runs_table": "RUNS_TABLE",
    "locks_table": "LOCKS_TABLE",
    "event_bus": "EVENT_BUS_NAME",
    "stage": "STAGE",
    "state_machine_arn": "STATE_MACHINE_ARN",
    "sagemaker_role_arn": "SAGEMAKER_ROLE_ARN",
    "event_source": "EVENT_SOURCE",
    "alerts_topic_arn": "ALERTS_TOPIC_ARN",
}
_REQUIRED = ("bucket", "models_table", "runs_table", "locks_table", "event_bus")


@dataclass(frozen=True)
class Settings:
    """Names of the stack's resources, injected by the template into every function's environment."""

    bucket: str
    models_table: str
    runs_table: str
    locks_table: str
    event_bus: str
    stage: str = "dev"
    state_machine_arn: str = ""
    sagemaker_role_arn: str = ""
    event_source: str = "driftline"
    alerts_topic_arn: str = ""

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values = {name: env[var] for name, var in _ENV.items() if env.get(var)}
        missing = sorted(_ENV[name] for name in _REQUIRED if name not in values)
        if missing:
            raise ConfigurationError(
                f"missing environment variable(s) {', '.join(missing)}: the function must be deployed by "
                "template.yaml (or the offline runtime), which sets them",
                missing=missing,
            )
        return cls(**values)


def get_settings() -> Settings:
    """Settings of this invocation, read from the environment (cheap; never at import time)."""
    return Settings.from_env()
