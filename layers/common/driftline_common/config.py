"""The model configuration: one item per model, validated on write (API) and on read (every run).

An invalid configuration fails the run at its first step with :class:`InvalidModelConfig`, whose
message lists every field that was wrong; nothing is half-run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from driftline_common.errors import InvalidModelConfig
from driftline_common.tuning_config import TuningConfig

MODEL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{0,62}$"
S3_URI_PATTERN = r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?$"
#: botocore's pattern of ``RoleArn`` (CreateTrainingJob) and ``ExecutionRoleArn`` (CreateModel)
ROLE_ARN_PATTERN = r"^arn:aws[a-z\-]*:iam::(\d{12}):role/?[a-zA-Z_0-9+=,.@\-_/]+$"
#: CreateTrainingJob's limits (botocore's service model): 100 hyperparameters, keys of at most 256 and values
#: of at most 2,500 characters. Script mode adds two (``sagemaker_program``, ``sagemaker_submit_directory``)
#: and JSON-encodes every value, so a config may hold 98 whose JSON-encoded values fit.
MAX_HYPERPARAMETERS = 98
MAX_HYPERPARAMETER_KEY = 256
MAX_HYPERPARAMETER_VALUE = 2500
RESERVED_HYPERPARAMETERS = ("sagemaker_program", "sagemaker_submit_directory")
#: DynamoDB stores numbers of magnitude 1e-130 .. 9.99e125 with 38 digits: configs keep well inside
MAX_ABS_NUMBER = 1e15
MAX_S3_URI = 1024
MIN_ABS_NUMBER = 1e-100


@dataclass(frozen=True)
class StackScope:
    """What a config may point at: the stack's data bucket(s) and its account.

    ``buckets``: the stack's bucket (``DRIFTLINE_BUCKET``) plus the comma-separated ``ALLOWED_DATA_BUCKETS``;
    ``account``: the stack's account id (from the ARNs the template passes), ``None`` when unknown.
    """

    buckets: frozenset[str]
    account: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StackScope | None:
        """The deployed function's scope; ``None`` outside a stack (no ``DRIFTLINE_BUCKET``): nothing to check."""
        env = os.environ if environ is None else environ
        bucket = (env.get("DRIFTLINE_BUCKET") or "").strip()
        if not bucket:
            return None
        extra = {b.strip() for b in (env.get("ALLOWED_DATA_BUCKETS") or "").split(",") if b.strip()}
        account = None
        for var in ("SAGEMAKER_ROLE_ARN", "ALERTS_TOPIC_ARN", "STATE_MACHINE_ARN"):
            parts = (env.get(var) or "").split(":")
            if len(parts) > 4 and parts[4].isdigit() and len(parts[4]) == 12:
                account = parts[4]
                break
        return cls(frozenset({bucket, *extra}), account)


def _scope(info: ValidationInfo) -> StackScope | None:
    ctx = info.context
    return ctx.get("scope") if isinstance(ctx, Mapping) else None


def _bucket_in_scope(value: str, info: ValidationInfo) -> str:
    if len(value) > MAX_S3_URI:  # checked here: pydantic's max_length next to a pattern costs 30x the pattern
        raise ValueError(f"an S3 URI has at most {MAX_S3_URI} characters")
    scope = _scope(info)
    bucket = value[len("s3://"):].split("/", 1)[0]
    if scope is not None and bucket not in scope.buckets:
        raise ValueError(
            f"bucket {bucket!r} is not one of the stack's data buckets {sorted(scope.buckets)} "
            "(add it to the AllowedDataBuckets parameter to use it)"
        )
    return value


def _account_in_scope(value: str, info: ValidationInfo) -> str:
    if not 20 <= len(value) <= 2048:
        raise ValueError("a role ARN has 20 to 2,048 characters")
    scope = _scope(info)
    account = value.split(":")[4]
    if scope is not None and scope.account is not None and account != scope.account:
        raise ValueError(f"the role is in account {account}, not in the stack's account {scope.account}")
    return value


S3Uri = Annotated[
    str,
    Field(pattern=S3_URI_PATTERN, description="s3://bucket/prefix"),
    AfterValidator(_bucket_in_scope),
]
RoleArn = Annotated[str, Field(pattern=ROLE_ARN_PATTERN),
                    AfterValidator(_account_in_scope)]
