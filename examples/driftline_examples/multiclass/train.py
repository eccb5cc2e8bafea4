"""SageMaker script-mode training entry point: multinomial (softmax) logistic regression with numpy.

The same contract as ``examples/driftline_examples/classifier/train.py`` (see its docstring and the README's
"Champion/challenger contract for training scripts"), for ``k >= 2`` classes:

- ``SM_CHANNEL_TRAIN``: CSV files, the class index (``0 .. k-1``) first, no header; ``SM_CHANNEL_VALIDATION``
  optional;
- ``SM_CHANNEL_EVALUATION`` (optional): header ``inference_id,<features>``, label withheld; the per-class
  probabilities go to ``SM_OUTPUT_DATA_DIR/evaluation_predictions.csv`` as ``inference_id,score_0,...,score_{k-1}``
  (the columns in the order of the model config's ``labels``);
- ``SM_MODEL_DIR/model.json`` is the model; ``metrics.json`` and ``train:accuracy=...;`` lines are the metrics;
- hyperparameters (lowest precedence first): defaults, ``hyperparameters.json``, ``SM_HPS``, command line;
  ``l2`` (>= 0, the penalty on the weights of the standardised features; intercepts are not penalised),
  ``classes`` (the number of classes; default: the largest class index seen + 1) and ``categorical``
  (comma-separated indices of features carried as integer codes, one-hot encoded);
- bad data or hyperparameters: the reason goes to the failure file and the exit status is 2 (1 otherwise).

Objective: ``sum_i -log softmax(W z_i + b)[y_i] + l2 / 2 ||W||^2``, i.e. scikit-learn's
``LogisticRegression(C=1 / l2)`` (multinomial) on ``StandardScaler`` output, solved by damped Newton steps.
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
MODEL_FORMAT = "driftline-softmax/1"
EVALUATION_PREDICTIONS = "evaluation_predictions.csv"
DEFAULTS: dict[str, Any] = {"l2": 1.0, "categorical": "", "classes": 0, "max_iter": 50}


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
    for name in ("classes", "max_iter"):
        try:
            hps[name] = int(hps[name])
        except (TypeError, ValueError):
            raise TrainingError(f"hyperparameter {name!r} must be an integer, got {hps[name]!r}") from None
    if hps["classes"] == 1 or hps["classes"] < 0 or hps["max_iter"] < 1:
        raise TrainingError("hyperparameter 'classes' must be 0 (infer) or >= 2, and 'max_iter' >= 1")
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
    """Every CSV file of a channel: class index first, no header. Errors name the file and line."""
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
                                    "columns (class index first, then the features)")
            rows.append(values)
    if not rows:
        raise TrainingError(f"channel {channel!r} holds no rows")
    data = np.asarray(rows, dtype=np.float64)
    return data[:, 1:], data[:, 0]


def read_evaluation_channel(directory: str | os.PathLike[str], n_features: int) -> tuple[list[str], np.ndarray]:
    """Rows to score for the champion/challenger comparison: header ``inference_id,<features>``."""
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


def _softmax(t: np.ndarray) -> np.ndarray:
    t = t - t.max(axis=1, keepdims=True)
    e = np.exp(t)
    return e / e.sum(axis=1, keepdims=True)


def _objective(Z1: np.ndarray, Y: np.ndarray, theta: np.ndarray, l2: float) -> float:
    t = Z1 @ theta
    t = t - t.max(axis=1, keepdims=True)
    log_p = t - np.log(np.exp(t).sum(axis=1, keepdims=True))
    return float(-(Y * log_p).sum() + 0.5 * l2 * float((theta[:-1] ** 2).sum()))


def fit(X: np.ndarray, y: np.ndarray, hps: Mapping[str, Any]) -> dict[str, Any]:
    """Damped Newton on the penalised multinomial log loss; returns the model's JSON description."""
    n, k = X.shape
    categorical = list(hps["categorical"])
    if categorical and max(categorical) >= k:
        raise TrainingError(f"hyperparameter 'categorical' refers to feature {max(categorical)}, data has {k}")
    if np.any(y < 0) or np.any(y != np.round(y)):
        raise TrainingError("labels must be class indices 0, 1, ...")
    labels = y.astype(np.int64)
    classes = int(hps["classes"]) or int(labels.max()) + 1
    if classes < 2 or labels.max() >= classes:
        raise TrainingError(f"need labels in 0 .. {classes - 1} and at least 2 classes, got max {labels.max()}")
    numeric = [j for j in range(k) if j not in categorical]
    scale = X[:, numeric].std(axis=0)
    prep = {"numeric": numeric, "mean": X[:, numeric].mean(axis=0).tolist(),
            "scale": np.where(scale > 0, scale, 1.0).tolist(), "categorical": categorical,
            "categories": [sorted({float(v) for v in X[:, j]}) for j in categorical]}
    Z1 = np.hstack([_design(X, prep), np.ones((n, 1))])
    p = Z1.shape[1]
    Y = np.eye(classes)[labels]
    l2 = float(hps["l2"])
    penalty = np.kron(np.eye(classes), np.diag([l2] * (p - 1) + [0.0]))
    theta = np.zeros((p, classes))
    previous = _objective(Z1, Y, theta, l2)
    iterations = 0
    for iterations in range(1, int(hps["max_iter"]) + 1):  # noqa: B007 - reported below
        P = _softmax(Z1 @ theta)
        grad = Z1.T @ (P - Y) + np.vstack([l2 * theta[:-1], np.zeros((1, classes))])
        H = np.empty((p * classes, p * classes))
        for a in range(classes):
            for b in range(classes):
                w = P[:, a] * ((a == b) - P[:, b])
                H[a * p:(a + 1) * p, b * p:(b + 1) * p] = (Z1 * w[:, None]).T @ Z1
        step = np.linalg.lstsq(H + penalty, grad.T.ravel(), rcond=None)[0].reshape(classes, p).T
        t = 1.0
        while True:
            candidate = theta - t * step
            current = _objective(Z1, Y, candidate, l2)
            if current <= previous or t < 1e-8:
                break
            t *= 0.5
        theta = candidate
        done = abs(previous - current) <= 1e-10 * max(1.0, abs(previous))
        previous = current
        if done:
            break
    return {"format": MODEL_FORMAT, "n_features": k, "classes": classes, "preprocessing": prep,
            "coef": theta[:-1].tolist(), "intercept": theta[-1].tolist(),
            "hyperparameters": {"l2": l2, "categorical": categorical, "max_iter": int(hps["max_iter"])},
            "training": {"rows": n, "iterations": iterations,
                         "class_counts": np.bincount(labels, minlength=classes).tolist()}}


def predict_proba(model: Mapping[str, Any], X: np.ndarray) -> np.ndarray:
    """Per-class probabilities ``(n, classes)`` for rows of raw features."""
    Z = _design(np.asarray(X, dtype=np.float64), model["preprocessing"])
    return _softmax(Z @ np.asarray(model["coef"]) + np.asarray(model["intercept"]))


def evaluate(model: Mapping[str, Any], X: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Mean log loss and accuracy."""
    P = np.clip(predict_proba(model, X), 1e-15, 1.0)
    labels = y.astype(np.int64)
    inside = labels < P.shape[1]
    loss = float(-np.mean(np.log(P[np.flatnonzero(inside), labels[inside]]))) if inside.any() else float("nan")
    return {"loss": loss, "accuracy": float(np.mean(np.argmax(P, axis=1) == labels))}


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
            P = predict_proba(model, Xe)
            header = ",".join(f"score_{c}" for c in range(P.shape[1]))
            lines = [f"inference_id,{header}"] + [f"{i}," + ",".join(f"{v:.10g}" for v in row)
                                                  for i, row in zip(ids, P, strict=True)]
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
