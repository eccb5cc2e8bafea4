"""The example classifier: script-mode training as SageMaker runs it, and the inference handlers."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from driftline_examples import traffic
from driftline_examples.classifier import MODEL_FILENAME, SOURCE_DIR, TRAIN_ENTRY_POINT, inference, train
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score

CATEGORICAL = ",".join(map(str, traffic.DEFAULT_CONFIG.categorical))


def _sm_env(root: Path, *, validation: bool = False) -> dict[str, str]:
    """The SM_* environment SageMaker's training toolkit sets, pointed at temporary directories."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SM_")}
    env.update({
        "SM_MODEL_DIR": str(root / "model"),
        "SM_CHANNEL_TRAIN": str(root / "input" / "data" / "train"),
        "SM_OUTPUT_DATA_DIR": str(root / "output" / "data"),
        "SM_OUTPUT_DIR": str(root / "output"),
        "SM_INPUT_CONFIG_DIR": str(root / "input" / "config"),
        "SM_CHANNELS": json.dumps(["train", "validation"] if validation else ["train"]),
    })
    if validation:
        env["SM_CHANNEL_VALIDATION"] = str(root / "input" / "data" / "validation")
    return env


def _write_channel(env: dict[str, str], channel: str, body: str, name: str = "part-0.csv") -> None:
    directory = Path(env[f"SM_CHANNEL_{channel.upper()}"])
    (directory / name).parent.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(body, encoding="utf-8")


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, TRAIN_ENTRY_POINT, *args], cwd=SOURCE_DIR, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("job")
    env = _sm_env(root, validation=True)
    X, y = traffic.training_set(4000)
    # two files in the train channel: the script must read every file of the channel
    _write_channel(env, "train", traffic.to_training_csv(X[:2500], y[:2500]), "a.csv")
    _write_channel(env, "train", traffic.to_training_csv(X[2500:3000], y[2500:3000]), "nested/b.csv")
    _write_channel(env, "validation", traffic.to_training_csv(X[3000:], y[3000:]))
    proc = _run(env, "--categorical", CATEGORICAL, "--l2", "2.0")
    return {"root": root, "env": env, "proc": proc, "X": X[:3000], "y": y[:3000], "Xv": X[3000:], "yv": y[3000:]}


def test_training_job_succeeds_and_writes_model(trained: dict) -> None:
    proc = trained["proc"]
    assert proc.returncode == 0, proc.stderr
    model = json.loads((trained["root"] / "model" / MODEL_FILENAME).read_text())
    assert model["training"]["rows"] == 3000
    assert model["training"]["converged"] is True
    assert model["preprocessing"]["categorical"] == list(traffic.DEFAULT_CONFIG.categorical)
    metrics = json.loads((trained["root"] / "output" / "data" / "metrics.json").read_text())
    assert set(metrics) == {"train", "validation"}
    assert not (trained["root"] / "output" / "failure").exists()


def test_stdout_metrics_match_a_reference_computation(trained: dict) -> None:
    model = inference.model_fn(str(trained["root"] / "model"))
    p_train = inference.predict_fn(trained["X"], model)
    p_val = inference.predict_fn(trained["Xv"], model)
    lines = trained["proc"].stdout
    found = {m.group(1) + ":" + m.group(2): float(m.group(3))
             for m in re.finditer(r"(train|validation):(\w+)=([-0-9.eE]+);", lines)}
    assert found["train:loss"] == pytest.approx(log_loss(trained["y"], p_train), abs=1e-6)
    assert found["validation:loss"] == pytest.approx(log_loss(trained["yv"], p_val), abs=1e-6)
    assert found["validation:auc"] == pytest.approx(roc_auc_score(trained["yv"], p_val), abs=1e-6)


def test_held_out_auc_is_sensible_and_close_to_sklearn(trained: dict) -> None:
    model = inference.model_fn(str(trained["root"] / "model"))
    X_test, y_test, _ = traffic.day(2, 3000)  # a different random stream: truly held out
    auc = roc_auc_score(y_test, inference.predict_fn(X_test, model))
    reference = LogisticRegression(C=0.5, max_iter=2000).fit(_design(trained["X"], trained["X"]), trained["y"])
    auc_ref = roc_auc_score(y_test, reference.predict_proba(_design(trained["X"], X_test))[:, 1])
    assert auc > 0.8
    assert auc == pytest.approx(auc_ref, abs=1e-3)