Name = Annotated[str, Field(min_length=1, max_length=256)]


def _storable(value: float) -> float:
    if abs(value) > MAX_ABS_NUMBER or (value != 0 and abs(value) < MIN_ABS_NUMBER):
        raise ValueError(f"must be 0 or of magnitude between {MIN_ABS_NUMBER:g} and {MAX_ABS_NUMBER:g}")
    return value


def items(low: int, high: int) -> AfterValidator:
    """A list/dict length check (``min_length``/``max_length`` on a container cost pydantic 2.13 ~40 us each)."""
    def check(value: Any) -> Any:
        if not low <= len(value) <= high:
            raise ValueError(f"must have {low} to {high} items, got {len(value)}")
        return value
    return AfterValidator(check)


#: a float DynamoDB stores and JSON carries: finite (``allow_inf_nan=False``), 0 or of magnitude in [1e-100, 1e15]
Real = Annotated[float, AfterValidator(_storable)]

#: metrics a threshold may name, by problem type, with the direction in which they are "better"
HIGHER_IS_BETTER = {
    "accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc", "average_precision",
    "mcc", "r2",
}
LOWER_IS_BETTER = {"log_loss", "brier", "mse", "rmse", "mae", "mape"}
CLASSIFICATION_METRICS = {
    "accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc", "average_precision", "mcc",
    "log_loss", "brier",
}
REGRESSION_METRICS = {"mse", "rmse", "mae", "mape", "r2"}
#: the values each metric can take (``None``: unbounded): a threshold outside them can never be right
METRIC_RANGES: dict[str, tuple[float | None, float | None]] = {
    **dict.fromkeys(("accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc", "average_precision",
                     "brier"), (0.0, 1.0)),
    "mcc": (-1.0, 1.0),
    "r2": (None, 1.0),
    **dict.fromkeys(("log_loss", "mse", "rmse", "mae", "mape"), (0.0, None)),
}


class _Strict(BaseModel):
    """Every config part: unknown fields refused, no type coercion (``true`` is not ``1``), finite numbers only.

    Every integer field has an upper bound and every float field is a :data:`Real`: numbers DynamoDB can store.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True, strict=True, allow_inf_nan=False)



class DataSource(_Strict):
    """Where a kind of data lands, and how it is encoded."""

    s3_uri: S3Uri = Field(alias="s3Uri")
    format: Literal["sagemaker", "csv", "jsonl"] = "sagemaker"
    #: for ``csv``/``jsonl``: the column holding the join key, the label / prediction columns
    id_column: Name = Field("inference_id", alias="idColumn")
    label_column: Name = Field("label", alias="labelColumn")
    score_column: Name = Field("score", alias="scoreColumn")
    time_column: Name = Field("inference_time", alias="timeColumn")


class Feature(_Strict):
    name: str = Field(min_length=1, max_length=128)
    type: Literal["numeric", "categorical"] = "numeric"


class Threshold(_Strict):
    metric: str = Field(max_length=64)
    min: Real | None = None
    max: Real | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> Threshold:
        if self.min is None and self.max is None:
            raise ValueError(f"threshold on {self.metric!r} needs 'min' or 'max'")
        if self.metric not in HIGHER_IS_BETTER | LOWER_IS_BETTER:
            raise ValueError(
                f"unknown metric {self.metric!r}; expected one of {sorted(HIGHER_IS_BETTER | LOWER_IS_BETTER)}"
            )
        low, high = METRIC_RANGES[self.metric]
        span = f"[{'-inf' if low is None else low}, {'inf' if high is None else high}]"
        wrong = [name for name, v in (("min", self.min), ("max", self.max))
                 if v is not None and ((low is not None and v < low) or (high is not None and v > high))]
        if wrong:
            raise ValueError(f"{' and '.join(wrong)} of {self.metric!r} must lie in its range {span}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) of {self.metric!r} is above its max ({self.max})")
        return self


class DriftThresholds(_Strict):
    #: family-wise significance level of the per-feature tests, after correction
    alpha: Real = Field(0.01, gt=0, lt=1)
    correction: Literal["bonferroni", "benjamini-hochberg", "none"] = "benjamini-hochberg"
    #: a feature drifts only if its test rejects AND its effect size is at least this PSI (guards against
    #: tiny, statistically significant shifts on large samples)
    psi: Real = Field(0.2, ge=0, le=100)
    #: effect-size floor for categorical features: L-infinity distance of the category proportions
    #: (SageMaker Model Monitor's default threshold is 0.1)
    linf: Real = Field(0.1, ge=0, le=1)
    #: dataset-level drift when at least this share of features drifted
    dataset_share: Real = Field(0.3, alias="datasetShare", gt=0, le=1)
    bins: int = Field(10, ge=2, le=100)


RetrainTrigger = Literal["performance", "drift"]
_ALL_TRIGGERS: tuple[RetrainTrigger, ...] = ("performance", "drift")


class SequentialBreaches(_Strict):
    """The one-sided CUSUM of each thresholded metric's per-window deficit in standard errors (docs/decisions.md)."""

    #: k: the deficit per window (in standard errors) subtracted at every window; the CUSUM detects fastest a
    #: deficit of about 2k per window and drifts back to 0 while the metric is above its threshold
    reference: Real = Field(0.25, ge=0, le=5)
    #: h: a sequential breach when the statistic exceeds this (one window adds at most h)
    limit: Real = Field(1.5, gt=0, le=50)


