"""The example softmax classifier: scikit-learn's multinomial LogisticRegression, script mode, the handlers."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
from driftline_examples.multiclass import SOURCE_DIR, inference, train
from driftline_examples.scenarios.populations import Schedule, SoftmaxPopulation
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

POP = SoftmaxPopulation(coef=((1.0, -1.0, 0.0), (0.5, 0.5, -1.0), (0.0, 1.0, -1.0)),
                        coef_after=((-1.0, 1.0, 0.0), (0.5, 0.5, -1.0), (0.0, 1.0, -1.0)), concept=Schedule.step(2))


def _csv(X: np.ndarray, y: np.ndarray) -> str:
    return "".join(f"{int(t)}," + ",".join(repr(float(v)) for v in row) + "\n" for row, t in zip(X, y, strict=True))


def test_fit_equals_scikit_learn_multinomial_logistic_regression() -> None:
    X, y = POP.sample(0, 3000, np.random.default_rng(0))
    model = train.fit(X, y.astype(float), {"l2": 2.0, "categorical": [], "classes": 0, "max_iter": 50})
    sk = LogisticRegression(C=0.5, tol=1e-10, max_iter=10_000).fit(StandardScaler().fit_transform(X), y)
    np.testing.assert_allclose(np.asarray(model["coef"]).T, sk.coef_, atol=1e-6)
    np.testing.assert_allclose(model["intercept"], sk.intercept_, atol=1e-6)
    np.testing.assert_allclose(inference.predict_fn(X, model), train.predict_proba(model, X), rtol=1e-12)


def test_population_moves_its_concept() -> None:
    X0, y0 = POP.sample(0, 50_000, np.random.default_rng(1))
    X2, y2 = POP.sample(2, 50_000, np.random.default_rng(2))
    assert set(np.unique(y0)) == {0, 1, 2}
    # the effect of feature 0 on class 0 flips: its correlation with "class 0" changes sign
    assert np.corrcoef(X0[:, 0], y0 == 0)[0, 1] > 0.2
    assert np.corrcoef(X2[:, 0], y2 == 0)[0, 1] < -0.2


def test_script_mode_job_and_evaluation_predictions(tmp_path: Path) -> None:
    X, y = POP.sample(0, 1500, np.random.default_rng(3))
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "part.csv").write_text(_csv(X[:1200], y[:1200]))
    (tmp_path / "evaluation").mkdir()
    rows = "".join(f"r{i}," + ",".join(repr(float(v)) for v in X[1200 + i]) + "\n" for i in range(300))
    (tmp_path / "evaluation" / "w.csv").write_text("inference_id,a,b,c\n" + rows)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SM_")}
    env.update(SM_MODEL_DIR=str(tmp_path / "model"), SM_CHANNEL_TRAIN=str(tmp_path / "train"),
               SM_CHANNEL_EVALUATION=str(tmp_path / "evaluation"), SM_OUTPUT_DATA_DIR=str(tmp_path / "out" / "data"),
               SM_OUTPUT_DIR=str(tmp_path / "out"), SM_INPUT_CONFIG_DIR=str(tmp_path / "config"))
    proc = subprocess.run([sys.executable, "train.py", "--classes", "3"], cwd=SOURCE_DIR, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "train:accuracy=" in proc.stdout
    model = inference.model_fn(str(tmp_path / "model"))
    assert model["classes"] == 3
    text = (tmp_path / "out" / "data" / "evaluation_predictions.csv").read_text()
    assert text.splitlines()[0] == "inference_id,score_0,score_1,score_2"
    from metric_evaluator.compare import read_challenger_predictions

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(tmp_path / "out" / "data" / "evaluation_predictions.csv", arcname="evaluation_predictions.csv")
    ids, scores, bad = read_challenger_predictions(buf.getvalue())
    assert ids.tolist() == [f"r{i}" for i in range(300)]
    assert scores.shape == (300, 3)
    assert bad == 0
    np.testing.assert_allclose(scores, inference.predict_fn(X[1200:], model), atol=1e-9)
    # bad labels fail the job with a reason
    (tmp_path / "train" / "part.csv").write_text("1.5,0.0,0.0,0.0\n0,1.0,1.0,1.0\n")
    proc = subprocess.run([sys.executable, "train.py"], cwd=SOURCE_DIR, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 2
    assert "class indices" in (tmp_path / "out" / "failure").read_text()


def test_handlers_csv_and_json() -> None:
    X, y = POP.sample(0, 500, np.random.default_rng(4))
    model = train.fit(X, y.astype(float), {"l2": 1.0, "categorical": [], "classes": 3, "max_iter": 50})
    body = "".join(",".join(repr(float(v)) for v in row) + "\n" for row in X[:4])
    P = inference.predict_fn(inference.input_fn(body, "text/csv"), model)
    assert P.shape == (4, 3)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    lines = inference.output_fn(P, "text/csv").splitlines()
    np.testing.assert_allclose([[float(v) for v in line.split(",")] for line in lines], P)
    js = json.loads(inference.output_fn(P, "application/json"))
    assert [p["predicted_label"] for p in js["predictions"]] == np.argmax(P, axis=1).tolist()
    with pytest.raises(ValueError, match="unsupported accept type"):
        inference.output_fn(P, "text/plain")
