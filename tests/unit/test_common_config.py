"""The model config is validated on write and on read, with messages naming every wrong field."""

from __future__ import annotations

import copy
import json

import pytest
from driftline_common.config import parse_config
from driftline_common.errors import InvalidModelConfig

from tests.conftest import ROOT

VALID = json.loads((ROOT / "tests" / "fixtures" / "model_config_binary.json").read_text())


def mutated(**changes):
    cfg = copy.deepcopy(VALID)
    for path, value in changes.items():
        node = cfg
        keys = path.split("__")
        for k in keys[:-1]:
            node = node[k]
        if value is KeyError:
            del node[keys[-1]]
        else:
            node[keys[-1]] = value
    return cfg


def test_valid_config_round_trips() -> None:
    cfg = parse_config(VALID)
    assert cfg.model_id == "example-classifier"
    assert cfg.positive_label == "1"
    again = parse_config(cfg.to_item())
    assert again == cfg


def test_positive_label_defaults_to_second_label() -> None:
    cfg = parse_config(mutated(positiveLabel=KeyError))
    assert cfg.positive_label == "1"


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"modelId": "bad id!"}, "modelId"),
        ({"problemType": "ranking"}, "problemType"),
        ({"dataCapture__s3Uri": "http://x/y"}, "dataCapture.s3Uri"),
        ({"features": []}, "features"),
        ({"labels": ["0", "1", "2"]}, "exactly two labels"),
        ({"positiveLabel": "yes"}, "positiveLabel"),
        ({"thresholds": [{"metric": "rmse", "max": 1.0}]}, "does not apply to a binary model"),
        ({"thresholds": [{"metric": "accuracy"}]}, "needs 'min' or 'max'"),
        ({"retrainPolicy__consecutiveBreaches": 0}, "consecutiveBreaches"),
        ({"drift__alpha": 1.5}, "drift.alpha"),
        ({"unknownField": 1}, "unknownField"),
        ({"training": KeyError}, "training"),
        ({"features": [{"name": "a"}, {"name": "a"}]}, "duplicate feature names"),
    ],
)
def test_invalid_configs_name_what_was_wrong(changes, fragment) -> None:
    with pytest.raises(InvalidModelConfig) as err:
        parse_config(mutated(**changes))
    assert fragment in str(err.value)
    assert err.value.details["problems"]


def test_non_object_config_is_rejected() -> None:
    with pytest.raises(InvalidModelConfig, match="JSON object"):
        parse_config(["not", "a", "dict"])


def test_model_id_must_match_the_key() -> None:
    with pytest.raises(InvalidModelConfig, match="does not match"):
        parse_config(VALID, model_id="other-model")