class LabelShift(_Strict):
    """Label-shift breaches: a change in the windows' class counts lowers the evidence a harmful change needs
    (docs/decisions.md)."""

    #: a label shift when the change point's chi-square homogeneity p-value (Bonferroni over the splits tried)
    #: is below this; the threshold metric must still be on the wrong side by its point estimates
    alpha: float = Field(0.001, gt=0, le=0.05)
    #: the variance of the class counts: "estimate" (quasi-likelihood: the chi-square divided by the dispersion
    #: estimated from the window-to-window spread within the parts before and after the change, floored at 1)
    #: or "binomial" (the strict test: every label independent)
    dispersion: Literal["estimate", "binomial"] = "estimate"


class RetrainPolicy(_Strict):
    consecutive_breaches: int = Field(3, alias="consecutiveBreaches", ge=1, le=30)
    min_samples: int = Field(500, alias="minSamples", ge=1, le=10**9)
    min_new_labels: int = Field(500, alias="minNewLabels", ge=0, le=10**9)
    cooldown_hours: Real = Field(24, alias="cooldownHours", ge=0, le=24 * 366)
    max_retrains_per_period: int = Field(2, alias="maxRetrainsPerPeriod", ge=0, le=1000)
    period_days: int = Field(7, alias="periodDays", ge=1, le=366)
    lock_ttl_minutes: int = Field(240, alias="lockTtlMinutes", ge=5, le=7 * 24 * 60)
    #: what may trigger a retrain: a performance breach, dataset drift, or both
    triggers: Annotated[list[RetrainTrigger], items(0, 2)] = Field(default_factory=lambda: list(_ALL_TRIGGERS))
    #: days of labelled data (ending at the window) used for the retraining set
    training_window_days: int = Field(7, alias="trainingWindowDays", ge=1, le=365)
    #: a window breaches only when the metric's one-sided confidence bound at this level is on the wrong side of
    #: its threshold (0.5: the point estimate, as before this field existed)
    threshold_confidence: float = Field(0.9, alias="thresholdConfidence", gt=0, lt=1)
    #: retrains triggered by drift alone have their own budget per ``periodDays``: they never use up the budget
    #: of performance-triggered retrains (``maxRetrainsPerPeriod``)
    max_drift_retrains_per_period: int = Field(1, alias="maxDriftRetrainsPerPeriod", ge=0)
    #: acknowledged drift (a drift-only retrain whose challenger was not better while performance was healthy)
    #: re-triggers only for a feature not acknowledged or an effect size at least this factor times the
    #: acknowledged one
    drift_effect_factor: float = Field(1.5, alias="driftEffectFactor", ge=1)
    #: a breach is also sustained when the last ``consecutiveBreaches`` windows are each below a threshold by
    #: their point estimate and their pooled (inverse-variance) bound at ``thresholdConfidence`` is too
    pooled_breaches: bool = Field(False, alias="pooledBreaches")
    #: a breach is also sustained by the CUSUM of the windows the champion version scored (null: off)
    sequential_breaches: SequentialBreaches | None = Field(
        default_factory=SequentialBreaches, alias="sequentialBreaches")
    #: drift alone triggers only when the champion's scores moved too: their PSI against its first labelled window
    #: at least this (null: no gate)
    score_drift_psi: float | None = Field(0.1, alias="scoreDriftPsi", ge=0, le=100)
    #: classifiers: a significant change of the class counts since the champion version's earlier windows, with
    #: the metric on the wrong side by point estimate since the change, is a breach (null: off)
    label_shift: LabelShift | None = Field(default_factory=LabelShift, alias="labelShift")


