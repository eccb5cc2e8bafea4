"""The examples' fast paths give the checked paths' results: one-pass CSV parsing, ground-truth JSON Lines text."""

from __future__ import annotations

import csv
import io
from types import ModuleType

import numpy as np
import pytest
from driftline_examples.classifier import inference as classifier
from driftline_examples.multiclass import inference as multiclass
from driftline_examples.regressor import inference as regressor

MODULES = [classifier, multiclass, regressor]


def _checked(module: ModuleType, body: str) -> np.ndarray:
    """The parse without the fast path: csv.reader, then the module's own checks."""
    rows = [row for row in csv.reader(io.StringIO(body)) if any(c.strip() for c in row)]
    matrix = getattr(module, "_to_matrix", None) or module._matrix
    return np.asarray(matrix(rows, "text/csv request"))


@pytest.mark.parametrize("module", MODULES)
def test_plain_csv_matches_the_checked_parse(module: ModuleType) -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(257, 6))
    X[:, 5] = rng.integers(0, 4, size=257)
    body = "\n".join(",".join(repr(float(v)) for v in row) for row in X) + "\n\n"
    for text in (body, body.replace("\n", "\r\n"), " 1.5, 2\n\n3,4e-3\n"):
        got = module.input_fn(text.encode(), "text/csv; charset=utf-8")
        np.testing.assert_array_equal(got, _checked(module, text))
    assert module._plain_csv(body) is not None


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("body", ["1,2\n3\n", "1,nan\n", "1,x\n", '"1",2\n', "1,2,\n", "\n \n"])
def test_bad_or_quoted_csv_takes_the_checked_path(module: ModuleType, body: str) -> None:
    assert module._plain_csv(body) is None
    if body.startswith('"'):
        np.testing.assert_array_equal(module.input_fn(body, "text/csv"), [[1.0, 2.0]])
        return
    with pytest.raises(ValueError) as fast:
        module.input_fn(body, "text/csv")
    with pytest.raises(ValueError) as checked:
        _checked(module, body)
    assert str(fast.value) == str(checked.value)


@pytest.mark.parametrize(("labels", "ids"), [
    (["0", "1", "1"], ["a-d001-h00#0", "a-d001-h00#1", "x y/z#2"]),
    ([0, 1, 2], ["r0", "r1", "r2"]),
    (["-1.25", "3.5e-07"], ["w00001-1767571200#0", "w00001-1767571200#1"]),
    (['say "hi"', "back\\slash"], ["q1", "q2"]),  # escaped by json.dumps
    (["café", "1"], ["id\t1", "id2"]),  # non-ASCII and control characters
    ([], []),
])
def test_ground_truth_jsonl_is_the_records_text(labels: list, ids: list[str]) -> None:
    from driftline_examples import traffic

    assert traffic.ground_truth_jsonl(labels, ids) == traffic.to_jsonl(traffic.ground_truth_records(labels, ids))
