"""The drift baseline: reference statistics of the training data, written as JSON to the config's ``baselineUri``.

Input: a training CSV either with a header row naming the features (other columns ignored) or without a header,
label first then the features in the config's order (SageMaker's built-in algorithm convention); a bare
feature table (no label, no header) is accepted too. Per feature:

- numeric: interior quantile bin edges (``drift.bins`` bins), the reference counts in those bins, a reference
  sample of at most :data:`SAMPLE_SIZE` values (seeded, for the KS test), count, mean, std, min, max and
  quantiles;
- categorical: the count of every category.

Rows that cannot be read (wrong cell count, a non-numeric value in a numeric feature, an empty category) are
counted per reason in ``badRecords``.

CLI::

    python -m drift_checker.baseline --config model.json --data s3://bucket/train/train.csv [--out baseline.json]
    python -m drift_checker.baseline --model-id my-model --data s3://bucket/train/   # config from the models table
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from driftline_common import data_quality as dq
from driftline_common import dq_summary
from driftline_common.config import ModelConfig, parse_config
from driftline_common.datasets import norm_label
from driftline_common.errors import DataFormatError
from driftline_common.numbers import dumps
from driftline_common.s3io import S3Uri, get_bytes, list_keys, put_json
from driftline_common.store import iso, utcnow
from driftline_metrics.drift import quantile_edges

SCHEMA = "driftline.baseline/v1"
SAMPLE_SIZE = 10_000
SAMPLE_SEED = 7
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


def bin_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts in the open-ended bins of interior ``edges`` (bin k holds ``edges[k-1] <= x < edges[k]``)."""
    cum = np.sort(values).searchsorted(edges, side="left")
    return np.diff(np.concatenate(([0], cum, [values.size])))


def _columns(cfg: ModelConfig, rows: list[list[str]]) -> tuple[list[int], int, str]:
    """Column index of every feature, the first data row and the layout name."""
    names = [f.name for f in cfg.features]
    first = [c.strip() for c in rows[0]] if rows else []
    if first and set(names) <= set(first):
        return [first.index(n) for n in names], 1, "header"
    width = len(first)
    if width == len(names) + 1:
        return list(range(1, len(names) + 1)), 0, "label_first"
    if width == len(names):
        return list(range(len(names))), 0, "features_only"
    raise DataFormatError(
        f"the training CSV has {width} columns; expected a header naming the features {names}, or "
        f"{len(names) + 1} columns (label first, no header), or {len(names)} (features only)",
        columns=width,
    )


def _per_feature(cfg: ModelConfig, cols: list[int], row: list[str], values: list[list[Any]], missing: list[int],
                 strings: list[list[str]]) -> None:
    """One training row, cell by cell: present values, missing (empty) cells, numeric cells that are not numbers."""
    for j, (feat, c) in enumerate(zip(cfg.features, cols, strict=True)):
        cell = row[c].strip()
        if not cell:
            missing[j] += 1
        elif feat.type != "numeric":
            values[j].append(norm_label(cell))
        else:
            try:
                v = float(cell)
            except ValueError:
                v = math.nan
            if math.isfinite(v):
                values[j].append(v)
            else:
                strings[j].append(cell)


def build_baseline(cfg: ModelConfig, texts: Iterable[str], *, source: str = "",
                   model_monitor: dict[str, Any] | None = None) -> dict[str, Any]:
    """The baseline document of training CSV text(s) (pure; no I/O). With ``model_monitor`` (a dict), Model
    Monitor's ``statistics`` and suggested ``constraints`` of the same rows are put in it."""
    rows: list[list[str]] = []
    for text in texts:
        part = [r for r in csv.reader(io.StringIO(text)) if r and any(c.strip() for c in r)]
        if rows and part and part[0] == rows[0]:  # a repeated header in a later file
            part = part[1:]
        rows.extend(part)
    if not rows:
        raise DataFormatError(f"the training data {source or ''} holds no rows", uri=source)
    cols, skip, layout = _columns(cfg, rows)
    width = len(rows[0])
    bad: Counter[str] = Counter()
    values: list[list[Any]] = [[] for _ in cfg.features]
    # Model Monitor's statistics are per feature: a row with one empty cell still counts for the others
    mm_values: list[list[Any]] = [[] for _ in cfg.features]
    mm_missing = [0] * len(cfg.features)
    mm_strings: list[list[str]] = [[] for _ in cfg.features]
    for row in rows[skip:]:
        if len(row) != width:
            bad["wrong_feature_count"] += 1
            continue
        if model_monitor is not None:
            _per_feature(cfg, cols, row, mm_values, mm_missing, mm_strings)
        parsed: list[Any] = []
        try:
            for feat, c in zip(cfg.features, cols, strict=True):
                cell = row[c].strip()
                if feat.type == "numeric":
                    v = float(cell)
                    if not math.isfinite(v):
                        raise ValueError(cell)
                    parsed.append(v)
                else:
                    if not cell:
                        raise ValueError(cell)
                    parsed.append(norm_label(cell))
        except ValueError:
            bad["non_numeric" if cell else "missing_field"] += 1
            continue
        for j, v in enumerate(parsed):
            values[j].append(v)
    n = len(values[0]) if values else 0
    if n == 0:
        raise DataFormatError(f"no readable row in the training data {source}: {dict(bad)}", uri=source)
    if model_monitor is not None:
        kinds = [(f.name, f.type) for f in cfg.features]
        mm_cols = {f.name: dq_summary.of_values(f.type, np.asarray(mm_values[j], dtype=np.float64 if f.type == "numeric"
                                                                  else str), missing=mm_missing[j],
                                                strings=mm_strings[j])
                   for j, f in enumerate(cfg.features)}
        model_monitor["statistics"] = dq.statistics_of(kinds, mm_cols)
        model_monitor["constraints"] = dq.suggest_constraints(model_monitor["statistics"])
    rng = np.random.default_rng(SAMPLE_SEED)
    features: dict[str, Any] = {}
    for feat, col in zip(cfg.features, values, strict=True):
        if feat.type == "numeric":
            x = np.asarray(col, dtype=np.float64)
            edges = quantile_edges(x, cfg.drift.bins)
            sample = x if x.size <= SAMPLE_SIZE else rng.choice(x, SAMPLE_SIZE, replace=False)
            features[feat.name] = {
                "type": "numeric",
                "count": int(x.size),
                "mean": float(x.mean()),
                "std": float(x.std(ddof=1)) if x.size > 1 else 0.0,
                "min": float(x.min()),
                "max": float(x.max()),
                "quantiles": {str(q): float(v) for q, v in zip(QUANTILES, np.quantile(x, QUANTILES), strict=True)},
                "edges": edges.tolist(),
                "counts": bin_counts(x, edges).tolist(),
                "sample": np.sort(sample).tolist(),
            }
        else:
            counts = Counter(col)
            features[feat.name] = {"type": "categorical", "count": len(col),
                                   "counts": dict(sorted(counts.items()))}
    return {
        "schema": SCHEMA,
        "modelId": cfg.model_id,
        "createdAt": iso(utcnow()),
        "source": source,
        "layout": layout,
        "sampleSize": n,
        "badRecords": dict(sorted(bad.items())),
        "bins": cfg.drift.bins,
        "features": features,
    }


