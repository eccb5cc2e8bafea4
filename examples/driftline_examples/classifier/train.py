"""SageMaker script-mode training entry point: L2-regularised logistic regression with numpy.

SageMaker runs this file as ``python train.py --<hyperparameter> <value> ...`` inside the container and
describes the job through ``SM_*`` environment variables (sagemaker-training-toolkit):

- ``SM_CHANNEL_TRAIN`` (required) and ``SM_CHANNEL_VALIDATION`` (optional): directories holding CSV files
  with the label in the first column and no header (SageMaker's built-in-algorithm CSV convention);
- ``SM_MODEL_DIR``: where ``model.json`` is written (SageMaker tars it into ``model.tar.gz``);
- ``SM_OUTPUT_DATA_DIR``: where ``metrics.json`` is written (``output.tar.gz``);
- ``SM_HPS``: the hyperparameters as a JSON object; ``SM_INPUT_CONFIG_DIR``: the directory holding
  ``hyperparameters.json`` (values are strings, as the CreateTrainingJob API requires);
- ``SM_CHANNEL_EVALUATION`` (optional, Driftline's champion/challenger contract): CSV files with a header
  ``inference_id,<feature>,...`` holding the freshly labelled rows held out from training (labels withheld);
  the script scores them and writes ``evaluation_predictions.csv`` (``inference_id,score``) into
  ``SM_OUTPUT_DATA_DIR``, which SageMaker uploads as ``output.tar.gz`` beside ``model.tar.gz``;
- ``SM_OUTPUT_FAILURE`` (Driftline extension) or ``SM_OUTPUT_DIR``: where the ``failure`` file goes.

Precedence of hyperparameters, lowest first: defaults, ``hyperparameters.json``, ``SM_HPS``, command line.
Metrics are printed as ``train:loss=0.4123;`` lines for the job's ``MetricDefinitions`` regexes.

On bad data or bad hyperparameters the script writes the reason to the failure file (SageMaker shows it as
the job's ``FailureReason``) and exits with status 2; any other error exits with status 1, also with a
failure file. Nothing here needs anything but numpy and the standard library.

Model objective, with ``z`` the standardised (and one-hot encoded) features::

    sum_i logloss(y_i, sigmoid(w . z_i + b)) + l2 / 2 * ||w||^2      (intercept not penalised)

i.e. scikit-learn's ``LogisticRegression(C=1 / l2)`` on ``StandardScaler`` output. The default solver is
Newton's method (IRLS); ``solver=gd`` uses plain gradient descent on the mean objective.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

MODEL_FILENAME = "model.json"
MODEL_FORMAT = "driftline-logreg/1"

DEFAULTS: dict[str, Any] = {
    "l2": 1.0,
    "solver": "newton",
    "max_iter": 100,
    "tol": 1e-8,
    "learning_rate": 0.5,
    "categorical": "",
    "threshold": 0.5,
}
_CASTS: dict[str, Any] = {
    "l2": float,
    "solver": str,
    "max_iter": int,
    "tol": float,
    "learning_rate": float,
    "categorical": str,
    "threshold": float,
}
#: Hyperparameters SageMaker's framework estimators add on their own; accepted and ignored.
_SAGEMAKER_RESERVED_PREFIX = "sagemaker_"


class TrainingError(Exception):
    """Bad training data or hyperparameters: the job fails with this message as its reason."""


# --------------------------------------------------------------------------------------------------------
# Hyperparameters
# --------------------------------------------------------------------------------------------------------
def _normalise_key(key: str) -> str:
    return key.strip().lstrip("-").replace("-", "_").lower()


def _coerce(name: str, value: Any) -> Any:
    cast = _CASTS[name]
    if isinstance(value, str):
        # hyperparameters.json and SM_HPS may carry JSON-encoded strings ('"newton"', '0.1').
        try:
            decoded = json.loads(value)
        except json.JSONDecodeError:
            decoded = value
        value = decoded if not isinstance(decoded, (dict, list)) else value
    try:
        if cast is int and isinstance(value, float | str):
            as_float = float(value)
            if not as_float.is_integer():
                raise ValueError(value)
            return int(as_float)
        return cast(value)
    except (TypeError, ValueError):
        raise TrainingError(
            f"hyperparameter {name!r} must be of type {cast.__name__}, got {value!r}"
        ) from None


def _merge(target: dict[str, Any], source: Mapping[str, Any], origin: str) -> None:
    for raw_key, value in source.items():
        key = _normalise_key(str(raw_key))
        if key.startswith(_SAGEMAKER_RESERVED_PREFIX):
            continue
        if key not in DEFAULTS:
            raise TrainingError(
                f"unknown hyperparameter {raw_key!r} in {origin}; expected one of {sorted(DEFAULTS)}"
            )
        target[key] = _coerce(key, value)


def _parse_cli(argv: Sequence[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    for name in DEFAULTS:
        parser.add_argument(f"--{name}", f"--{name.replace('_', '-')}", dest=name, default=None)
    # The toolkit also passes data locations; accept them so that `--model-dir` etc. override SM_*.
    parser.add_argument("--model-dir", "--model_dir", dest="model_dir", default=None)
    parser.add_argument("--train", dest="train", default=None)
    parser.add_argument("--validation", dest="validation", default=None)
    parser.add_argument("--evaluation", dest="evaluation", default=None)
    parser.add_argument("--output-data-dir", "--output_data_dir", dest="output_data_dir", default=None)
    known, unknown = parser.parse_known_args(list(argv))
    if unknown:
        raise TrainingError(f"unknown command-line arguments {unknown}; expected --<hyperparameter> <value>")
    return {key: value for key, value in vars(known).items() if value is not None}


def resolve_hyperparameters(argv: Sequence[str], env: Mapping[str, str]) -> tuple[dict[str, Any], dict]:
    """Merge defaults, ``hyperparameters.json``, ``SM_HPS`` and the command line (later wins).

    Returns the hyperparameters and the command-line path overrides (``model_dir``, ``train``, ...).
    """
    hps: dict[str, Any] = dict(DEFAULTS)
    config_dir = Path(env.get("SM_INPUT_CONFIG_DIR", "/opt/ml/input/config"))
    hp_file = config_dir / "hyperparameters.json"
    if hp_file.is_file():
        try:
            from_file = json.loads(hp_file.read_text(encoding="utf-8") or "{}")
        except json.JSONDecodeError as exc:
            raise TrainingError(f"{hp_file} is not valid JSON: {exc}") from None
        if not isinstance(from_file, dict):
            raise TrainingError(f"{hp_file} must hold a JSON object, got {type(from_file).__name__}")
        _merge(hps, from_file, str(hp_file))
    if env.get("SM_HPS"):
        try:
            from_env = json.loads(env["SM_HPS"])
        except json.JSONDecodeError as exc:
            raise TrainingError(f"SM_HPS is not valid JSON: {exc}") from None
        if not isinstance(from_env, dict):
            raise TrainingError(f"SM_HPS must hold a JSON object, got {type(from_env).__name__}")
        _merge(hps, from_env, "SM_HPS")
    cli = _parse_cli(argv)
    path_keys = ("model_dir", "train", "validation", "evaluation", "output_data_dir")
    paths = {key: cli.pop(key) for key in path_keys if key in cli}
    _merge(hps, cli, "the command line")
    _validate_hyperparameters(hps)
    return hps, paths


def _validate_hyperparameters(hps: dict[str, Any]) -> None:
    if not (math.isfinite(hps["l2"]) and hps["l2"] >= 0):
        raise TrainingError(f"hyperparameter 'l2' must be a finite number >= 0, got {hps['l2']!r}")
    if hps["solver"] not in ("newton", "gd"):
        raise TrainingError(f"hyperparameter 'solver' must be 'newton' or 'gd', got {hps['solver']!r}")
    if hps["max_iter"] < 1:
        raise TrainingError(f"hyperparameter 'max_iter' must be >= 1, got {hps['max_iter']!r}")
    if not (hps["tol"] > 0 and hps["learning_rate"] > 0):
        raise TrainingError("hyperparameters 'tol' and 'learning_rate' must be > 0")
    if not 0.0 < hps["threshold"] < 1.0:
        raise TrainingError(f"hyperparameter 'threshold' must be in (0, 1), got {hps['threshold']!r}")
    hps["categorical"] = _parse_categorical(hps["categorical"])


def _parse_categorical(value: Any) -> list[int]:
    if isinstance(value, list):
        items = value
    else:
        items = [part for part in str(value).replace(";", ",").split(",") if part.strip()]
    try:
        indices = sorted({int(str(item).strip()) for item in items})
    except ValueError:
        raise TrainingError(
            f"hyperparameter 'categorical' must be comma-separated feature indices, got {value!r}"
        ) from None
    if any(index < 0 for index in indices):
        raise TrainingError(f"hyperparameter 'categorical' has a negative index: {value!r}")
    return indices


# --------------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------------
def read_channel(directory: str | os.PathLike[str], channel: str) -> tuple[np.ndarray, np.ndarray]:
    """Read every CSV file under a channel directory: label first, no header.

    Hidden files (``.``-prefixed, e.g. SageMaker's manifest leftovers) are skipped. Raises
    :class:`TrainingError` naming the file and line of the first bad value.
    """
    root = Path(directory)
    if not root.is_dir():
        raise TrainingError(f"channel {channel!r}: directory {root} does not exist")
    files = sorted(
        path
        for path in root.rglob("*")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(root).parts)
    )
    if not files:
        raise TrainingError(f"channel {channel!r}: no files in {root}")
    rows: list[list[float]] = []
    width: int | None = None
    for path in files:
        with path.open(newline="", encoding="utf-8") as handle:
            for line_no, record in enumerate(csv.reader(handle), start=1):
                if not record or all(not cell.strip() for cell in record):
                    continue
                try:
                    values = [float(cell) for cell in record]
                except ValueError:
                    bad = next(cell for cell in record if not _is_float(cell))
                    raise TrainingError(
                        f"channel {channel!r}: non-numeric value {bad!r} in {path.name} line {line_no}; "
                        "expected numeric CSV with the label in the first column and no header"
                    ) from None
                if not all(math.isfinite(v) for v in values):
                    raise TrainingError(f"channel {channel!r}: NaN or infinite value in {path.name} line {line_no}")
                if width is None:
                    width = len(values)
                elif len(values) != width:
                    raise TrainingError(
                        f"channel {channel!r}: {path.name} line {line_no} has {len(values)} columns, "
                        f"expected {width}"
                    )
                rows.append(values)
    if not rows:
        raise TrainingError(f"channel {channel!r}: no data rows in {len(files)} file(s) under {root}")
    if width is not None and width < 2:
        raise TrainingError(f"channel {channel!r}: rows need a label and at least one feature, got {width} column")
    data = np.asarray(rows, dtype=np.float64)
    y = data[:, 0]
    if not np.isin(y, (0.0, 1.0)).all():
        bad_labels = sorted({float(v) for v in y[~np.isin(y, (0.0, 1.0))]})[:5]
        raise TrainingError(f"channel {channel!r}: labels must be 0 or 1, got {bad_labels}")
    return data[:, 1:], y.astype(np.int64)


def _is_float(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------------------------
def _design(X: np.ndarray, prep: Mapping[str, Any]) -> np.ndarray:
    """Standardise numeric columns and one-hot encode categorical ones (unseen codes -> all zeros)."""
    blocks = []
    numeric = prep["numeric"]
    if numeric:
        blocks.append((X[:, numeric] - np.asarray(prep["mean"])) / np.asarray(prep["scale"]))
    for index, codes in zip(prep["categorical"], prep["categories"], strict=True):
        blocks.append((X[:, [index]] == np.asarray(codes, dtype=np.float64)[None, :]).astype(np.float64))
    return np.hstack(blocks) if blocks else np.empty((X.shape[0], 0))


def _sigmoid(t: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -t))


def _objective(Z: np.ndarray, y: np.ndarray, w: np.ndarray, b: float, l2: float) -> float:
    t = Z @ w + b
    # log(1 + e^t) - y t  is the log loss of sigmoid(t) for y in {0, 1}
    return float(np.sum(np.logaddexp(0.0, t) - y * t) + 0.5 * l2 * float(w @ w))


def fit(X: np.ndarray, y: np.ndarray, hps: Mapping[str, Any]) -> dict[str, Any]:
    """Fit the model; returns its JSON-serialisable description."""
    n, k = X.shape
    categorical = list(hps["categorical"])
    if categorical and max(categorical) >= k:
        raise TrainingError(f"hyperparameter 'categorical' refers to feature {max(categorical)}, data has {k}")
    if np.unique(y).size < 2:
        raise TrainingError(f"training labels have a single class ({int(y[0])}); need both 0 and 1")
    numeric = [j for j in range(k) if j not in categorical]
    mean = X[:, numeric].mean(axis=0)
    scale = X[:, numeric].std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)  # constant columns: centred to 0, left unscaled
    prep = {
        "numeric": numeric,
        "mean": mean.tolist(),
        "scale": scale.tolist(),
        "categorical": categorical,
        "categories": [sorted({float(v) for v in X[:, j]}) for j in categorical],
    }
    Z = _design(X, prep)
    yf = y.astype(np.float64)
    l2 = float(hps["l2"])
    w = np.zeros(Z.shape[1])
    b = float(np.log(yf.mean() / (1.0 - yf.mean())))
    previous = _objective(Z, yf, w, b, l2)
    iterations = 0
    converged = False
    for iteration in range(1, int(hps["max_iter"]) + 1):
        iterations = iteration
        p = _sigmoid(Z @ w + b)
        grad_w = Z.T @ (p - yf) + l2 * w
        grad_b = float(np.sum(p - yf))
        if hps["solver"] == "newton":
            s = p * (1.0 - p)
            A = np.empty((Z.shape[1] + 1, Z.shape[1] + 1))
            A[:-1, :-1] = (Z * s[:, None]).T @ Z + l2 * np.eye(Z.shape[1])
            A[:-1, -1] = A[-1, :-1] = Z.T @ s
            A[-1, -1] = s.sum()
            step = np.linalg.lstsq(A, np.append(grad_w, grad_b), rcond=None)[0]
            # damped Newton: halve the step until the objective does not increase
            t = 1.0
            while True:
                w_new, b_new = w - t * step[:-1], b - t * step[-1]
                current = _objective(Z, yf, w_new, b_new, l2)
                if current <= previous or t < 1e-8:
                    break
                t *= 0.5
        else:
            lr = float(hps["learning_rate"])
            w_new, b_new = w - lr * grad_w / n, b - lr * grad_b / n
            current = _objective(Z, yf, w_new, b_new, l2)
        w, b = w_new, float(b_new)
        if abs(previous - current) <= float(hps["tol"]) * max(1.0, abs(previous)):
            previous = current
            converged = True
            break
        previous = current
    return {
        "format": MODEL_FORMAT,
        "n_features": k,
        "preprocessing": prep,
        "coef": w.tolist(),
        "intercept": b,
        "threshold": float(hps["threshold"]),
        "hyperparameters": {key: hps[key] for key in DEFAULTS},
        "training": {"rows": n, "iterations": iterations, "converged": converged,
                     "positive_rate": float(yf.mean())},
    }


def predict_proba(model: Mapping[str, Any], X: np.ndarray) -> np.ndarray:
    """Positive-class probabilities of ``X`` (rows of raw features)."""
    Z = _design(np.asarray(X, dtype=np.float64), model["preprocessing"])
    return _sigmoid(Z @ np.asarray(model["coef"]) + float(model["intercept"]))


def evaluate(model: Mapping[str, Any], X: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Mean log loss, accuracy and ROC AUC (Mann-Whitney, ties counted half)."""
    p = np.clip(predict_proba(model, X), 1e-15, 1 - 1e-15)
    loss = float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))
    accuracy = float(np.mean((p >= model["threshold"]).astype(np.int64) == y))
    pos, neg = int(y.sum()), int(y.size - y.sum())
    auc = float("nan")
    if pos and neg:
        order = np.argsort(p, kind="mergesort")
        ranks = np.empty(p.size)
        sorted_p = p[order]
        # average ranks over ties
        _, first, counts = np.unique(sorted_p, return_index=True, return_counts=True)
        avg = first + (counts + 1) / 2.0
        ranks[order] = np.repeat(avg, counts)
        auc = float((ranks[y == 1].sum() - pos * (pos + 1) / 2.0) / (pos * neg))
    return {"loss": loss, "accuracy": accuracy, "auc": auc}


