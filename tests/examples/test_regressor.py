"""The example ridge regressor: script-mode training as SageMaker runs it, scikit-learn's Ridge, the handlers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from driftline_examples.regressor import SOURCE_DIR, inference, train
from sklearn.linear_model import Ridge
from sklearn.preprocessing import StandardScaler


def _data(n: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(3.0, 2.0, n), rng.normal(-1.0, 0.5, n), rng.integers(0, 3, n)])
    y = 5.0 + 1.5 * X[:, 0] - 4.0 * X[:, 1] + np.array([0.0, 2.0, -1.0])[X[:, 2].astype(int)] + rng.normal(0, 0.3, n)
    return X, y


def _csv(X: np.ndarray, y: np.ndarray) -> str:
    return "".join(f"{float(t)!r}," + ",".join(repr(float(v)) for v in row) + "\n" for row, t in zip(X, y, strict=True))


def _env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SM_")}
    env.update(SM_MODEL_DIR=str(root / "model"), SM_CHANNEL_TRAIN=str(root / "train"),
               SM_OUTPUT_DATA_DIR=str(root / "output" / "data"), SM_OUTPUT_DIR=str(root / "output"),
               SM_INPUT_CONFIG_DIR=str(root / "config"))
    return env


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "train.py", *args], cwd=SOURCE_DIR, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_fit_equals_scikit_learn_ridge_on_standardised_features() -> None:
    X, y = _data()
    hps = {"l2": 3.0, "categorical": []}
    model = train.fit(X, y, hps)
    ridge = Ridge(alpha=3.0).fit(StandardScaler().fit_transform(X), y)
    np.testing.assert_allclose(model["coef"], ridge.coef_, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(model["intercept"], ridge.intercept_, rtol=1e-9)
    np.testing.assert_allclose(train.predict(model, X), inference.predict_fn(X, model), rtol=1e-12)


def test_script_mode_job_writes_model_metrics_and_evaluation_predictions(tmp_path: Path) -> None:
    X, y = _data()
    env = _env(tmp_path)
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "part.csv").write_text(_csv(X[:1500], y[:1500]))
    (tmp_path / "evaluation").mkdir()
    rows = "".join(f"id-{i}," + ",".join(repr(float(v)) for v in X[1500 + i]) + "\n" for i in range(500))
    (tmp_path / "evaluation" / "window.csv").write_text("inference_id,a,b,c\n" + rows)
    env["SM_CHANNEL_EVALUATION"] = str(tmp_path / "evaluation")
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "hyperparameters.json").write_text(json.dumps({"l2": "0.5", "sagemaker_program": "\"x\""}))
    proc = _run(env, "--categorical", "2")
    assert proc.returncode == 0, proc.stderr
    assert "train:rmse=" in proc.stdout
    model = inference.model_fn(str(tmp_path / "model"))
    assert model["hyperparameters"] == {"l2": 0.5, "categorical": [2]}
    lines = (tmp_path / "output" / "data" / "evaluation_predictions.csv").read_text().splitlines()
    assert lines[0] == "inference_id,score"
    assert len(lines) == 501
    predicted = np.array([float(line.split(",")[1]) for line in lines[1:]])
    assert np.sqrt(np.mean((predicted - y[1500:]) ** 2)) < 0.4  # the noise is 0.3: the model is right
    # the evaluator reads these predictions as a regression model's scores
    import io
    import tarfile

    from metric_evaluator.compare import read_challenger_predictions

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(tmp_path / "output" / "data" / "evaluation_predictions.csv", arcname="evaluation_predictions.csv")
    ids, scores, bad = read_challenger_predictions(buf.getvalue())
    assert ids[0] == "id-0"
    assert bad == 0
    np.testing.assert_allclose(scores, predicted)


@pytest.mark.parametrize(("body", "reason"), [
    ("1.0,2.0\n1.0,abc\n", "line 2: non-numeric value"),
    ("1.0,2.0\n1.0,2.0,3.0\n", "expected 2 columns"),
    ("1.0,nan\n", "NaN or infinite"),
])
def test_bad_data_fails_the_job_with_a_reason(tmp_path: Path, body: str, reason: str) -> None:
    env = _env(tmp_path)
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "part.csv").write_text(body)
    proc = _run(env)
    assert proc.returncode == 2
    assert reason in (tmp_path / "output" / "failure").read_text()


def test_bad_hyperparameters(tmp_path: Path) -> None:
    env = _env(tmp_path)
    for args, reason in ((["--l2", "-1"], "'l2' must be a finite number >= 0"), (["--depth", "3"], "unknown"),
                         (["--categorical", "x"], "'categorical' must be")):
        proc = _run(env, *args)
        assert proc.returncode == 2
        assert reason in (tmp_path / "output" / "failure").read_text()


def test_inference_handlers_csv_and_json() -> None:
    X, y = _data(300)
    model = train.fit(X, y, {"l2": 1.0, "categorical": [2]})
    body = "".join(",".join(repr(float(v)) for v in row) + "\n" for row in X[:3])
    got = inference.predict_fn(inference.input_fn(body.encode(), "text/csv"), model)
    np.testing.assert_allclose(got, train.predict(model, X[:3]))
    out = inference.output_fn(got, "text/csv")
    assert [float(v) for v in out.splitlines()] == pytest.approx(got.tolist())
    js = json.loads(inference.output_fn(got, "application/json"))
    assert [p["score"] for p in js["predictions"]] == pytest.approx(got.tolist())
    one = inference.input_fn(json.dumps({"features": X[0].tolist()}), "application/json")
    assert one.shape == (1, 3)
    with pytest.raises(ValueError, match="expected rows of 3 features"):
        inference.predict_fn(np.zeros((1, 2)), model)
    with pytest.raises(ValueError, match="unsupported content type"):
        inference.input_fn("1,2,3", "text/plain")
    with pytest.raises(ValueError, match="every value must be a number"):
        inference.input_fn("1,x,3", "text/csv")
