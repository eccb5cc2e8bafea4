"""SageMaker script-mode training entry point: ridge regression with numpy (closed form).

The same contract as ``examples/driftline_examples/classifier/train.py`` (see its docstring and the README's
"Champion/challenger contract for training scripts"):

- ``SM_CHANNEL_TRAIN``: CSV files, the numeric target first, no header; ``SM_CHANNEL_VALIDATION`` optional;
- ``SM_CHANNEL_EVALUATION`` (optional): header ``inference_id,<features>``, target withheld; the predictions
  go to ``SM_OUTPUT_DATA_DIR/evaluation_predictions.csv`` as ``inference_id,score``;
- ``SM_MODEL_DIR/model.json`` is the model; ``metrics.json`` and ``train:rmse=...;`` lines are the metrics;
- hyperparameters (lowest precedence first): defaults, ``hyperparameters.json``, ``SM_HPS``, command line;
  ``l2`` (>= 0, the ridge penalty on the standardised features; the intercept is not penalised) and
  ``categorical`` (comma-separated indices of features carried as integer codes, one-hot encoded);
- bad data or hyperparameters: the reason goes to the failure file and the exit status is 2 (1 otherwise).

Objective: ``sum_i (y_i - b - w . z_i)^2 + l2 ||w||^2`` with ``z`` the standardised (and one-hot) features,
i.e. scikit-learn's ``Ridge(alpha=l2)`` on ``StandardScaler`` output.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

MODEL_FILENAME = "model.json"
MODEL_FORMAT = "driftline-ridge/1"
EVALUATION_PREDICTIONS = "evaluation_predictions.csv"
DEFAULTS: dict[str, Any] = {"l2": 1.0, "categorical": ""}


class TrainingError(Exception):
    """Bad training data or hyperparameters: the job fails with this message as its reason."""


# ------------------------------------------------------------------------------------------ hyperparameters
def _merge(target: dict[str, Any], source: Mapping[str, Any], origin: str) -> None:
    for raw_key, value in source.items():
        key = str(raw_key).strip().lstrip("-").replace("-", "_").lower()
        if key.startswith("sagemaker_"):
            continue
        if key not in DEFAULTS:
            raise TrainingError(f"unknown hyperparameter {raw_key!r} in {origin}; expected one of {sorted(DEFAULTS)}")
        if isinstance(value, str):
            try:
                decoded = json.loads(value)
            except json.JSONDecodeError:
                decoded = value
            value = decoded if not isinstance(decoded, dict | list) else value
        target[key] = value


def resolve_hyperparameters(argv: Sequence[str], env: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Defaults, ``hyperparameters.json``, ``SM_HPS``, command line (later wins); returns them and path overrides."""
    hps: dict[str, Any] = dict(DEFAULTS)
    hp_file = Path(env.get("SM_INPUT_CONFIG_DIR", "/opt/ml/input/config")) / "hyperparameters.json"
    for origin, text in ((str(hp_file), hp_file.read_text(encoding="utf-8") if hp_file.is_file() else ""),
                         ("SM_HPS", env.get("SM_HPS", ""))):
        if not text:
            continue
        try:
            source = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TrainingError(f"{origin} is not valid JSON: {exc}") from None
        if not isinstance(source, dict):
            raise TrainingError(f"{origin} must hold a JSON object")
        _merge(hps, source, origin)
    parser = argparse.ArgumentParser(allow_abbrev=False)
    for name in DEFAULTS:
        parser.add_argument(f"--{name}", dest=name, default=None)
    paths = ("model_dir", "train", "validation", "evaluation", "output_data_dir")
    for name in paths:
        parser.add_argument(f"--{name}", f"--{name.replace('_', '-')}", dest=name, default=None)
    known, unknown = parser.parse_known_args(list(argv))
    if unknown:
        raise TrainingError(f"unknown command-line arguments {unknown}; expected --<hyperparameter> <value>")
    cli = {k: v for k, v in vars(known).items() if v is not None}
    overrides = {k: cli.pop(k) for k in paths if k in cli}
    _merge(hps, cli, "the command line")
    try:
        hps["l2"] = float(hps["l2"])
    except (TypeError, ValueError):
        raise TrainingError(f"hyperparameter 'l2' must be a number, got {hps['l2']!r}") from None
    if not (math.isfinite(hps["l2"]) and hps["l2"] >= 0):
        raise TrainingError(f"hyperparameter 'l2' must be a finite number >= 0, got {hps['l2']!r}")
    try:
        hps["categorical"] = sorted({int(p) for p in str(hps["categorical"]).replace(";", ",").split(",") if p.strip()})
    except ValueError:
        raise TrainingError(f"hyperparameter 'categorical' must be comma-separated indices, got "
                            f"{hps['categorical']!r}") from None
    if any(j < 0 for j in hps["categorical"]):
        raise TrainingError("hyperparameter 'categorical' has a negative index")
    return hps, overrides