class TrainingTemplate(_Strict):
    """The parts of a SageMaker ``CreateTrainingJob`` request that do not change between retrains."""

    image_uri: str = Field(alias="imageUri", min_length=1, max_length=255)
    entry_point: Name = Field("train.py", alias="entryPoint")
    source_uri: S3Uri = Field(alias="sourceUri", description="s3 URI of sourcedir.tar.gz")
    output_uri: S3Uri = Field(alias="outputUri")
    training_data_uri: S3Uri = Field(alias="trainingDataUri", description="prefix for retraining sets")
    role_arn: RoleArn | None = Field(None, alias="roleArn")
    instance_type: str = Field("ml.m5.large", alias="instanceType", pattern=r"^ml\.[a-z0-9.\-]{1,60}$")
    instance_count: int = Field(1, alias="instanceCount", ge=1, le=20)
    volume_size_gb: int = Field(10, alias="volumeSizeGB", ge=1, le=16384)
    max_runtime_seconds: int = Field(3600, alias="maxRuntimeSeconds", ge=60, le=28 * 24 * 3600)
    hyperparameters: Annotated[dict[str, str], items(0, MAX_HYPERPARAMETERS)] = Field(default_factory=dict)
    #: automatic model tuning on retrain (docs/tuning.md); absent: one training job with ``hyperparameters``
    tuning: TuningConfig | None = None

    @field_validator("hyperparameters")
    @classmethod
    def _fits_create_training_job(cls, value: dict[str, str]) -> dict[str, str]:
        problems = []
        for key, v in value.items():
            if not 1 <= len(key) <= MAX_HYPERPARAMETER_KEY:
                problems.append(f"key {key[:40]!r}... must have 1 to {MAX_HYPERPARAMETER_KEY} characters")
            if key in RESERVED_HYPERPARAMETERS:
                problems.append(f"{key!r} is set by Driftline (script mode)")
            if len(json.dumps(v, allow_nan=False)) > MAX_HYPERPARAMETER_VALUE:
                problems.append(f"the value of {key[:40]!r} must be at most {MAX_HYPERPARAMETER_VALUE} characters "
                                "JSON-encoded")
        if problems:
            raise ValueError("; ".join(problems))
        return value


#: error metrics without an upper bound: their non-inferiority margin is relative to the champion's value
UNBOUNDED_METRICS = {"log_loss", "mse", "rmse", "mae", "mape"}


class Promotion(_Strict):
    """How a challenger (retrained or recalibrated) is judged against the champion on the same rows.

    The metrics that must improve are the breached ones (the primary ``metric`` when nothing breached, e.g. a
    drift-triggered retrain); every other thresholded metric must be non-inferior. See docs/decisions.md.
    """

    metric: str = Field("roc_auc", max_length=64)
    #: the challenger must beat the champion by at least this much (absolute, in the metric's direction)
    min_improvement: Real = Field(0.0, alias="minImprovement", ge=0, le=1e6)
    min_samples: int = Field(200, alias="minSamples", ge=1, le=10**9)
    require_approval: bool = Field(False, alias="requireApproval")
    #: family-wise significance level of the improvement tests (Holm across the breached metrics); the
    #: non-inferiority bounds are one-sided at ``1 - alpha``
    alpha: float = Field(0.05, gt=0, lt=1)
    #: how much worse than the champion another thresholded metric may get: absolute for metrics in [0, 1],
    #: a fraction of the champion's value for unbounded error metrics (log_loss, mse, rmse, mae, mape)
    non_inferiority_margin: float = Field(0.02, alias="nonInferiorityMargin", ge=0)
    #: per-metric overrides of ``nonInferiorityMargin``
    non_inferiority_margins: dict[str, Annotated[float, Field(ge=0)]] = Field(
        default_factory=dict, alias="nonInferiorityMargins")
    #: McNemar's one-sided p-value for accuracy: ``mid-p`` (less conservative) or ``exact``
    mcnemar: Literal["mid-p", "exact"] = "mid-p"
    bootstrap_resamples: int = Field(400, alias="bootstrapResamples", ge=100, le=10_000)
    #: binary classifiers: let a recalibrated decision threshold compete with the retrained challenger
    recalibration: bool = True

    @field_validator("metric")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in HIGHER_IS_BETTER | LOWER_IS_BETTER:
            raise ValueError(
                f"unknown promotion metric {v!r} (no threshold direction); expected one of "
                f"{sorted(HIGHER_IS_BETTER | LOWER_IS_BETTER)}"
            )
        return v

    @field_validator("non_inferiority_margins")
    @classmethod
    def _known_margins(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(v) - (HIGHER_IS_BETTER | LOWER_IS_BETTER))
        if unknown:
            raise ValueError(f"nonInferiorityMargins names unknown metrics {unknown}")
        return v

    def margin(self, metric: str) -> float:
        """The non-inferiority margin of ``metric`` (absolute; relative ones are applied by the caller)."""
        return float(self.non_inferiority_margins.get(metric, self.non_inferiority_margin))


