"""The drift checker's actions (``functions/drift_checker``): one model per action, ``EVENTS`` by name."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from driftline_common.contracts._base import (
    SHOWN_CHARS,
    Contract,
    FieldError,
    NonEmptyStr,
    ReduceEvent,
    RunEvent,
    ShardEvent,
)


class Check(RunEvent):
    """Test the run's window of captured inputs against the model's baseline."""

    action: Literal["check"]


class BuildBaseline(Contract):
    """Build the baseline statistics from a data set and write them to the config's ``baselineUri``."""

    action: Literal["build_baseline"]
    model_id: NonEmptyStr = Field(alias="modelId", description="the model whose baseline is built")
    data_uri: NonEmptyStr = Field(alias="dataUri", description="s3:// URI of the data (a file or a prefix)")

    @field_validator("data_uri")
    @classmethod
    def _s3(cls, value: str) -> str:
        if not value.startswith("s3://"):
            raise FieldError(f"'{{field}}' must be an s3:// URI, got {value[:SHOWN_CHARS]!r}")
        return value


class CheckShard(ShardEvent):
    """One Distributed Map child of a sharded run: per-feature histograms of a batch of capture objects."""

    action: Literal["check_shard"]


class Reduce(ReduceEvent):
    """Merge the shards' histograms and test them (binned statistics)."""

    action: Literal["reduce"]


class Monitor(RunEvent):
    """Data quality against Model Monitor's constraints, the endpoint's operational health and bias of the run's
    window (docs/model-monitor.md); each part records its own failure."""

    action: Literal["monitor"]


EVENTS: dict[str, type[Contract]] = {"check": Check, "build_baseline": BuildBaseline, "check_shard": CheckShard,
                                     "reduce": Reduce, "monitor": Monitor}
