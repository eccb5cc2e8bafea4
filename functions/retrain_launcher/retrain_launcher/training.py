"""The SageMaker ``CreateTrainingJob`` request and the CSV channels it reads. Pure: no AWS calls.

The request follows SageMaker script mode exactly as the SageMaker Python SDK's framework estimators
send it: the training image of the config, ``sagemaker_program`` (the entry point) and
``sagemaker_submit_directory`` (the ``sourcedir.tar.gz``) among the hyperparameters, and every
hyperparameter value JSON-encoded (``Framework._json_encode_hyperparameters``), which the SageMaker
training toolkit decodes before passing them to the script as ``--name value``.

Channels (``text/csv``, ``File`` mode):

* ``train``: labelled rows of the previous ``trainingWindowDays`` of windows, the current one excluded;
  the label first, then the features in config order, no header (SageMaker's built-in convention).
* ``evaluation``: the current window's rows, held out, with a header ``inference_id,<features...>``; the
  training script writes the challenger's predictions on them (``evaluation_predictions.csv``) so that the
  challenger and the champion are compared on the same rows.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from driftline_common.config import ModelConfig
from driftline_common.errors import DataFormatError

#: columns of the evaluator's labelled dataset CSV before the features
ID_COLUMN = "inference_id"
LABEL_COLUMN = "label"
CONTENT_TYPE = "text/csv"
MAX_JOB_NAME = 63


def _slug(value: str, limit: int) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", value).strip("-")
    return slug[:limit].rstrip("-")


def training_job_name(model_id: str, run_id: str) -> str:
    """A training job name unique to ``(model_id, run_id)``, deterministic, ``<= 63`` chars of ``[A-Za-z0-9-]``.

    ``driftline-`` (the prefix the state machine's IAM policy allows: ``training-job/driftline-*``), readable
    parts of both ids, then 10 hex digits of their SHA-256 so that truncation cannot make two runs collide.

    Examples
    --------
    >>> name = training_job_name("example-classifier", "run_2024-01-01")
    >>> name.startswith("driftline-example-classifier-run-2024-01-01-"), len(name) <= 63
    (True, True)
    """
    digest = hashlib.sha256(f"{model_id}\x00{run_id}".encode()).hexdigest()[:10]
    head = "-".join(p for p in ("driftline", _slug(model_id, 24), _slug(run_id, 16)) if p)
    return f"{head}-{digest}"[:MAX_JOB_NAME]


def _encode(value: Any) -> str:
    return json.dumps(value, allow_nan=False)


def build_training_request(
    cfg: ModelConfig, *, run_id: str, role_arn: str, train_uri: str, evaluation_uri: str
) -> dict[str, Any]:
    """The ``CreateTrainingJob`` request for retraining ``cfg``'s model in run ``run_id``.

    ``train_uri`` and ``evaluation_uri`` are the S3 prefixes of the two channels (see the module doc).
    """
    t = cfg.training
    hyper = {k: _encode(v) for k, v in t.hyperparameters.items()}
    hyper.update({
        "sagemaker_program": _encode(t.entry_point),
        "sagemaker_submit_directory": _encode(t.source_uri),
    })

    def channel(name: str, uri: str) -> dict[str, Any]:
        return {
            "ChannelName": name,
            "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri, "S3DataDistributionType": "FullyReplicated"}
            },
            "ContentType": CONTENT_TYPE,
            "CompressionType": "None",
            "InputMode": "File",
        }

    return {
        "TrainingJobName": training_job_name(cfg.model_id, run_id),
        "AlgorithmSpecification": {"TrainingImage": t.image_uri, "TrainingInputMode": "File"},
        "RoleArn": role_arn,
        "HyperParameters": hyper,
        "InputDataConfig": [channel("train", train_uri), channel("evaluation", evaluation_uri)],
        "OutputDataConfig": {"S3OutputPath": t.output_uri},
        "ResourceConfig": {
            "InstanceType": t.instance_type,
            "InstanceCount": t.instance_count,
            "VolumeSizeInGB": t.volume_size_gb,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": t.max_runtime_seconds},
        "Tags": [
            {"Key": "driftline:modelId", "Value": cfg.model_id},
            {"Key": "driftline:runId", "Value": run_id[:256]},
        ],
    }


def _reader(text: str, *, source: str, required: Sequence[str]) -> csv.DictReader:
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [c for c in required if c not in header]
    if missing:
        raise DataFormatError(
            f"{source}: the dataset CSV lacks column(s) {missing}; expected a header "
            f"'{ID_COLUMN},{LABEL_COLUMN},score,<features...>', got {header}",
            uri=source, missing=missing,
        )
    return reader


def training_csv(datasets: Iterable[tuple[str, str]], features: Sequence[str]) -> tuple[str, int]:
    """Concatenate labelled datasets ``(source, csv_text)`` into the ``train`` channel CSV; return it and its rows.

    Rows without a label are skipped (they cannot be trained on).

    Examples
    --------
    >>> text, n = training_csv([("a", "inference_id,label,score,x,y\\n1,0,0.2,1.5,a\\n")], ["y", "x"])
    >>> text, n
    ('0,a,1.5\\n', 1)
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    n = 0
    for source, text in datasets:
        for row in _reader(text, source=source, required=[LABEL_COLUMN, *features]):
            label = row[LABEL_COLUMN]
            if label is None or label == "":
                continue
            writer.writerow([label, *(row[f] for f in features)])
            n += 1
    return out.getvalue(), n


def evaluation_csv(source: str, text: str, features: Sequence[str]) -> tuple[str, int]:
    """The ``evaluation`` channel CSV (``inference_id,<features...>``, with header) from the window's dataset."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([ID_COLUMN, *features])
    n = 0
    for row in _reader(text, source=source, required=[ID_COLUMN, *features]):
        writer.writerow([row[ID_COLUMN], *(row[f] for f in features)])
        n += 1
    return out.getvalue(), n