class Deployment(_Strict):
    strategy: Literal["canary", "linear", "all_at_once"] = "canary"
    canary_percent: int = Field(10, alias="canaryPercent", ge=1, le=50)
    linear_step_percent: int = Field(25, alias="linearStepPercent", ge=5, le=50)
    wait_minutes: int = Field(10, alias="waitMinutes", ge=0, le=60)
    termination_wait_minutes: int = Field(5, alias="terminationWaitMinutes", ge=0, le=60)
    rollback_alarms: Annotated[list[Name], items(0, 10)] = Field(default_factory=list, alias="rollbackAlarms")
    instance_type: str = Field("ml.m5.large", alias="instanceType", pattern=r"^ml\.[a-z0-9.\-]{1,60}$")
    initial_instance_count: int = Field(1, alias="initialInstanceCount", ge=1, le=100)
    variant_name: str = Field("AllTraffic", alias="variantName", pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
    execution_role_arn: RoleArn | None = Field(None, alias="executionRoleArn")
    #: an operational breach within this many hours after a deployment rolls back to the previous version
    rollback_window_hours: Real = Field(24, alias="rollbackWindowHours", ge=0, le=24 * 31)


class Sharding(_Strict):
    """When to evaluate and check drift on shards (Step Functions Distributed Map) instead of in one Lambda.

    A run is sharded when the window's capture objects (sizes from ListObjectsV2) hold more than
    ``thresholdBytes`` bytes; ``null`` (the default) never shards. Each child workflow of the Map reads
    ``filesPerShard`` capture objects; at most ``maxConcurrency`` run at once.
    """

    threshold_bytes: int | None = Field(None, alias="thresholdBytes", ge=1, le=10**15)
    files_per_shard: int = Field(16, alias="filesPerShard", ge=1, le=10_000)


class ModelConfig(_Strict):
    model_id: str = Field(alias="modelId", pattern=MODEL_ID_PATTERN)
    problem_type: Literal["binary", "multiclass", "regression"] = Field(alias="problemType")
    endpoint_name: str = Field(alias="endpointName", pattern=r"^[A-Za-z0-9](-*[A-Za-z0-9]){0,62}$")
    data_capture: DataSource = Field(alias="dataCapture")
    ground_truth: DataSource = Field(alias="groundTruth")
    baseline_uri: S3Uri = Field(alias="baselineUri")
    features: Annotated[list[Feature], items(1, 1000)]
    #: class labels in the order of the model's score columns (classification); positive label last
    labels: Annotated[list[Name], items(0, 1000)] | None = None
    positive_label: Name | None = Field(None, alias="positiveLabel")
    #: score above which a binary prediction is positive (when the model outputs a probability)
    decision_threshold: Real = Field(0.5, alias="decisionThreshold", gt=0, lt=1)
    window_hours: int = Field(24, alias="windowHours", ge=1, le=24 * 31)
    thresholds: Annotated[list[Threshold], items(0, 50)] = Field(default_factory=list)
    drift: DriftThresholds = Field(default_factory=DriftThresholds)
    retrain_policy: RetrainPolicy = Field(default_factory=RetrainPolicy, alias="retrainPolicy")
    training: TrainingTemplate
    promotion: Promotion = Field(default_factory=Promotion)
    deployment: Deployment = Field(default_factory=Deployment)
    #: absent (``None``) for a model that never shards: the stored item stays as it was before sharding existed
    sharding: Sharding | None = None
    #: Model Monitor parity (docs/model-monitor.md); absent sections are not stored
    data_quality: DataQuality | None = Field(None, alias="dataQuality")
    operational: Annotated[list[OperationalThreshold], items(0, 20)] | None = None
    bias: BiasSection | None = None

    @model_validator(mode="after")
    def _monitor_sections(self) -> ModelConfig:
        problems = monitor_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _consistent(self) -> ModelConfig:
        problems = consistency_problems({
            "features": [{"name": f.name} for f in self.features], "problemType": self.problem_type,
            "thresholds": [{"metric": t.metric} for t in self.thresholds],
            "promotion": {"metric": self.promotion.metric}, "labels": self.labels, "positiveLabel": self.positive_label,
        })
        if problems:
            raise PydanticCustomError(
                "driftline_consistency", "{summary}",
                {"summary": "; ".join(f"{loc}: {msg}" for loc, msg in problems), "problems": problems},
            )
        if self.problem_type == "binary" and self.positive_label is None and self.labels:
            object.__setattr__(self, "positive_label", self.labels[1])
        return self

    def to_item(self) -> dict[str, Any]:
        """JSON-safe dict with the public (camelCase) field names."""
        item = self.model_dump(mode="json", by_alias=True)
        if self.sharding is None:
            del item["sharding"]
        for key in ("dataQuality", "operational", "bias"):
            if item.get(key) is None:
                del item[key]
        if item["training"].get("tuning") is None:
            del item["training"]["tuning"]
        return item

    def higher_is_better(self, metric: str) -> bool:
        return metric in HIGHER_IS_BETTER


def consistency_problems(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The cross-field problems of a config (``(field, message)`` pairs), read defensively from ``data``.

    Runs on the validated model and, when some fields are wrong, on the raw input too: the answer to a bad
    config names every wrong field at once, not the cross-field ones only after the others are fixed.
    """
    out: list[tuple[str, str]] = []
    features = data.get("features")
    if isinstance(features, list):
        names = [str(f["name"]) for f in features if isinstance(f, dict) and isinstance(f.get("name"), str)]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            out.append(("features", f"duplicate feature names: {dupes}"))
    problem_type = data.get("problemType")
    if problem_type not in ("binary", "multiclass", "regression"):
        return out
    allowed = REGRESSION_METRICS if problem_type == "regression" else CLASSIFICATION_METRICS
    thresholds = data.get("thresholds")
    for i, t in enumerate(thresholds if isinstance(thresholds, list) else []):
        metric = t.get("metric") if isinstance(t, dict) else None
        if isinstance(metric, str) and metric in HIGHER_IS_BETTER | LOWER_IS_BETTER and metric not in allowed:
            out.append((f"thresholds.{i}.metric", f"threshold metric {metric!r} does not apply to a {problem_type} "
                        f"model; expected one of {sorted(allowed)}"))
    promotion = data.get("promotion")
    metric = promotion.get("metric", "roc_auc") if isinstance(promotion, dict) else "roc_auc"
    if isinstance(metric, str) and metric in HIGHER_IS_BETTER | LOWER_IS_BETTER and metric not in allowed:
        out.append(("promotion.metric", f"promotion metric {metric!r} does not apply to a {problem_type} model"))
    if problem_type == "regression":
        return out
    labels = data.get("labels")
    if not isinstance(labels, list):
        if labels is None:
            out.append(("labels", "classification models need 'labels' (at least two class labels)"))
        return out
    if len(labels) < 2:
        out.append(("labels", "classification models need 'labels' (at least two class labels)"))
    elif len({repr(v) for v in labels}) != len(labels):
        out.append(("labels", f"duplicate class labels: {labels}"))
    elif problem_type == "binary":
        positive = data.get("positiveLabel")
        if len(labels) != 2:
            out.append(("labels", f"a binary model has exactly two labels, got {labels}"))
        elif positive is not None and positive not in labels:
            out.append(("positiveLabel", f"positiveLabel {positive!r} is not one of labels {labels}"))
    return out


def _format_errors(exc: ValidationError) -> list[str]:
    out: list[str] = []
    for err in exc.errors():
        ctx = err.get("ctx") or {}
        if err["type"] in ("driftline_consistency", "driftline_problems"):
            out.extend(f"{loc}: {msg}" for loc, msg in ctx["problems"])
            continue
        loc = ".".join(str(p) for p in err["loc"]) or "<root>"
        out.append(f"{loc}: {err['msg'].removeprefix('Value error, ')}")
    return out


def parse_config(data: Any, *, model_id: str | None = None, scope: StackScope | Literal["env"] | None = "env"
                 ) -> ModelConfig:
    """Validate ``data`` as a :class:`ModelConfig`; raise :class:`InvalidModelConfig` listing every problem.

    ``scope`` (default: the deployed stack's, from the environment; ``None``: no check) limits the S3 URIs to
    the stack's data buckets and the role ARNs to its account.
    """
    if not isinstance(data, dict):
        raise InvalidModelConfig(f"a model config must be a JSON object, got {type(data).__name__}")
    stack = StackScope.from_env() if scope == "env" else scope
    try:
        cfg = ModelConfig.model_validate(data, context={"scope": stack})
    except ValidationError as exc:
        problems = _format_errors(exc)
        if not any(e["type"] == "driftline_consistency" for e in exc.errors()):
            problems.extend(f"{loc}: {msg}" for loc, msg in consistency_problems(data))
        name = data.get("modelId", model_id or "<unknown>")
        if not isinstance(name, str) or len(name) > 80:
            name = "<invalid>"
        raise InvalidModelConfig(
            f"invalid config for model {name!r}: " + "; ".join(problems), problems=problems
        ) from None
    if model_id is not None and cfg.model_id != model_id:
        raise InvalidModelConfig(f"config modelId {cfg.model_id!r} does not match the model id {model_id!r}")
    return cfg


# ---- Model Monitor parity (docs/model-monitor.md)
class DataQuality(_Strict):
    """Data-quality constraints (Model Monitor's formats). Without URIs, the files ``build_baseline`` writes next
    to ``baselineUri`` (``statistics.json``, ``constraints.json``) are used."""

    statistics_uri: S3Uri | None = Field(None, alias="statisticsUri")
    constraints_uri: S3Uri | None = Field(None, alias="constraintsUri")
    #: publish Model Monitor's CloudWatch metrics (when the constraints' ``emit_metrics`` is Enabled too)
    emit_metrics: bool = Field(True, alias="emitMetrics")
    #: the CloudWatch namespace of those metrics (Model Monitor's, for a real-time endpoint, by default); under
    #: ``aws/sagemaker/`` or ``Driftline/`` (the drift checker's PutMetricData is scoped to those)
    namespace: str = Field("aws/sagemaker/Endpoints/data-metrics", max_length=255,
                           pattern=r"^(/?aws/sagemaker/|Driftline/)[A-Za-z0-9/_.#:-]+$")
    #: the ``MonitoringSchedule`` dimension the metrics carry (repoint a Model Monitor alarm by keeping it)
    schedule_name: str | None = Field(None, alias="scheduleName", min_length=1, max_length=63)


OPERATIONAL_METRICS = ("Invocations", "Invocation4XXErrors", "Invocation5XXErrors", "ModelLatency",
                       "OverheadLatency", "ErrorRate")
OperationalStat = Literal["Sum", "Average", "Minimum", "Maximum", "SampleCount", "p50", "p90", "p99"]


class OperationalThreshold(_Strict):
    """A bound on one of the endpoint's ``AWS/SageMaker`` metrics over the run's window (``ErrorRate``: the
    4XX + 5XX errors per invocation). Latencies are in microseconds, as SageMaker publishes them."""

    metric: Literal["Invocations", "Invocation4XXErrors", "Invocation5XXErrors", "ModelLatency",
                    "OverheadLatency", "ErrorRate"]
    stat: OperationalStat | None = None
    min: Real | None = None
    max: Real | None = None

    @model_validator(mode="after")
    def _bounded(self) -> OperationalThreshold:
        if self.min is None and self.max is None:
            raise ValueError(f"operational threshold on {self.metric!r} needs 'min' or 'max'")
        if self.metric == "ErrorRate" and self.stat is not None:
            raise ValueError("ErrorRate is a ratio of sums: it takes no 'stat'")
        return self

    @property
    def statistic(self) -> str:
        if self.stat is not None:
            return self.stat
        return "Average" if self.metric.endswith("Latency") else "Sum"


BIAS_METRICS = ("CI", "DPL", "KL", "JS", "LP", "TVD", "KS", "CDDL",
                "DPPL", "DI", "DCAcc", "DCR", "RD", "DAR", "DRR", "AD", "TE", "FT")


class BiasFacet(_Strict):
    """A facet: the feature and the values (categorical) or threshold (numeric, ``> threshold``) selecting the
    sensitive group (Clarify's ``facet`` with ``value_or_threshold``)."""

    name: str = Field(min_length=1, max_length=128)
    values: Annotated[list[Name], items(1, 100)] | None = None
    threshold: Real | None = None

    @model_validator(mode="after")
    def _one(self) -> BiasFacet:
        if (self.values is None) == (self.threshold is None):
            raise ValueError(f"facet {self.name!r} needs exactly one of 'values' or 'threshold'")
        return self


class BiasThreshold(_Strict):
    metric: Literal["CI", "DPL", "KL", "JS", "LP", "TVD", "KS", "CDDL",
                    "DPPL", "DI", "DCAcc", "DCR", "RD", "DAR", "DRR", "AD", "TE", "FT"]
    min: Real | None = None
    max: Real | None = None

    @model_validator(mode="after")
    def _bounded(self) -> BiasThreshold:
        if self.min is None and self.max is None:
            raise ValueError(f"bias threshold on {self.metric!r} needs 'min' or 'max'")
        return self


class BiasSection(_Strict):
    """Clarify's bias analysis per window (docs/model-monitor.md)."""

    facets: Annotated[list[BiasFacet], items(1, 20)]
    #: the positive outcome: label values (classification) or a threshold (``> threshold``, regression)
    label_values_or_threshold: Annotated[list[Name], items(1, 100)] | Real = Field(alias="labelValuesOrThreshold")
    #: the feature grouping rows for CDDL (Clarify's ``group_variable``)
    group_variable: str | None = Field(None, alias="groupVariable", min_length=1, max_length=128)
    thresholds: Annotated[list[BiasThreshold], items(0, 50)] = Field(default_factory=list)
    #: a BIAS signal may trigger a retrain (off by default: it alerts)
    retrain: bool = False
    #: publish the metrics as Clarify's bias drift monitor does (``bias_metric_<NAME>``)
    emit_metrics: bool = Field(True, alias="emitMetrics")
    namespace: str = Field("aws/sagemaker/Endpoints/bias-metrics", max_length=255,
                           pattern=r"^(/?aws/sagemaker/|Driftline/)[A-Za-z0-9/_.#:-]+$")
    #: the ``MonitoringSchedule`` dimension (default: the model id)
    schedule_name: str | None = Field(None, alias="scheduleName", min_length=1, max_length=63)


def monitor_problems(cfg: ModelConfig) -> list[str]:
    """Cross-field problems of the Model Monitor sections (each names its field)."""
    out: list[str] = []
    kinds = {f.name: f.type for f in cfg.features}
    if cfg.bias is not None:
        for i, facet in enumerate(cfg.bias.facets):
            if facet.name not in kinds:
                out.append(f"bias.facets.{i}.name: {facet.name!r} is not a feature of the model")
            elif facet.threshold is not None and kinds[facet.name] != "numeric":
                out.append(f"bias.facets.{i}.threshold: facet {facet.name!r} is categorical; give 'values'")
        if cfg.bias.group_variable is not None and cfg.bias.group_variable not in kinds:
            out.append(f"bias.groupVariable: {cfg.bias.group_variable!r} is not a feature of the model")
        lv = cfg.bias.label_values_or_threshold
        if cfg.problem_type == "regression" and isinstance(lv, list):
            out.append("bias.labelValuesOrThreshold: a regression model takes a numeric threshold")
        if cfg.problem_type != "regression" and not isinstance(lv, list):
            out.append("bias.labelValuesOrThreshold: a classification model takes a list of label values")
        if isinstance(lv, list) and cfg.labels and not set(lv) <= set(cfg.labels):
            out.append(f"bias.labelValuesOrThreshold: {sorted(set(lv) - set(cfg.labels))} are not labels of the model")
    return out


ModelConfig.model_rebuild()
