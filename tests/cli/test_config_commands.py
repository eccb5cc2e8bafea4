"""``driftline init`` and ``validate``: starter configs for every problem type, every wrong field listed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from driftline_common.config import parse_config


@pytest.mark.parametrize(("problem_type", "labels"), [("binary", []), ("multiclass", ["low", "mid", "high"]),
                                                      ("regression", [])])
def test_init_writes_a_valid_commented_config_per_problem_type(tmp_path: Path, run_cli, problem_type, labels) -> None:
    path = tmp_path / "m.yaml"
    argv = ["init", "--problem-type", problem_type, "--model-id", "my-model", "--bucket", "my-bucket",
            "--features", "age,income,region:categorical", "--out", str(path)]
    if labels:
        argv += ["--labels", *labels]
    code, out, err = run_cli(*argv)
    assert code == 0, err
    text = path.read_text()
    assert text.count("#") >= 10  # commented
    cfg = parse_config(yaml.safe_load(text), scope=None)  # the API's own model accepts it
    assert cfg.problem_type == problem_type
    assert [(f.name, f.type) for f in cfg.features] == [("age", "numeric"), ("income", "numeric"),
                                                         ("region", "categorical")]
    metrics = {t.metric for t in cfg.thresholds}
    if problem_type == "regression":
        assert metrics <= {"rmse", "r2", "mse", "mae"}
        assert cfg.labels is None
    else:
        assert metrics <= {"roc_auc", "accuracy", "f1"}
    if problem_type == "multiclass":
        assert cfg.labels == labels
    code, out, _ = run_cli("validate", str(path))
    assert code == 0
    assert "valid" in out


def test_init_refuses_to_overwrite_and_bad_flags(tmp_path: Path, run_cli) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("mine")
    code, _, err = run_cli("init", "--problem-type", "binary", "--model-id", "m", "--bucket", "b-1",
                           "--features", "a", "--out", str(path))
    assert code == 1
    assert "exists" in err
    assert path.read_text() == "mine"
    code, _, err = run_cli("init", "--problem-type", "binary", "--model-id", "bad id!", "--bucket", "b-1",
                           "--features", "a", "--out", str(tmp_path / "x.yaml"))
    assert code == 1
    assert "modelId" in err
    assert not (tmp_path / "x.yaml").exists()


def test_validate_lists_every_wrong_field(binary_config: Path, tmp_path: Path, run_cli) -> None:
    data = yaml.safe_load(binary_config.read_text())
    data["windowHours"] = 0
    data["thresholds"][0]["min"] = 1.7
    data["retrainPolicy"]["consecutiveBreaches"] = "two"
    data["drift"]["bogus"] = 1
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    code, out, _ = run_cli("validate", str(bad))
    assert code == 1
    for field in ("windowHours", "thresholds.0", "retrainPolicy.consecutiveBreaches", "drift.bogus"):
        assert field in out, (field, out)
    code, out, _ = run_cli("--output", "json", "validate", str(bad))
    doc = json.loads(out)
    assert code == 1
    assert doc["valid"] is False
    assert len(doc["problems"]) >= 4


def test_validate_reports_unreadable_files(tmp_path: Path, run_cli) -> None:
    (tmp_path / "x.yaml").write_text("a: [unclosed")
    code, _, err = run_cli("validate", str(tmp_path / "x.yaml"))
    assert code == 1
    assert "not valid YAML" in err
    code, _, err = run_cli("validate", str(tmp_path / "missing.json"))
    assert code == 1
    assert "cannot read" in err
