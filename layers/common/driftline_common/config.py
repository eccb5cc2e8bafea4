"""The model configuration: one item per model, validated on write (API) and on read (every run).

An invalid configuration fails the run at its first step with :class:`InvalidModelConfig`, whose
message lists every field that was wrong; nothing is half-run.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from driftline_common.errors import InvalidModelConfig

MODEL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{0,62}$"
S3_URI_PATTERN = r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?$"

S3Uri = Annotated[str, Field(pattern=S3_URI_PATTERN, description="s3://bucket/prefix")]

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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class DataSource(_Strict):
    """Where a kind of data lands, and how it is encoded."""

    s3_uri: S3Uri = Field(alias="s3Uri")
    format: Literal["sagemaker", "csv", "jsonl"] = "sagemaker"
    #: for ``csv``/``jsonl``: the column holding the join key, the label / prediction columns
    id_column: str = Field("inference_id", alias="idColumn")
    label_column: str = Field("label", alias="labelColumn")
    score_column: str = Field("score", alias="scoreColumn")
    time_column: str = Field("inference_time", alias="timeColumn")


class Feature(_Strict):
    name: str = Field(min_length=1, max_length=128)
    type: Literal["numeric", "categorical"] = "numeric"


class Threshold(_Strict):
    metric: str
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> Threshold:
        if self.min is None and self.max is None:
            raise ValueError(f"threshold on {self.metric!r} needs 'min' or 'max'")
        if self.metric not in HIGHER_IS_BETTER | LOWER_IS_BETTER:
            raise ValueError(
                f"unknown metric {self.metric!r}; expected one of {sorted(HIGHER_IS_BETTER | LOWER_IS_BETTER)}"
            )
        return self


class DriftThresholds(_Strict):
    #: family-wise significance level of the per-feature tests, after correction
    alpha: float = Field(0.01, gt=0, lt=1)
    correction: Literal["bonferroni", "benjamini-hochberg", "none"] = "benjamini-hochberg"
    #: a feature drifts only if its test rejects AND its effect size is at least this PSI (guards against
    #: tiny, statistically significant shifts on large samples)
    psi: float = Field(0.2, ge=0)
    #: effect-size floor for categorical features: L-infinity distance of the category proportions
    #: (SageMaker Model Monitor's default threshold is 0.1)
    linf: float = Field(0.1, ge=0, le=1)
    #: dataset-level drift when at least this share of features drifted
    dataset_share: float = Field(0.3, alias="datasetShare", gt=0, le=1)
    bins: int = Field(10, ge=2, le=100)


RetrainTrigger = Literal["performance", "drift"]
_ALL_TRIGGERS: tuple[RetrainTrigger, ...] = ("performance", "drift")


class RetrainPolicy(_Strict):
    consecutive_breaches: int = Field(3, alias="consecutiveBreaches", ge=1, le=30)
    min_samples: int = Field(500, alias="minSamples", ge=1)
    min_new_labels: int = Field(500, alias="minNewLabels", ge=0)
    cooldown_hours: float = Field(24, alias="cooldownHours", ge=0)
    max_retrains_per_period: int = Field(2, alias="maxRetrainsPerPeriod", ge=0)
    period_days: int = Field(7, alias="periodDays", ge=1)
    lock_ttl_minutes: int = Field(240, alias="lockTtlMinutes", ge=5, le=7 * 24 * 60)
    #: what may trigger a retrain: a performance breach, dataset drift, or both
    triggers: list[RetrainTrigger] = Field(default_factory=lambda: list(_ALL_TRIGGERS))
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


class TrainingTemplate(_Strict):
    """The parts of a SageMaker ``CreateTrainingJob`` request that do not change between retrains."""

    image_uri: str = Field(alias="imageUri", min_length=1)
    entry_point: str = Field("train.py", alias="entryPoint")
    source_uri: S3Uri = Field(alias="sourceUri", description="s3 URI of sourcedir.tar.gz")
    output_uri: S3Uri = Field(alias="outputUri")
    training_data_uri: S3Uri = Field(alias="trainingDataUri", description="prefix for retraining sets")
    role_arn: str | None = Field(None, alias="roleArn")
    instance_type: str = Field("ml.m5.large", alias="instanceType")
    instance_count: int = Field(1, alias="instanceCount", ge=1, le=20)
    volume_size_gb: int = Field(10, alias="volumeSizeGB", ge=1, le=16384)
    max_runtime_seconds: int = Field(3600, alias="maxRuntimeSeconds", ge=60, le=28 * 24 * 3600)
    hyperparameters: dict[str, str] = Field(default_factory=dict)


#: error metrics without an upper bound: their non-inferiority margin is relative to the champion's value
UNBOUNDED_METRICS = {"log_loss", "mse", "rmse", "mae", "mape"}


class Promotion(_Strict):
    """How a challenger (retrained or recalibrated) is judged against the champion on the same rows.

    The metrics that must improve are the breached ones (the primary ``metric`` when nothing breached, e.g. a
    drift-triggered retrain); every other thresholded metric must be non-inferior. See docs/decisions.md.
    """

    metric: str = "roc_auc"
    #: the challenger must beat the champion by at least this much (absolute, in the metric's direction)
    min_improvement: float = Field(0.0, alias="minImprovement", ge=0)
    min_samples: int = Field(200, alias="minSamples", ge=1)
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
    rollback_alarms: list[str] = Field(default_factory=list, alias="rollbackAlarms", max_length=10)
    instance_type: str = Field("ml.m5.large", alias="instanceType")
    initial_instance_count: int = Field(1, alias="initialInstanceCount", ge=1)
    variant_name: str = Field("AllTraffic", alias="variantName")
    execution_role_arn: str | None = Field(None, alias="executionRoleArn")


class Sharding(_Strict):
    """When to evaluate and check drift on shards (Step Functions Distributed Map) instead of in one Lambda.

    A run is sharded when the window's capture objects (sizes from ListObjectsV2) hold more than
    ``thresholdBytes`` bytes; ``null`` (the default) never shards. Each child workflow of the Map reads
    ``filesPerShard`` capture objects; at most ``maxConcurrency`` run at once.
    """

    threshold_bytes: int | None = Field(None, alias="thresholdBytes", ge=1)
    files_per_shard: int = Field(16, alias="filesPerShard", ge=1, le=10_000)


class ModelConfig(_Strict):
    model_id: str = Field(alias="modelId", pattern=MODEL_ID_PATTERN)
    problem_type: Literal["binary", "multiclass", "regression"] = Field(alias="problemType")
    endpoint_name: str = Field(alias="endpointName", pattern=r"^[A-Za-z0-9](-*[A-Za-z0-9]){0,62}$")
    data_capture: DataSource = Field(alias="dataCapture")
    ground_truth: DataSource = Field(alias="groundTruth")
    baseline_uri: S3Uri = Field(alias="baselineUri")
    features: list[Feature] = Field(min_length=1, max_length=1000)
    #: class labels in the order of the model's score columns (classification); positive label last
    labels: list[str] | None = None
    positive_label: str | None = Field(None, alias="positiveLabel")
    #: score above which a binary prediction is positive (when the model outputs a probability)
    decision_threshold: float = Field(0.5, alias="decisionThreshold", gt=0, lt=1)
    window_hours: int = Field(24, alias="windowHours", ge=1, le=24 * 31)
    thresholds: list[Threshold] = Field(default_factory=list)
    drift: DriftThresholds = Field(default_factory=DriftThresholds)
    retrain_policy: RetrainPolicy = Field(default_factory=RetrainPolicy, alias="retrainPolicy")
    training: TrainingTemplate
    promotion: Promotion = Field(default_factory=Promotion)
    deployment: Deployment = Field(default_factory=Deployment)
    #: absent (``None``) for a model that never shards: the stored item stays as it was before sharding existed
    sharding: Sharding | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ModelConfig:
        names = [f.name for f in self.features]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate feature names: {dupes}")
        allowed = REGRESSION_METRICS if self.problem_type == "regression" else CLASSIFICATION_METRICS
        for t in self.thresholds:
            if t.metric not in allowed:
                raise ValueError(
                    f"threshold metric {t.metric!r} does not apply to a {self.problem_type} model; "
                    f"expected one of {sorted(allowed)}"
                )
        if self.promotion.metric not in allowed:
            raise ValueError(
                f"promotion metric {self.promotion.metric!r} does not apply to a {self.problem_type} model"
            )
        if self.problem_type != "regression":
            if not self.labels or len(self.labels) < 2:
                raise ValueError("classification models need 'labels' (at least two class labels)")
            if len(set(self.labels)) != len(self.labels):
                raise ValueError(f"duplicate class labels: {self.labels}")
            if self.problem_type == "binary":
                if len(self.labels) != 2:
                    raise ValueError(f"a binary model has exactly two labels, got {self.labels}")
                if self.positive_label is None:
                    object.__setattr__(self, "positive_label", self.labels[1])
                elif self.positive_label not in self.labels:
                    raise ValueError(f"positiveLabel {self.positive_label!r} is not one of labels {self.labels}")
        return self

    def to_item(self) -> dict[str, Any]:
        """JSON-safe dict with the public (camelCase) field names."""
        item = self.model_dump(mode="json", by_alias=True)
        if self.sharding is None:
            del item["sharding"]
        return item

    def higher_is_better(self, metric: str) -> bool:
        return metric in HIGHER_IS_BETTER


def _format_errors(exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "<root>"
        out.append(f"{loc}: {err['msg']}")
    return out


def parse_config(data: Any, *, model_id: str | None = None) -> ModelConfig:
    """Validate ``data`` as a :class:`ModelConfig`; raise :class:`InvalidModelConfig` listing every problem."""
    if not isinstance(data, dict):
        raise InvalidModelConfig(f"a model config must be a JSON object, got {type(data).__name__}")
    try:
        cfg = ModelConfig.model_validate(data)
    except ValidationError as exc:
        problems = _format_errors(exc)
        name = data.get("modelId", model_id or "<unknown>")
        raise InvalidModelConfig(
            f"invalid config for model {name!r}: " + "; ".join(problems), problems=problems
        ) from None
    if model_id is not None and cfg.model_id != model_id:
        raise InvalidModelConfig(f"config modelId {cfg.model_id!r} does not match the model id {model_id!r}")
    return cfg