# ------------------------------------------------------------------------------------------ data
def _files(directory: str | os.PathLike[str], channel: str) -> list[Path]:
    root = Path(directory)
    if not root.is_dir():
        raise TrainingError(f"channel {channel!r}: directory {root} does not exist")
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not files:
        raise TrainingError(f"channel {channel!r}: no files under {root}")
    return files


def read_channel(directory: str | os.PathLike[str], channel: str) -> tuple[np.ndarray, np.ndarray]:
    """Every CSV file of a channel: target first, no header. Errors name the file and line."""
    rows: list[list[float]] = []
    width = None
    for path in _files(directory, channel):
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                values = [float(c) for c in line.split(",")]
            except ValueError:
                raise TrainingError(f"channel {channel!r} file {path.name} line {lineno}: non-numeric value") from None
            if not all(math.isfinite(v) for v in values):
                raise TrainingError(f"channel {channel!r} file {path.name} line {lineno}: NaN or infinite value")
            if width is None:
                width = len(values)
            if len(values) != width or width < 2:
                raise TrainingError(f"channel {channel!r} file {path.name} line {lineno}: expected {width} "
                                    "columns (target first, then the features)")
            rows.append(values)
    if not rows:
        raise TrainingError(f"channel {channel!r} holds no rows")
    data = np.asarray(rows, dtype=np.float64)
    return data[:, 1:], data[:, 0]


def read_evaluation_channel(directory: str | os.PathLike[str], n_features: int) -> tuple[list[str], np.ndarray]:
    """Rows to predict for the champion/challenger comparison: header ``inference_id,<features>``."""
    ids: list[str] = []
    rows: list[list[float]] = []
    for path in _files(directory, "evaluation"):
        lines = path.read_text(encoding="utf-8").splitlines()
        if not lines:
            continue
        header = lines[0].split(",")
        if header[0] != "inference_id" or len(header) != n_features + 1:
            raise TrainingError(f"channel 'evaluation' file {path.name}: expected header inference_id + "
                                f"{n_features} features, got {lines[0][:80]!r}")
        for lineno, line in enumerate(lines[1:], start=2):
            if not line.strip():
                continue
            cells = line.split(",")
            try:
                values = [float(c) for c in cells[1:]]
            except ValueError:
                values = []
            if len(cells) != n_features + 1 or len(values) != n_features:
                raise TrainingError(f"channel 'evaluation' file {path.name} line {lineno}: malformed row")
            ids.append(cells[0])
            rows.append(values)
    if not rows:
        raise TrainingError("channel 'evaluation' holds no rows")
    return ids, np.asarray(rows, dtype=np.float64)


# ------------------------------------------------------------------------------------------ model
def _design(X: np.ndarray, prep: Mapping[str, Any]) -> np.ndarray:
    blocks = []
    if prep["numeric"]:
        blocks.append((X[:, prep["numeric"]] - np.asarray(prep["mean"])) / np.asarray(prep["scale"]))
    for index, codes in zip(prep["categorical"], prep["categories"], strict=True):
        blocks.append((X[:, [index]] == np.asarray(codes, dtype=np.float64)[None, :]).astype(np.float64))
    return np.hstack(blocks) if blocks else np.empty((X.shape[0], 0))


def fit(X: np.ndarray, y: np.ndarray, hps: Mapping[str, Any]) -> dict[str, Any]:
    """Closed-form ridge on standardised features; returns the model's JSON description."""
    n, k = X.shape
    categorical = list(hps["categorical"])
    if categorical and max(categorical) >= k:
        raise TrainingError(f"hyperparameter 'categorical' refers to feature {max(categorical)}, data has {k}")
    if n < 2:
        raise TrainingError(f"need at least 2 training rows, got {n}")
    numeric = [j for j in range(k) if j not in categorical]
    scale = X[:, numeric].std(axis=0)
    prep = {"numeric": numeric, "mean": X[:, numeric].mean(axis=0).tolist(),
            "scale": np.where(scale > 0, scale, 1.0).tolist(), "categorical": categorical,
            "categories": [sorted({float(v) for v in X[:, j]}) for j in categorical]}
    Z = _design(X, prep)
    z_mean, y_mean = Z.mean(axis=0), float(y.mean())
    Zc = Z - z_mean
    A = Zc.T @ Zc + float(hps["l2"]) * np.eye(Z.shape[1])
    w = np.linalg.lstsq(A, Zc.T @ (y - y_mean), rcond=None)[0]
    return {"format": MODEL_FORMAT, "n_features": k, "preprocessing": prep, "coef": w.tolist(),
            "intercept": y_mean - float(z_mean @ w), "hyperparameters": {"l2": float(hps["l2"]),
                                                                         "categorical": categorical},
            "training": {"rows": n, "target_mean": y_mean, "target_std": float(y.std())}}


