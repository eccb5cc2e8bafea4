"""SageMaker inference-toolkit handlers for the example classifier (numpy and the standard library only).

The serving container calls, per request::

    model = model_fn(model_dir)                      # once, at start-up
    data = input_fn(request_body, request_content_type)
    prediction = predict_fn(data, model)
    body = output_fn(prediction, accept)

Requests: ``text/csv`` (one row of features per line, no label, no header) or ``application/json``
(``{"instances": [[...], ...]}`` or ``{"features": [...]}``). Responses: ``text/csv`` (one positive-class
probability per line) or ``application/json`` (``{"predictions": [{"score": p, "predicted_label": 0|1}]}``).
Bad input raises :class:`ValueError` with a message saying what was wrong and what was expected.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

MODEL_FILENAME = "model.json"
MODEL_FORMAT = "driftline-logreg/1"
CSV = "text/csv"
JSON = "application/json"
DEFAULT_ACCEPT = CSV


def model_fn(model_dir: str) -> dict[str, Any]:
    """Load ``model.json`` written by ``train.py`` from the extracted ``model.tar.gz``."""
    path = Path(model_dir) / MODEL_FILENAME
    if not path.is_file():
        raise ValueError(f"no {MODEL_FILENAME} in model directory {model_dir}")
    model = json.loads(path.read_text(encoding="utf-8"))
    if model.get("format") != MODEL_FORMAT:
        raise ValueError(f"{path} has format {model.get('format')!r}, expected {MODEL_FORMAT!r}")
    return model


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _to_matrix(rows: list[Any], source: str) -> np.ndarray:
    if not rows:
        raise ValueError(f"{source}: no rows to score")
    width = None
    out = []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, list | tuple):
            raise ValueError(f"{source}: row {number} is {type(row).__name__}, expected a list of numbers")
        values = []
        for cell in row:
            if isinstance(cell, bool) or not isinstance(cell, int | float | str):
                raise ValueError(f"{source}: row {number} has non-numeric value {cell!r}")
            try:
                value = float(cell)
            except ValueError:
                raise ValueError(f"{source}: row {number} has non-numeric value {cell!r}") from None
            if not math.isfinite(value):
                raise ValueError(f"{source}: row {number} has a NaN or infinite value")
            values.append(value)
        if width is None:
            width = len(values)
        elif len(values) != width:
            raise ValueError(f"{source}: row {number} has {len(values)} values, row 1 has {width}")
        out.append(values)
    return np.asarray(out, dtype=np.float64)


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
        try:
            request_body = request_body.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("request body is not UTF-8 text") from None
    media = _media_type(request_content_type)
    if media == CSV:
        plain = _plain_csv(request_body)
        if plain is not None:
            return plain
        rows = [row for row in csv.reader(io.StringIO(request_body)) if any(cell.strip() for cell in row)]
        return _to_matrix(rows, "text/csv request")
    if media == JSON:
        try:
            payload = json.loads(request_body)
        except json.JSONDecodeError as exc:
            raise ValueError(f"application/json request is not valid JSON: {exc}") from None
        if isinstance(payload, dict) and "instances" in payload:
            instances = payload["instances"]
            if not isinstance(instances, list):
                raise ValueError('"instances" must be a list of rows')
            rows = [row["features"] if isinstance(row, dict) and "features" in row else row for row in instances]
            return _to_matrix(rows, "application/json request")
        if isinstance(payload, dict) and "features" in payload:
            return _to_matrix([payload["features"]], "application/json request")
        raise ValueError('application/json request must be {"instances": [[...], ...]} or {"features": [...]}')
    raise ValueError(f"unsupported content type {request_content_type!r}; expected {CSV!r} or {JSON!r}")


def predict_fn(input_data: np.ndarray, model: Mapping[str, Any]) -> np.ndarray:
    """Positive-class probabilities, one per row."""
    X = np.asarray(input_data, dtype=np.float64)
    if X.ndim == 1:
        X = X[None, :]
    expected = int(model["n_features"])
    if X.ndim != 2 or X.shape[1] != expected:
        raise ValueError(f"expected rows of {expected} features, got shape {X.shape}")
    prep = model["preprocessing"]
    blocks = []
    if prep["numeric"]:
        blocks.append((X[:, prep["numeric"]] - np.asarray(prep["mean"])) / np.asarray(prep["scale"]))
    for index, codes in zip(prep["categorical"], prep["categories"], strict=True):
        blocks.append((X[:, [index]] == np.asarray(codes, dtype=np.float64)[None, :]).astype(np.float64))
    Z = np.hstack(blocks) if blocks else np.empty((X.shape[0], 0))
    t = Z @ np.asarray(model["coef"], dtype=np.float64) + float(model["intercept"])
    return np.exp(-np.logaddexp(0.0, -t))


def _choose_accept(accept: str | None) -> str:
    if not accept:
        return DEFAULT_ACCEPT
    for part in accept.split(","):
        media = _media_type(part)
        if media in (CSV, JSON):
            return media
        if media in ("*/*", "text/*"):
            return DEFAULT_ACCEPT if media == "*/*" else CSV
        if media == "application/*":
            return JSON
    raise ValueError(f"unsupported accept type {accept!r}; expected {CSV!r} or {JSON!r}")


def output_fn(prediction: np.ndarray, accept: str | None, *, threshold: float = 0.5) -> str:
    """Serialise probabilities as ``text/csv`` (one per line) or ``application/json``."""
    media = _choose_accept(accept)
    scores = [float(p) for p in np.asarray(prediction, dtype=np.float64).ravel()]
    if media == CSV:
        return "\n".join(repr(p) for p in scores) + "\n"
    return json.dumps(
        {"predictions": [{"score": p, "predicted_label": int(p >= threshold)} for p in scores]}
    )


def response_content_type(accept: str | None) -> str:
    """The content type :func:`output_fn` produces for ``accept``."""
    return _choose_accept(accept)
