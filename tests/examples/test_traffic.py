"""The traffic generator: determinism, drift where and when configured, SageMaker file formats."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime

import numpy as np
import pytest
from driftline_examples import traffic
from driftline_examples.traffic import DRIFT, STABLE, CovariateDrift, Scenario, TrafficConfig

CFG = traffic.DEFAULT_CONFIG
START = DRIFT.covariate.start_day  # type: ignore[union-attr]


def test_same_seed_same_data_other_seed_other_data() -> None:
    a = traffic.day(5, 200, DRIFT)
    b = traffic.day(5, 200, DRIFT)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert a.inference_ids == b.inference_ids
    other = traffic.day(5, 200, DRIFT, config=TrafficConfig(seed=CFG.seed + 1))
    assert not np.array_equal(a.X, other.X)
    assert not np.array_equal(traffic.day(6, 200, DRIFT).X, a.X)
    np.testing.assert_array_equal(traffic.training_set(100)[0], traffic.training_set(100)[0])
    assert not np.array_equal(traffic.training_set(100)[0], traffic.training_set(100, replicate=1)[0])


def test_shape_feature_kinds_and_ids() -> None:
    X, y, ids = traffic.day(3, 500, STABLE)
    assert X.shape == (500, CFG.n_features)
    assert set(np.unique(y)) == {0, 1}
    for j in CFG.categorical:
        assert set(np.unique(X[:, j])) <= set(range(CFG.n_categories))
        assert np.unique(X[:, j]).size == CFG.n_categories
    assert len(set(ids)) == 500
    assert ids[7] == "stable-d003-000007"
    assert CFG.feature_names == tuple(f"f{j}" for j in range(CFG.n_features))


def test_drift_and_stable_are_identical_before_the_start_day() -> None:
    for d in range(START):
        stable, drift = traffic.day(d, 300, STABLE), traffic.day(d, 300, DRIFT)
        np.testing.assert_array_equal(stable.X, drift.X)
        np.testing.assert_array_equal(stable.y, drift.y)


def test_drift_shifts_the_chosen_feature_means_after_the_start_day_only() -> None:
    c = traffic.concept()
    n = 40000
    drift = DRIFT.covariate
    assert drift is not None
    for d in (START - 1, START, START + drift.ramp_days + 2):
        X_stable = traffic.day(d, n, STABLE).X
        X_drift = traffic.day(d, n, DRIFT).X
        frac = 0.0 if d < START else min(1.0, (d - START + 1) / drift.ramp_days)
        for j in CFG.numeric:
            pos = CFG.numeric.index(j)
            if j in drift.features:
                expected = c.means[pos] + frac * drift.shift * c.stds[pos]
                standard_error = c.stds[pos] * (1 + frac * (drift.scale - 1)) / np.sqrt(n)
                assert X_drift[:, j].mean() == pytest.approx(expected, abs=5 * standard_error)
                assert X_drift[:, j].std() == pytest.approx(
                    c.stds[pos] * (1 + frac * (drift.scale - 1)), rel=0.03)
            else:
                np.testing.assert_array_equal(X_drift[:, j], X_stable[:, j])
        # the stable scenario stays at the population means whatever the day
        np.testing.assert_allclose(X_stable[:, list(CFG.numeric)].mean(axis=0), c.means,
                                   atol=float(5 * c.stds.max() / np.sqrt(n)))


def test_categorical_drift_tilts_the_category_frequencies() -> None:
    j = CFG.categorical[0]
    assert j in DRIFT.covariate.features  # type: ignore[union-attr]
    late = START + 5
    base = np.bincount(traffic.day(late, 20000, STABLE).X[:, j].astype(int), minlength=CFG.n_categories) / 20000
    moved = np.bincount(traffic.day(late, 20000, DRIFT).X[:, j].astype(int), minlength=CFG.n_categories) / 20000
    np.testing.assert_allclose(base, traffic.concept().category_probs, atol=0.02)
    assert moved[-1] > base[-1] + 0.1  # positive shift tilts towards the higher codes
    assert moved[0] < base[0] - 0.1


def test_concept_drift_changes_the_labels_relationship_from_its_start_day() -> None:
    X = traffic.day(0, 1000).X
    before = traffic.true_probability(X, START - 1, DRIFT)
    np.testing.assert_array_equal(before, traffic.true_probability(X, START - 1, STABLE))
    after = traffic.true_probability(X, START + 5, DRIFT)
    assert np.abs(after - before).mean() > 0.1
    # labels follow the true probability: mean label matches mean probability within sampling error
    X_d, y_d, _ = traffic.day(START + 5, 20000, DRIFT)
    p = traffic.true_probability(X_d, START + 5, DRIFT)
    assert y_d.mean() == pytest.approx(p.mean(), abs=4 * np.sqrt(0.25 / 20000))


def test_invalid_configuration_is_rejected() -> None:
    with pytest.raises(ValueError, match="out of range"):
        TrafficConfig(n_features=4, categorical=(7,))
    with pytest.raises(ValueError, match="n must be"):
        traffic.day(0, 0)
    with pytest.raises(ValueError, match=">= 0"):
        traffic.day(-1, 10)
    with pytest.raises(ValueError, match="covariate drift on feature 9"):
        traffic.day(3, 10, Scenario("bad", covariate=CovariateDrift(features=(9,), start_day=0)))


def test_training_csv_is_label_first_without_header_and_round_trips() -> None:
    X, y = traffic.training_set(50)
    text = traffic.to_training_csv(X, y)
    lines = text.splitlines()
    assert len(lines) == 50
    assert all(re.fullmatch(r"[01],", line[:2]) for line in lines)
    back = np.loadtxt(text.splitlines(), delimiter=",")
    np.testing.assert_array_equal(back, np.column_stack([y, X]))  # exact: repr() round-trips floats
    j = CFG.categorical[0]
    assert all(re.fullmatch(r"\d+", line.split(",")[j + 1]) for line in lines)


CAPTURE_KEYS = {"captureData", "eventMetadata", "eventVersion"}
INPUT_KEYS = {"observedContentType", "mode", "data", "encoding"}


def test_capture_records_have_sagemakers_exact_shape() -> None:
    d = 3
    X, _, ids = traffic.day(d, 48, DRIFT)
    probabilities = np.linspace(0.01, 0.99, 48)
    records = traffic.capture_records(X, probabilities, ids, d=d)
    lines = traffic.to_jsonl(records).splitlines()
    assert len(lines) == 48
    seen_events = set()
    for i, line in enumerate(lines):
        record = json.loads(line)
        assert set(record) == CAPTURE_KEYS
        assert set(record["captureData"]) == {"endpointInput", "endpointOutput"}
        inp, out = record["captureData"]["endpointInput"], record["captureData"]["endpointOutput"]
        assert set(inp) == set(out) == INPUT_KEYS
        assert (inp["observedContentType"], inp["mode"], inp["encoding"]) == ("text/csv", "INPUT", "CSV")
        assert (out["observedContentType"], out["mode"], out["encoding"]) == (
            "text/csv; charset=utf-8", "OUTPUT", "CSV")
        np.testing.assert_array_equal([float(v) for v in inp["data"].split(",")], X[i])
        assert float(out["data"]) == probabilities[i]
        meta = record["eventMetadata"]
        assert set(meta) == {"eventId", "inferenceId", "inferenceTime"}
        assert meta["inferenceId"] == ids[i]
        assert uuid.UUID(meta["eventId"]).version == 4
        seen_events.add(meta["eventId"])
        when = datetime.strptime(meta["inferenceTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert traffic.day_start(d) <= when < traffic.day_start(d + 1)
        assert record["eventVersion"] == "0"
    assert len(seen_events) == 48
    assert traffic.capture_records(X, probabilities, ids, d=d) == records  # deterministic ids


def test_ground_truth_records_have_the_model_monitor_shape() -> None:
    _, y, ids = traffic.day(2, 10)
    lines = traffic.to_jsonl(traffic.ground_truth_records(y, ids)).splitlines()
    for label, inference_id, line in zip(y, ids, lines, strict=True):
        record = json.loads(line)
        assert record == {"groundTruthData": {"data": str(label), "encoding": "CSV"},
                          "eventMetadata": {"eventId": inference_id}, "eventVersion": "0"}


def test_s3_key_layouts() -> None:
    when = datetime(2026, 1, 8, 7, 5, 9, 123000, tzinfo=UTC)
    key = traffic.capture_key("datacapture/", "churn-endpoint", "AllTraffic", when)
    assert re.fullmatch(
        r"datacapture/churn-endpoint/AllTraffic/2026/01/08/07/05-09-123-[0-9a-f-]{36}\.jsonl", key)
    assert traffic.ground_truth_key("/ground-truth", when, "labels.jsonl") == "ground-truth/2026/01/08/07/labels.jsonl"


def test_capture_files_group_records_by_hour(tmp_path) -> None:
    d = 4
    X, y, ids = traffic.day(d, 100, DRIFT)
    records = traffic.capture_records(X, np.full(100, 0.5), ids, d=d)
    files = traffic.capture_files(records, prefix="capture", endpoint="ep", variant="AllTraffic")
    assert len(files) == 24
    total = 0
    for key, body in files.items():
        hour = key.split("/")[6]
        for line in body.splitlines():
            assert json.loads(line)["eventMetadata"]["inferenceTime"][11:13] == hour
            total += 1
    assert total == 100
    written = traffic.write_files(tmp_path, files)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == sorted(files)
    truth = traffic.ground_truth_files(traffic.ground_truth_records(y, ids), prefix="gt",
                                       when=traffic.day_start(d + 1))
    (key,) = truth
    assert key.startswith("gt/2026/01/10/00/")
    assert len(truth[key].splitlines()) == 100