def predict(model: Mapping[str, Any], X: np.ndarray) -> np.ndarray:
    """Predictions for rows of raw features."""
    Z = _design(np.asarray(X, dtype=np.float64), model["preprocessing"])
    return Z @ np.asarray(model["coef"]) + float(model["intercept"])


def evaluate(model: Mapping[str, Any], X: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """RMSE, MAE and R^2."""
    err = predict(model, X) - y
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    return {"rmse": float(np.sqrt(np.mean(err**2))), "mae": float(np.mean(np.abs(err))),
            "r2": 1.0 - float(np.sum(err**2)) / ss_tot if ss_tot > 0 else float("nan")}


# ------------------------------------------------------------------------------------------ entry point
def failure_path(env: Mapping[str, str]) -> Path:
    if env.get("SM_OUTPUT_FAILURE"):
        return Path(env["SM_OUTPUT_FAILURE"])
    if env.get("SM_OUTPUT_DIR"):
        return Path(env["SM_OUTPUT_DIR"]) / "failure"
    if env.get("SM_OUTPUT_DATA_DIR"):
        return Path(env["SM_OUTPUT_DATA_DIR"]).parent / "failure"
    return Path("/opt/ml/output/failure")


def run(argv: Sequence[str], env: Mapping[str, str]) -> dict[str, Any]:
    """Train from the channels described by ``env``; write the model, metrics and evaluation predictions."""
    hps, paths = resolve_hyperparameters(argv, env)
    train_dir = paths.get("train") or env.get("SM_CHANNEL_TRAIN") or env.get("SM_CHANNEL_TRAINING")
    if not train_dir:
        raise TrainingError("no training data: set SM_CHANNEL_TRAIN (channel 'train') or pass --train")
    X, y = read_channel(train_dir, "train")
    model = fit(X, y, hps)
    metrics = {"train": evaluate(model, X, y)}
    validation_dir = paths.get("validation") or env.get("SM_CHANNEL_VALIDATION")
    if validation_dir:
        Xv, yv = read_channel(validation_dir, "validation")
        if Xv.shape[1] != X.shape[1]:
            raise TrainingError(f"channel 'validation' has {Xv.shape[1]} features, channel 'train' has {X.shape[1]}")
        metrics["validation"] = evaluate(model, Xv, yv)
    for prefix, values in metrics.items():
        print(" ".join(f"{prefix}:{name}={value:.6f};" for name, value in values.items()), flush=True)
    model["metrics"] = metrics
    evaluation_dir = paths.get("evaluation") or env.get("SM_CHANNEL_EVALUATION")
    evaluation = read_evaluation_channel(evaluation_dir, X.shape[1]) if evaluation_dir else None
    model_dir = Path(paths.get("model_dir") or env.get("SM_MODEL_DIR", "/opt/ml/model"))
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / MODEL_FILENAME).write_text(json.dumps(model, indent=1), encoding="utf-8")
    output_dir = paths.get("output_data_dir") or env.get("SM_OUTPUT_DATA_DIR")
    if output_dir:
        Path(output_dir).mkdir(parents=True, exist_ok=True)
        (Path(output_dir) / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
        if evaluation is not None:
            ids, Xe = evaluation
            lines = ["inference_id,score"] + [f"{i},{p:.10g}" for i, p in zip(ids, predict(model, Xe), strict=True)]
            (Path(output_dir) / EVALUATION_PREDICTIONS).write_text("\n".join(lines) + "\n", encoding="utf-8")
    elif evaluation is not None:
        raise TrainingError("channel 'evaluation' given but SM_OUTPUT_DATA_DIR is not set")
    return model


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    argv = sys.argv[1:] if argv is None else argv
    try:
        run(argv, env)
    except TrainingError as exc:
        message, status = f"ClientError: {exc}", 2
    except Exception as exc:  # noqa: BLE001 - the SageMaker contract: every failure leaves a reason
        message, status = f"AlgorithmError: {type(exc).__name__}: {exc}", 1
    else:
        return 0
    print(f"ERROR: {message}", file=sys.stderr)
    path = failure_path(env)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(message + "\n", encoding="utf-8")
    except OSError as exc:
        print(f"could not write failure file {path}: {exc}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
