"""The metric evaluator's actions (``functions/metric_evaluator``): one model per action, ``EVENTS`` by name."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from driftline_common.contracts._base import Contract, NonEmptyStr, Obj, ReduceEvent, RunEvent, ShardEvent


class Evaluate(RunEvent):
    """Evaluate the run's window: join capture and ground truth, compute the metrics, judge the thresholds."""

    action: Literal["evaluate"]


class EvaluationRef(Contract):
    """The ``evaluate`` result the comparison reads (its joined labelled window)."""

    dataset_uri: NonEmptyStr = Field(
        alias="datasetUri", description="the joined labelled window (CSV; written from the dataset.npz beside it "
        "when first read)")


class TrainingRef(Contract):
    """The finished training job (``Train``'s result)."""

    job_name: NonEmptyStr = Field(alias="jobName", description="the SageMaker training job")


class Compare(RunEvent):
    """Compare the retrained challenger (and a recalibrated champion) with the champion on the same rows."""

    action: Literal["compare"]
    evaluation: EvaluationRef
    training: TrainingRef
    decision: Obj | None = Field(None, description="``decide``'s result: what must improve, a recalibration")


class EvaluateShard(ShardEvent):
    """One Distributed Map child of a sharded run: partial states of a batch of capture objects."""

    action: Literal["evaluate_shard"]


class Reduce(ReduceEvent):
    """Merge the shards' partial states into the ``evaluate`` summary."""

    action: Literal["reduce"]


EVENTS: dict[str, type[RunEvent]] = {"evaluate": Evaluate, "compare": Compare, "evaluate_shard": EvaluateShard,
                                     "reduce": Reduce}
