"""Read CloudFormation / SAM templates, short-form tags included.

``!Ref X`` becomes ``{"Ref": "X"}``, ``!GetAtt A.B`` becomes ``{"Fn::GetAtt": ["A", "B"]}`` and every
other short form ``!Name v`` becomes ``{"Fn::Name": v}``, which is exactly the long form, so the
rest of the runtime only deals with long forms.

Example
-------
>>> load_template_text("A: !GetAtt Fn.Arn")
{'A': {'Fn::GetAtt': ['Fn', 'Arn']}}
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

__all__ = ["load_template", "load_template_text"]

_FN_TAGS = (
    "Base64",
    "Cidr",
    "FindInMap",
    "GetAZs",
    "ImportValue",
    "Join",
    "Select",
    "Split",
    "Sub",
    "Transform",
    "And",
    "Equals",
    "If",
    "Not",
    "Or",
    "Length",
    "ToJsonString",
)


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader plus the CloudFormation short-form intrinsic tags."""


def _construct_any(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]


def _ref(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    return {"Ref": _construct_any(loader, node)}


def _condition(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    return {"Condition": _construct_any(loader, node)}


def _get_att(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    value = _construct_any(loader, node)
    if isinstance(value, str):
        resource, _, attribute = value.partition(".")
        value = [resource, attribute]
    return {"Fn::GetAtt": value}


def _make_fn(name: str):
    def _construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        return {f"Fn::{name}": _construct_any(loader, node)}

    return _construct


_CfnLoader.add_constructor("!Ref", _ref)
_CfnLoader.add_constructor("!Condition", _condition)
_CfnLoader.add_constructor("!GetAtt", _get_att)
for _name in _FN_TAGS:
    _CfnLoader.add_constructor(f"!{_name}", _make_fn(_name))


def load_template_text(text: str) -> dict[str, Any]:
    """Parse template text (YAML or JSON) into a dict with long-form intrinsics."""
    data = yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    if not isinstance(data, dict):
        raise ValueError("a CloudFormation template must be a mapping at the top level")
    return data


#: parsed templates by (path, modification time, size): PyYAML takes ~0.3 CPU-s for the pipeline's template, and
#: a test suite deploys the same file hundreds of times
_PARSED: dict[tuple[str, int, int], dict[str, Any]] = {}


def load_template(path: str | Path) -> dict[str, Any]:
    """Read and parse the template file at ``path`` (a fresh copy each call: callers may change it)."""
    resolved = Path(path).resolve()
    stat = resolved.stat()
    key = (str(resolved), stat.st_mtime_ns, stat.st_size)
    parsed = _PARSED.get(key)
    if parsed is None:
        parsed = load_template_text(resolved.read_text(encoding="utf-8"))
        if len(_PARSED) >= 16:
            _PARSED.clear()
        _PARSED[key] = parsed
    return copy.deepcopy(parsed)
