"""EventBridge's PutEvents size limit in the offline runtime (256 KB of entries, sized as EventBridge sizes them)."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from samlocal.eventbridge import MAX_PUT_EVENTS_BYTES, put_events_entry_size


def _entry(detail_bytes: int, **extra):
    # {"p": "xxx..."} is 9 bytes of JSON around the padding
    return {"EventBusName": "fx-bus-dev", "Source": "fx", "DetailType": "Score Requested",
            "Detail": json.dumps({"p": "x" * (detail_bytes - 9)}), **extra}


def test_entry_size_is_computed_as_eventbridge_documents():
    entry = {"Source": "fx", "DetailType": "Score Requested", "Detail": '{"m": "é"}',
             "Resources": ["arn:aws:s3:::b", "ü"], "Time": 0}
    # Time 14 + source 2 + detail-type 15 + detail 11 (é is 2 bytes) + resources 14 + 2
    assert put_events_entry_size(entry) == 14 + 2 + 15 + 11 + 14 + 2
    assert len(_entry(1000)["Detail"]) == 1000


def test_put_events_over_256_kb_is_refused_and_delivers_nothing(stack):
    events = boto3.client("events", region_name="us-east-1")
    overhead = put_events_entry_size(_entry(9)) - 9
    at_limit = _entry(MAX_PUT_EVENTS_BYTES - overhead)
    assert put_events_entry_size(at_limit) == MAX_PUT_EVENTS_BYTES
    assert events.put_events(Entries=[at_limit])["FailedEntryCount"] == 0  # exactly 256 KB is accepted
    delivered = len(stack.runtime.deliveries)

    over = _entry(MAX_PUT_EVENTS_BYTES - overhead + 1)
    with pytest.raises(ClientError) as err:
        events.put_events(Entries=[over])
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert err.value.response["Error"]["Message"] == "Total size of the entries in the request is over the limit."

    # the limit is on the request's entries together: two halves that add up to more are refused too
    half = _entry((MAX_PUT_EVENTS_BYTES - 2 * overhead) // 2 + 1)
    with pytest.raises(ClientError, match="over the limit"):
        events.put_events(Entries=[half, half])
    # a multi-byte detail is measured in UTF-8 bytes, not characters
    wide = {**_entry(9), "Detail": json.dumps({"p": "é" * (MAX_PUT_EVENTS_BYTES // 2)}, ensure_ascii=False)}
    assert len(wide["Detail"]) < MAX_PUT_EVENTS_BYTES < put_events_entry_size(wide)
    with pytest.raises(ClientError, match="over the limit"):
        events.put_events(Entries=[wide])
    assert len(stack.runtime.deliveries) == delivered  # nothing refused reached a target
