"""A failed run is reported in one line: the typed error, not the stack trace or the interpreter's internals."""

from __future__ import annotations

import json

from driftline_offline.demo import one_line_error


def test_a_lambda_error_envelope_becomes_its_type_and_message():
    envelope = {"errorType": "ModelNotFound", "errorMessage": "no model 'm1' is registered",
                "stackTrace": ["  File \"/moto/stepfunctions/parser/...\", line 1\n" * 500]}
    cause = "States.TaskFailed: " + json.dumps(envelope)
    assert len(cause) > 20_000
    assert one_line_error(cause) == "States.TaskFailed: ModelNotFound: no model 'm1' is registered"


def test_a_long_or_multiline_error_is_cut_to_one_line():
    text = "RuntimeError: " + "x" * 1000 + "\nTraceback (most recent call last):\n" + "frame\n" * 1000
    line = one_line_error(text)
    assert "\n" not in line
    assert len(line) <= 240
    assert line.startswith("RuntimeError: xxx")
    assert one_line_error("") == "unknown error"