def _read_texts(data_uri: str) -> list[str]:
    if not data_uri.startswith("s3://"):
        path = Path(data_uri)
        files = sorted(p for p in path.rglob("*.csv")) if path.is_dir() else [path]
        return [p.read_text(encoding="utf-8-sig") for p in files]
    loc = S3Uri.parse(data_uri)
    if loc.key and not loc.key.endswith("/"):
        try:
            return [get_bytes(loc).decode("utf-8-sig")]
        except FileNotFoundError:
            pass  # maybe a prefix without the trailing slash
        except UnicodeDecodeError:
            raise DataFormatError(f"{data_uri} is not UTF-8 text", uri=data_uri) from None
    keys = sorted(k for k, size in list_keys(loc) if size and k.endswith(".csv"))
    if not keys:
        raise DataFormatError(f"no training CSV at {data_uri}", uri=data_uri)
    try:
        return [get_bytes(S3Uri(loc.bucket, k)).decode("utf-8-sig") for k in keys]
    except UnicodeDecodeError:
        raise DataFormatError(f"a CSV under {data_uri} is not UTF-8 text", uri=data_uri) from None


def build_and_write(cfg: ModelConfig, data_uri: str, *, out_uri: str | None = None) -> dict[str, Any]:
    """Build the baseline from ``data_uri`` (S3 object, S3 prefix or local path) and write it; a summary."""
    mm: dict[str, Any] = {}
    doc = build_baseline(cfg, _read_texts(data_uri), source=data_uri, model_monitor=mm)
    target = out_uri or cfg.baseline_uri
    base = target.rsplit("/", 1)[0] if "/" in target else "."
    written = {}
    for name in ("statistics", "constraints"):  # Model Monitor's files, next to the baseline (docs/model-monitor.md)
        written[f"{name}Uri"] = f"{base}/{name}.json"
    if target.startswith("s3://"):
        put_json(target, doc)
        for name in ("statistics", "constraints"):
            put_json(written[f"{name}Uri"], mm[name])
    else:
        Path(target).write_text(dumps(doc))
        for name in ("statistics", "constraints"):
            Path(written[f"{name}Uri"]).write_text(dumps(mm[name]))
    return {"modelId": cfg.model_id, "baselineUri": target, "source": data_uri, "sampleSize": doc["sampleSize"],
            "badRecords": doc["badRecords"], "features": len(doc["features"]), "layout": doc["layout"], **written}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m drift_checker.baseline", description=__doc__.split("\n")[0])
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--config", help="model config JSON file")
    who.add_argument("--model-id", help="read the config from the models table (MODELS_TABLE etc. set)")
    parser.add_argument("--data", required=True, help="training CSV: s3://bucket/key, s3 prefix or local path")
    parser.add_argument("--out", help="where to write the baseline (default: the config's baselineUri)")
    args = parser.parse_args(argv)
    if args.config:
        cfg = parse_config(json.loads(Path(args.config).read_text()))
    else:
        from driftline_common.settings import get_settings
        from driftline_common.store import ModelStore

        cfg = ModelStore(get_settings()).get_config(args.model_id)
    summary = build_and_write(cfg, args.data, out_uri=args.out)
    sys.stdout.write(dumps(summary) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
