"""``driftline init``: a commented starter config (YAML) for a binary, multiclass or regression model.

The file is the same document ``PUT /models/{modelId}`` takes (camelCase keys), written as YAML so that every
field can carry a comment; ``driftline validate`` / ``register`` read YAML or JSON.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

#: the SageMaker scikit-learn image the SageMaker Python SDK picks for script mode (any script-mode image works)
DEFAULT_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"

_THRESHOLDS = {
    "binary": [("roc_auc", "min", 0.8), ("accuracy", "min", 0.75)],
    "multiclass": [("accuracy", "min", 0.7), ("f1", "min", 0.65)],
    "regression": [("rmse", "max", 1.0), ("r2", "min", 0.5)],
}
_PROMOTION_METRIC = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "rmse"}


def parse_features(spec: str) -> list[tuple[str, str]]:
    """``"age,income,region:categorical"`` → ``[("age", "numeric"), ("income", "numeric"), ("region", ...)]``."""
    out = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        name, _, kind = part.partition(":")
        kind = kind or "numeric"
        if kind not in ("numeric", "categorical"):
            raise ValueError(f"feature {name!r}: type must be numeric or categorical, got {kind!r}")
        out.append((name, kind))
    if not out:
        raise ValueError("--features names no feature")
    return out


def _q(value: object) -> str:
    return json.dumps(value)  # a JSON scalar is a valid YAML scalar


def starter_config(*, problem_type: str, model_id: str, bucket: str, features: Sequence[tuple[str, str]],
                   labels: Sequence[str] = (), endpoint_name: str | None = None,
                   window_hours: int = 24, image_uri: str = DEFAULT_IMAGE, entry_point: str = "train.py") -> str:
    """The YAML text of a starter config; every value a user is likely to change has a comment."""
    if problem_type not in _THRESHOLDS:
        raise ValueError(f"problem type must be binary, multiclass or regression, got {problem_type!r}")
    endpoint = endpoint_name or f"driftline-{model_id}"
    lines = [
        f"# Driftline model config ({problem_type}); `driftline validate` checks it, `driftline register` PUTs it.",
        "# Every field: README.md \"The model configuration\" and docs/validation.md.",
        f"modelId: {_q(model_id)}                    # [A-Za-z0-9-]{{1,63}}",
        f"problemType: {_q(problem_type)}",
        f"endpointName: {_q(endpoint)}   # the SageMaker endpoint serving the model",
        "# SageMaker Data Capture of the endpoint (JSON Lines as SageMaker writes them); csv/jsonl also work",
        "dataCapture:",
        f"  s3Uri: {_q(f's3://{bucket}/datacapture/{endpoint}')}",
        "  format: sagemaker",
        "# ground truth in SageMaker's format, joined on inferenceId (falling back to eventId)",
        "groundTruth:",
        f"  s3Uri: {_q(f's3://{bucket}/ground-truth/{model_id}')}",
        "  format: sagemaker",
        "# written by `driftline baseline MODEL_ID --data <training CSV>`",
        f"baselineUri: {_q(f's3://{bucket}/baselines/{model_id}/baseline.json')}",
        "# in the order of the model's CSV input",
        "features:",
        *(f"  - {{name: {_q(n)}, type: {t}}}" for n, t in features),
    ]
    if problem_type == "binary":
        pair = list(labels) or ["0", "1"]
        lines += ["# class labels in the order of the model's score columns; the positive one last",
                  f"labels: {json.dumps(pair)}", f"positiveLabel: {_q(pair[-1])}",
                  "decisionThreshold: 0.5           # score above which a prediction is positive"]
    elif problem_type == "multiclass":
        lines += ["# class labels in the order of the model's score columns (one probability per class)",
                  f"labels: {json.dumps(list(labels) or ['a', 'b', 'c'])}"]
    lines += [
        f"windowHours: {window_hours}                   # each run evaluates this many hours of labelled traffic",
        "# a window breaches when a metric's confidence bound is on the wrong side of its threshold",
        "thresholds:",
        *(f"  - {{metric: {m}, {side}: {v}}}" for m, side, v in _THRESHOLDS[problem_type]),
        "drift:",
        "  alpha: 0.01                     # family-wise level of the per-feature tests",
        "  correction: benjamini-hochberg",
        "  psi: 0.2                        # effect-size floor (numeric features)",
        "  datasetShare: 0.3               # dataset drift when this share of features drifted",
        "  bins: 10",
        "# retrain only on a sustained, real breach (tune these with `driftline backtest --sweep`)",
        "retrainPolicy:",
        "  consecutiveBreaches: 2          # breached windows in a row before a retrain",
        "  minSamples: 500                 # labelled rows a window needs to count",
        "  minNewLabels: 500               # labels since the last training",
        "  cooldownHours: 48",
        "  maxRetrainsPerPeriod: 2",
        "  periodDays: 7",
        "  triggers: [performance, drift]",
        "  trainingWindowDays: 7           # days of labelled data a retrain trains on",
        "# the fixed part of SageMaker CreateTrainingJob (script mode; see the champion/challenger contract)",
        "training:",
        f"  imageUri: {_q(image_uri)}",
        f"  entryPoint: {_q(entry_point)}",
        f"  sourceUri: {_q(f's3://{bucket}/code/{model_id}/sourcedir.tar.gz')}",
        f"  outputUri: {_q(f's3://{bucket}/models/{model_id}')}",
        f"  trainingDataUri: {_q(f's3://{bucket}/training-data/{model_id}')}",
        "  instanceType: ml.m5.large",
        "  hyperparameters: {}             # string values, passed to the script",
        "# the challenger must beat the champion on the same rows",
        "promotion:",
        f"  metric: {_PROMOTION_METRIC[problem_type]}",
        "  minImprovement: 0.01",
        "  minSamples: 200",
        "  requireApproval: false          # true: a run waits for `driftline approve|reject`",
        "deployment:",
        "  strategy: canary                # canary | linear | all_at_once (with auto-rollback alarms)",
        "  canaryPercent: 10",
        "  waitMinutes: 10",
        "  variantName: AllTraffic",
    ]
    return "\n".join(lines) + "\n"