def _design(X_fit: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Reference design matrix: StandardScaler on numeric columns, one-hot on the categorical ones."""
    numeric = list(traffic.DEFAULT_CONFIG.numeric)
    mean, std = X_fit[:, numeric].mean(axis=0), X_fit[:, numeric].std(axis=0)
    blocks = [(X[:, numeric] - mean) / std]
    for j in traffic.DEFAULT_CONFIG.categorical:
        codes = np.unique(X_fit[:, j])
        blocks.append((X[:, [j]] == codes[None, :]).astype(float))
    return np.hstack(blocks)


@pytest.mark.parametrize("l2", [0.1, 5.0])
def test_newton_coefficients_equal_sklearn_logistic_regression(l2: float) -> None:
    X, y = traffic.training_set(1500, replicate=3)
    hps, _ = train.resolve_hyperparameters(
        ["--l2", str(l2), "--categorical", CATEGORICAL, "--tol", "1e-12"], {"SM_INPUT_CONFIG_DIR": "/nonexistent"}
    )
    model = train.fit(X, y, hps)
    ref = LogisticRegression(C=1.0 / l2, tol=1e-12, max_iter=10000).fit(_design(X, X), y)
    np.testing.assert_allclose(model["coef"], ref.coef_.ravel(), atol=1e-5, rtol=1e-5)
    assert model["intercept"] == pytest.approx(ref.intercept_[0], abs=1e-5, rel=1e-5)


def test_gradient_descent_reaches_the_same_optimum() -> None:
    # all columns numeric: a well-conditioned problem on which plain gradient descent converges
    X, y = traffic.training_set(1500, replicate=4)
    hps, _ = train.resolve_hyperparameters(
        ["--solver", "gd", "--l2", "1.0", "--max-iter", "5000", "--learning-rate", "1.0", "--tol", "1e-14"],
        {"SM_INPUT_CONFIG_DIR": "/nonexistent"},
    )
    model = train.fit(X, y, hps)
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    ref = LogisticRegression(C=1.0, tol=1e-12, max_iter=10000).fit(Z, y)
    np.testing.assert_allclose(model["coef"], ref.coef_.ravel(), atol=1e-4)
    assert model["intercept"] == pytest.approx(ref.intercept_[0], abs=1e-4)


def test_hyperparameter_precedence_file_then_sm_hps_then_cli(tmp_path: Path) -> None:
    env = _sm_env(tmp_path)
    config = Path(env["SM_INPUT_CONFIG_DIR"])
    config.mkdir(parents=True)
    # SageMaker stores every hyperparameter value as a string
    (config / "hyperparameters.json").write_text(json.dumps(
        {"l2": "3.0", "max_iter": "40", "solver": '"gd"', "learning_rate": "0.9",
         "sagemaker_program": '"train.py"'}))
    env["SM_HPS"] = json.dumps({"max_iter": 60, "solver": "newton"})
    X, y = traffic.training_set(300)
    _write_channel(env, "train", traffic.to_training_csv(X, y))
    proc = _run(env, "--l2", "0.25")
    assert proc.returncode == 0, proc.stderr
    hps = json.loads((tmp_path / "model" / MODEL_FILENAME).read_text())["hyperparameters"]
    assert hps["l2"] == 0.25  # command line wins
    assert hps["max_iter"] == 60  # SM_HPS over the file
    assert hps["solver"] == "newton"
    assert hps["learning_rate"] == 0.9  # from the file only


@pytest.mark.parametrize(
    ("body", "args", "expected"),
    [
        ("", (), "no data rows"),
        ("1,0.5,2.0\n0,abc,1.0\n", (), "non-numeric value 'abc'"),
        ("label,f0\n1,0.5\n", (), "non-numeric value 'label'"),
        ("1,0.5\n1,0.7\n1,0.1\n", (), "single class"),
        ("2,0.5\n0,0.7\n", (), "labels must be 0 or 1"),
        ("1,0.5,1\n0,0.7\n", (), "has 2 columns, expected 3"),
        ("1,nan\n0,0.7\n", (), "NaN or infinite"),
        ("1,0.5\n0,0.7\n", ("--l2", "-1"), "'l2' must be"),
        ("1,0.5\n0,0.7\n", ("--solver", "adam"), "'solver' must be"),
        ("1,0.5\n0,0.7\n", ("--bogus", "1"), "unknown command-line arguments"),
    ],
)
def test_bad_data_fails_the_job_with_a_reason(tmp_path: Path, body: str, args: tuple, expected: str) -> None:
    env = _sm_env(tmp_path)
    _write_channel(env, "train", body)
    proc = _run(env, *args)
    assert proc.returncode == 2
    reason = (tmp_path / "output" / "failure").read_text()
    assert expected in reason
    assert reason.startswith("ClientError:")
    assert expected in proc.stderr
    assert not (tmp_path / "model" / MODEL_FILENAME).exists()


def test_failure_file_location_follows_the_environment(tmp_path: Path) -> None:
    env = _sm_env(tmp_path)
    del env["SM_OUTPUT_DIR"]
    _write_channel(env, "train", "")
    assert _run(env).returncode == 2
    # without SM_OUTPUT_DIR: the parent of SM_OUTPUT_DATA_DIR, i.e. /opt/ml/output/failure on SageMaker
    assert (tmp_path / "output" / "failure").is_file()
    env["SM_OUTPUT_FAILURE"] = str(tmp_path / "deep" / "er" / "failure")
    assert _run(env).returncode == 2
    assert "no data rows" in (tmp_path / "deep" / "er" / "failure").read_text()


def test_missing_train_channel_is_a_clear_error(tmp_path: Path) -> None:
    env = _sm_env(tmp_path)
    del env["SM_CHANNEL_TRAIN"]
    proc = _run(env)
    assert proc.returncode == 2
    assert "SM_CHANNEL_TRAIN" in (tmp_path / "output" / "failure").read_text()


# ---------------------------------------------------------------------------------------------------------
# Inference handlers
# ---------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def model(trained: dict) -> dict:
    return inference.model_fn(str(trained["root"] / "model"))


def _reference_proba(model: dict, X: np.ndarray) -> np.ndarray:
    return train.predict_proba(model, X)


def test_csv_round_trip_one_and_many_rows(model: dict) -> None:
    X, _, _ = traffic.day(1, 5)
    body = "".join(traffic.features_to_csv_row(row) + "\n" for row in X)
    for rows, payload in ((X[:1], traffic.features_to_csv_row(X[0])), (X, body.encode())):
        data = inference.input_fn(payload, "text/csv; charset=utf-8")
        np.testing.assert_array_equal(data, rows)
        prediction = inference.predict_fn(data, model)
        out = inference.output_fn(prediction, "text/csv")
        parsed = [float(line) for line in out.splitlines()]
        np.testing.assert_allclose(parsed, _reference_proba(model, rows), rtol=0, atol=0)


def test_json_round_trip_instances_and_features(model: dict) -> None:
    X, _, _ = traffic.day(1, 4)
    expected = _reference_proba(model, X)
    data = inference.input_fn(json.dumps({"instances": X.tolist()}), "application/json")
    out = json.loads(inference.output_fn(inference.predict_fn(data, model), "application/json"))
    assert [set(p) for p in out["predictions"]] == [{"score", "predicted_label"}] * 4
    np.testing.assert_allclose([p["score"] for p in out["predictions"]], expected)
    assert [p["predicted_label"] for p in out["predictions"]] == [int(p >= 0.5) for p in expected]
    single = inference.input_fn(json.dumps({"features": X[2].tolist()}), "application/json")
    assert inference.predict_fn(single, model)[0] == pytest.approx(expected[2])


def test_probabilities_are_a_real_model_not_a_constant(model: dict) -> None:
    X, y, _ = traffic.day(4, 2000)
    p = inference.predict_fn(X, model)
    assert ((p > 0) & (p < 1)).all()
    assert roc_auc_score(y, p) > 0.8


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        ("1,2,3\n", "text/csv", "expected rows of 6 features"),
        ("1,2,x,4,5,6\n", "text/csv", "non-numeric"),
        ("1,2,3,4,5,6\n1,2\n", "text/csv", "row 2 has 2 values"),
        ("", "text/csv", "no rows"),
        ("{not json", "application/json", "not valid JSON"),
        ('{"rows": []}', "application/json", "must be"),
        ('{"instances": [[1, 2, 3, 4, 5, "a"]]}', "application/json", "non-numeric"),
        ('{"instances": [[1, 2, 3, 4, 5, true]]}', "application/json", "non-numeric"),
        ("1,2,3,4,5,6", "application/x-npy", "unsupported content type"),
    ],
)
def test_bad_requests_raise_value_error(model: dict, body: str, content_type: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        inference.predict_fn(inference.input_fn(body, content_type), model)


def test_unsupported_accept_and_missing_model(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unsupported accept"):
        inference.output_fn(np.array([0.5]), "application/x-protobuf")
    assert inference.response_content_type("*/*") == "text/csv"
    assert inference.response_content_type("application/x-protobuf, application/json") == "application/json"
    with pytest.raises(ValueError, match=re.escape("no model.json")):
        inference.model_fn(str(tmp_path))


def test_unseen_category_code_is_ignored_not_an_error(model: dict) -> None:
    X, _, _ = traffic.day(1, 3)
    j = traffic.DEFAULT_CONFIG.categorical[0]
    unseen = X.copy()
    unseen[:, j] = 99
    # an unseen code contributes nothing: same as removing the category effect from the logit
    prep = model["preprocessing"]
    codes = prep["categories"][0]
    k = len(prep["numeric"])
    coef = np.asarray(model["coef"])
    logit_seen = np.log(inference.predict_fn(X, model) / (1 - inference.predict_fn(X, model)))
    effect = np.array([coef[k + codes.index(code)] for code in X[:, j]])
    p_unseen = inference.predict_fn(unseen, model)
    np.testing.assert_allclose(np.log(p_unseen / (1 - p_unseen)), logit_seen - effect, atol=1e-9)


def test_evaluation_channel_is_scored_for_the_champion_challenger_comparison(tmp_path) -> None:
    """The `evaluation` channel (header inference_id + features) is scored into evaluation_predictions.csv."""
    import csv
    import json as _json
    import subprocess
    import sys

    from driftline_examples import traffic
    from driftline_examples.classifier import SOURCE_DIR, TRAIN_ENTRY_POINT

    X, y = traffic.training_set(800)[:2]
    train_dir, eval_dir = tmp_path / "train", tmp_path / "evaluation"
    train_dir.mkdir()
    eval_dir.mkdir()
    (train_dir / "train.csv").write_text(traffic.to_training_csv(X, y))
    day = traffic.day(1, 50, traffic.STABLE)
    header = "inference_id," + ",".join(f"f{i}" for i in range(day.X.shape[1]))
    rows = [",".join([iid, *(repr(float(v)) for v in x)]) for iid, x in zip(day.inference_ids, day.X, strict=True)]
    (eval_dir / "evaluation.csv").write_text(header + "\n" + "\n".join(rows) + "\n")
    env = {
        "PATH": "/usr/bin:/bin",
        "SM_CHANNEL_TRAIN": str(train_dir),
        "SM_CHANNEL_EVALUATION": str(eval_dir),
        "SM_MODEL_DIR": str(tmp_path / "model"),
        "SM_OUTPUT_DATA_DIR": str(tmp_path / "output" / "data"),
        "SM_HPS": _json.dumps({"categorical": "5"}),
    }
    proc = subprocess.run(
        [sys.executable, str(SOURCE_DIR / TRAIN_ENTRY_POINT)], env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    with open(tmp_path / "output" / "data" / "evaluation_predictions.csv") as fh:
        preds = list(csv.DictReader(fh))
    assert [p["inference_id"] for p in preds] == list(day.inference_ids)
    scores = [float(p["score"]) for p in preds]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert len(set(scores)) > 10
