"""SageMaker inference-toolkit handlers for the example softmax classifier (numpy and the standard library only).

``model_fn`` / ``input_fn`` / ``predict_fn`` / ``output_fn`` as the serving container calls them. Requests:
``text/csv`` (one row of features per line, no header) or ``application/json`` (``{"instances": [[...], ...]}``
or ``{"features": [...]}``). Responses: ``text/csv`` (one line per row: the per-class probabilities, comma
separated, in class-index order — what Driftline's evaluator reads as a multiclass model's scores) or
``application/json`` (``{"predictions": [{"probabilities": [...], "predicted_label": c}, ...]}``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

MODEL_FILENAME = "model.json"
MODEL_FORMAT = "driftline-softmax/1"
CSV = "text/csv"
JSON = "application/json"


def model_fn(model_dir: str) -> dict[str, Any]:
    """Load ``model.json`` written by ``train.py``."""
    path = Path(model_dir) / MODEL_FILENAME
    if not path.is_file():
        raise ValueError(f"no {MODEL_FILENAME} in model directory {model_dir}")
    model = json.loads(path.read_text(encoding="utf-8"))
    if model.get("format") != MODEL_FORMAT:
        raise ValueError(f"{path} has format {model.get('format')!r}, expected {MODEL_FORMAT!r}")
    return model


def _matrix(rows: list[Any], source: str) -> np.ndarray:
    if not rows:
        raise ValueError(f"{source}: no rows to score")
    try:
        X = np.asarray([[float(c) for c in row] for row in rows], dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{source}: every value must be a number, one row per line of equal length") from None
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{source}: NaN or infinite value")
    return X


def _plain_csv(body: str) -> np.ndarray | None:
    """Unquoted numeric CSV (what SageMaker clients send) parsed in one pass; None takes the checked path."""
    if '"' in body:
        return None
    lines = [line for line in body.splitlines() if line.strip()]
    width = lines[0].count(",") + 1 if lines else 0
    if not lines or any(line.count(",") + 1 != width for line in lines):
        return None
    try:
        X = np.fromiter(map(float, ",".join(lines).split(",")), dtype=np.float64).reshape(len(lines), width)
    except ValueError:
        return None
    return X if np.isfinite(X).all() else None


def input_fn(request_body: str | bytes, request_content_type: str) -> np.ndarray:
    """Parse a request into a 2-D float array of features."""
    if isinstance(request_body, bytes | bytearray):
        request_body = request_body.decode("utf-8")
    media = (request_content_type or "").split(";", 1)[0].strip().lower()
    if media == CSV:
        plain = _plain_csv(request_body)
        if plain is not None:
            return plain
        rows = [row for row in csv.reader(io.StringIO(request_body)) if any(c.strip() for c in row)]
        return _matrix(rows, "text/csv request")
    if media == JSON:
        try:
            payload = json.loads(request_body)
        except json.JSONDecodeError as exc:
            raise ValueError(f"application/json request is not valid JSON: {exc}") from None
        if isinstance(payload, dict) and isinstance(payload.get("instances"), list):
            return _matrix(payload["instances"], "application/json request")
        if isinstance(payload, dict) and isinstance(payload.get("features"), list):
            return _matrix([payload["features"]], "application/json request")
        raise ValueError('application/json request must be {"instances": [[...], ...]} or {"features": [...]}')
    raise ValueError(f"unsupported content type {request_content_type!r}; expected {CSV!r} or {JSON!r}")


def predict_fn(input_data: np.ndarray, model: Mapping[str, Any]) -> np.ndarray:
    """Per-class probabilities, one row per input row."""
    X = np.asarray(input_data, dtype=np.float64)
    if X.ndim == 1:
        X = X[None, :]
    if X.ndim != 2 or X.shape[1] != int(model["n_features"]):
        raise ValueError(f"expected rows of {model['n_features']} features, got shape {X.shape}")
    prep = model["preprocessing"]
    blocks = []
    if prep["numeric"]:
        blocks.append((X[:, prep["numeric"]] - np.asarray(prep["mean"])) / np.asarray(prep["scale"]))
    for index, codes in zip(prep["categorical"], prep["categories"], strict=True):
        blocks.append((X[:, [index]] == np.asarray(codes, dtype=np.float64)[None, :]).astype(np.float64))
    Z = np.hstack(blocks) if blocks else np.empty((X.shape[0], 0))
    t = Z @ np.asarray(model["coef"], dtype=np.float64) + np.asarray(model["intercept"], dtype=np.float64)
    t = t - t.max(axis=1, keepdims=True)
    e = np.exp(t)
    return e / e.sum(axis=1, keepdims=True)


def output_fn(prediction: np.ndarray, accept: str | None) -> str:
    """``text/csv`` (default, one line of probabilities per row) or ``application/json``."""
    media = (accept or CSV).split(";", 1)[0].strip().lower()
    P = np.atleast_2d(np.asarray(prediction, dtype=np.float64))
    if not np.all(np.isfinite(P)):
        raise ValueError("the model produced a NaN or infinite probability")
    if media in (CSV, "*/*", "text/*"):
        return "".join(",".join(repr(float(v)) for v in row) + "\n" for row in P)
    if media in (JSON, "application/*"):
        return json.dumps({"predictions": [{"probabilities": [float(v) for v in row],
                                            "predicted_label": int(np.argmax(row))} for row in P]})
    raise ValueError(f"unsupported accept type {accept!r}; expected {CSV!r} or {JSON!r}")
