"""Property-based tests of what users hand Driftline as data: model configs and SageMaker capture lines.

* A config is either refused with ``InvalidModelConfig`` or it is one that DynamoDB stores, that reads back
  equal, and that serialises as strict JSON — validation holds for what is stored (issue 8.4).
* A window whose capture file mixes good records with garbage (random JSON, truncated lines, wrong encodings,
  huge and odd strings) is evaluated on its good rows with the rest counted as bad records, or refused with a
  typed error; nothing is written outside the run's prefix.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from driftline_common.config import parse_config
from driftline_common.errors import DriftlineError, InvalidModelConfig
from driftline_common.settings import Settings
from driftline_common.store import ModelStore
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import load_event
from tests.fuzz._strategies import JSON, ODD_STRINGS, mutated, odd_numbers_in
from tests.fuzz.conftest import BUCKET, CAPTURE, CONFIG, EXAMPLES, GT, s3, typed_or_result
from tests.fuzz.test_handlers_fuzz import FUZZ
from tests.unit.test_datasets import capture_line, gt_line


def _strict(name: str) -> None:
    raise AssertionError(f"bare {name} in a stored config")


@FUZZ
@given(cfg=st.one_of(mutated(CONFIG, keep=()), odd_numbers_in(CONFIG)))
def test_an_accepted_config_is_one_dynamodb_stores_and_gives_back(world: dict[str, str], cfg: dict[str, Any]) -> None:
    try:
        parsed = parse_config(cfg)
    except InvalidModelConfig as exc:
        refused = exc
    else:
        refused = None
    if refused is not None:
        assert refused.details["problems"]
        json.dumps(refused.to_dict(), allow_nan=False, default=str)  # the 400's body is strict JSON too
        return
    models = ModelStore(Settings.from_env())
    models.put_config(parsed)  # DynamoDB accepts every number and string of an accepted config
    assert models.get_config(parsed.model_id) == parsed
    json.loads(json.dumps(parsed.to_item(), allow_nan=False), parse_constant=_strict)


GOOD = 40


def _good_lines() -> list[str]:
    return [capture_line(f"ev-{i}", [0.1 * i, 0.2, 0.3, 0.4, 0.5, str(i % 3)], repr(0.01 + i / 50), iid=f"inf-{i}",
                         when="2025-01-01T02:10:00Z") for i in range(GOOD)]


#: lines that are no Data Capture record: a handler must count them, never score them or fail on them
GARBAGE = st.one_of(
    JSON.map(json.dumps),
    st.text(min_size=1, max_size=300).filter(lambda s: s.strip() and "\n" not in s and "\r" not in s),
    st.sampled_from(_good_lines()).flatmap(lambda line: st.integers(1, len(line) - 2).map(lambda n: line[:n])),
    st.fixed_dictionaries({"captureData": JSON, "eventMetadata": JSON}).map(json.dumps),
    st.tuples(ODD_STRINGS, st.sampled_from(["CSV", "JSON", "BASE64", "XML", ""])).map(
        lambda t: json.dumps({"captureData": {"endpointInput": {"data": t[0], "encoding": t[1]},
                                              "endpointOutput": {"data": t[0], "encoding": t[1]}},
                              "eventMetadata": {"eventId": "garbage"}})),
    st.just(json.dumps({"captureData": {"endpointInput": {"data": base64.b64encode(b"\xff\xfe").decode(),
                                                          "encoding": "BASE64", "observedContentType": "text/csv"},
                                        "endpointOutput": {"data": "%%%", "encoding": "BASE64"}},
                        "eventMetadata": {"eventId": "bad-b64"}})),
)


def _bad_count(value: Any) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, dict):
        return sum(_bad_count(v) for v in value.values())
    return 0


@settings(FUZZ, max_examples=EXAMPLES // 2)
@given(garbage=st.lists(GARBAGE, min_size=1, max_size=8), seed=st.randoms(use_true_random=False))
def test_garbage_capture_lines_are_counted_not_scored(world: dict[str, str], garbage: list[str], seed: Any) -> None:
    from metric_evaluator.handler import lambda_handler

    lines = _good_lines() + garbage
    seed.shuffle(lines)
    s3().put_object(Bucket=BUCKET, Key=f"{CAPTURE}/02/capture.jsonl", Body="\n".join(lines).encode())
    s3().put_object(Bucket=BUCKET, Key=f"{GT}/04/labels.jsonl",
                    Body="\n".join(gt_line(f"inf-{i}", i % 2) for i in range(GOOD)).encode())
    event = load_event("metric_evaluator_evaluate.json")
    run = event["run"]
    out = typed_or_result(lambda_handler, event, (f"runs/{run['modelId']}/{run['runId']}/",))
    if isinstance(out, DriftlineError):
        return
    assert out["sampleSize"] == GOOD
    assert _bad_count(out["badRecords"].get("capture")) >= len(garbage) - sum(
        1 for g in garbage if _scoreable_by_accident(g))


def _scoreable_by_accident(line: str) -> bool:
    """A generated line that happens to be a whole record (a truncation cannot be, random JSON hardly is)."""
    try:
        doc = json.loads(line)
    except ValueError:
        return False
    return isinstance(doc, dict) and isinstance(doc.get("captureData"), dict) and \
        isinstance(doc.get("eventMetadata"), dict) and bool(doc["eventMetadata"].get("eventId"))