# --------------------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------------------
def failure_path(env: Mapping[str, str]) -> Path:
    """Where SageMaker looks for the failure reason."""
    if env.get("SM_OUTPUT_FAILURE"):
        return Path(env["SM_OUTPUT_FAILURE"])
    if env.get("SM_OUTPUT_DIR"):
        return Path(env["SM_OUTPUT_DIR"]) / "failure"
    if env.get("SM_OUTPUT_DATA_DIR"):
        return Path(env["SM_OUTPUT_DATA_DIR"]).parent / "failure"
    return Path("/opt/ml/output/failure")


def _write_failure(env: Mapping[str, str], message: str) -> None:
    print(f"ERROR: {message}", file=sys.stderr)
    path = failure_path(env)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(message + "\n", encoding="utf-8")
    except OSError as exc:  # the reason is on stderr anyway
        print(f"could not write failure file {path}: {exc}", file=sys.stderr)


def _print_metrics(prefix: str, metrics: Mapping[str, float]) -> None:
    print(" ".join(f"{prefix}:{name}={value:.6f};" for name, value in metrics.items()), flush=True)


def run(argv: Sequence[str], env: Mapping[str, str]) -> dict[str, Any]:
    """Train from the channels described by ``env`` and write the model; returns the model."""
    hps, paths = resolve_hyperparameters(argv, env)
    train_dir = paths.get("train") or env.get("SM_CHANNEL_TRAIN") or env.get("SM_CHANNEL_TRAINING")
    if not train_dir:
        raise TrainingError("no training data: set SM_CHANNEL_TRAIN (channel 'train') or pass --train")
    model_dir = Path(paths.get("model_dir") or env.get("SM_MODEL_DIR", "/opt/ml/model"))
    X, y = read_channel(train_dir, "train")
    model = fit(X, y, hps)
    metrics = {"train": evaluate(model, X, y)}
    _print_metrics("train", metrics["train"])
    validation_dir = paths.get("validation") or env.get("SM_CHANNEL_VALIDATION")
    if validation_dir:
        Xv, yv = read_channel(validation_dir, "validation")
        if Xv.shape[1] != X.shape[1]:
            raise TrainingError(
                f"channel 'validation' has {Xv.shape[1]} features, channel 'train' has {X.shape[1]}"
            )
        metrics["validation"] = evaluate(model, Xv, yv)
        _print_metrics("validation", metrics["validation"])
    model["metrics"] = metrics
    evaluation_dir = paths.get("evaluation") or env.get("SM_CHANNEL_EVALUATION")
    evaluation_rows = read_evaluation_channel(evaluation_dir, X.shape[1]) if evaluation_dir else None
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / MODEL_FILENAME).write_text(json.dumps(model, indent=1), encoding="utf-8")
    output_data_dir = paths.get("output_data_dir") or env.get("SM_OUTPUT_DATA_DIR")
    if output_data_dir:
        Path(output_data_dir).mkdir(parents=True, exist_ok=True)
        (Path(output_data_dir) / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
        if evaluation_rows is not None:
            ids, Xe = evaluation_rows
            scores = predict_proba(model, Xe)
            lines = ["inference_id,score"] + [f"{i},{p:.10g}" for i, p in zip(ids, scores, strict=True)]
            (Path(output_data_dir) / EVALUATION_PREDICTIONS).write_text("\n".join(lines) + "\n", encoding="utf-8")
    elif evaluation_rows is not None:
        raise TrainingError("channel 'evaluation' given but SM_OUTPUT_DATA_DIR is not set")
    return model


EVALUATION_PREDICTIONS = "evaluation_predictions.csv"


def read_evaluation_channel(directory: str | os.PathLike[str], n_features: int) -> tuple[list[str], np.ndarray]:
    """Rows to score for the champion/challenger comparison: header ``inference_id,f0,...``, no label."""
    files = sorted(p for p in Path(directory).rglob("*") if p.is_file() and not p.name.startswith("."))
    ids: list[str] = []
    rows: list[list[float]] = []
    for path in files:
        lines = path.read_text(encoding="utf-8").splitlines()
        if not lines:
            continue
        header = lines[0].split(",")
        if header[0] != "inference_id" or len(header) != n_features + 1:
            raise TrainingError(
                f"channel 'evaluation' file {path.name}: expected header inference_id + {n_features} features, "
                f"got {lines[0][:80]!r}"
            )
        for lineno, line in enumerate(lines[1:], start=2):
            if not line.strip():
                continue
            cells = line.split(",")
            if len(cells) != n_features + 1 or not all(_is_float(c) for c in cells[1:]):
                raise TrainingError(f"channel 'evaluation' file {path.name} line {lineno}: malformed row")
            ids.append(cells[0])
            rows.append([float(c) for c in cells[1:]])
    if not rows:
        raise TrainingError("channel 'evaluation' holds no rows")
    return ids, np.asarray(rows, dtype=np.float64)


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Script entry point; returns the process exit status."""
    env = os.environ if env is None else env
    argv = sys.argv[1:] if argv is None else argv
    try:
        run(argv, env)
    except TrainingError as exc:
        _write_failure(env, f"ClientError: {exc}")
        return 2
    except Exception as exc:  # noqa: BLE001 - the SageMaker contract: every failure leaves a reason
        _write_failure(env, f"AlgorithmError: {type(exc).__name__}: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
