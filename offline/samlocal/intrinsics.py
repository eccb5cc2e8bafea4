"""Resolve CloudFormation intrinsic functions against an offline stack.

Supported: ``Ref`` (parameters, pseudo parameters, resources), ``Fn::GetAtt``, ``Fn::Sub`` (string and
``[string, vars]`` forms, ``${!Literal}`` escapes), ``Fn::Join``, ``Fn::Select``, ``Fn::Split``,
``Fn::If`` / ``Fn::Equals`` / ``Fn::Not`` / ``Fn::And`` / ``Fn::Or`` / ``Condition``, ``Fn::FindInMap``,
``Fn::Base64``, ``Fn::GetAZs``, ``Fn::ToJsonString`` and ``Fn::ImportValue`` (from an ``imports``
mapping given to the stack; an unknown export is an error, never a silent empty string).
``AWS::NoValue`` removes the key or list item that holds it.

Example
-------
>>> r = Resolver(parameters={"Stage": "dev"}, region="us-east-1", account_id="123456789012")
>>> r.resolve({"Fn::Sub": "app-${Stage}-${AWS::Region}"})
'app-dev-us-east-1'
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["NO_VALUE", "IntrinsicError", "Resolver"]


class IntrinsicError(ValueError):
    """An intrinsic function cannot be resolved offline (unknown name, bad shape)."""


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()

_SUB_RE = re.compile(r"\$\{([^}]*)\}")


class Resolver:
    """Evaluate intrinsics. ``ref`` / ``get_att`` callbacks give resources' physical values."""

    def __init__(
        self,
        *,
        parameters: Mapping[str, Any] | None = None,
        conditions: Mapping[str, Any] | None = None,
        mappings: Mapping[str, Any] | None = None,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        stack_name: str = "samlocal",
        ref: Callable[[str], Any] | None = None,
        get_att: Callable[[str, str], Any] | None = None,
        imports: Mapping[str, Any] | None = None,
    ) -> None:
        self.parameters = dict(parameters or {})
        self.raw_conditions = dict(conditions or {})
        self.mappings = dict(mappings or {})
        self.region = region
        self.account_id = account_id
        self.stack_name = stack_name
        self._ref = ref
        self._get_att = get_att
        self.imports = dict(imports or {})
        self._condition_cache: dict[str, bool] = {}

    # -- pseudo parameters --------------------------------------------------------------------
    def pseudo(self, name: str) -> Any:
        table = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.stack_name,
            "AWS::StackId": (
                f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/{self.stack_name}/offline"
            ),
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }
        if name not in table:
            raise IntrinsicError(f"unknown pseudo parameter {name!r}")
        return table[name]

    def ref(self, name: str) -> Any:
        if name.startswith("AWS::"):
            return self.pseudo(name)
        if name in self.parameters:
            return self.parameters[name]
        if self._ref is None:
            raise IntrinsicError(f"Ref to unknown name {name!r}")
        return self._ref(name)

    def get_att(self, logical_id: str, attribute: str) -> Any:
        if self._get_att is None:
            raise IntrinsicError(f"Fn::GetAtt {logical_id}.{attribute}: no resources known")
        return self._get_att(logical_id, attribute)

    # -- conditions -----------------------------------------------------------------------------
    def condition(self, name: str) -> bool:
        if name not in self._condition_cache:
            if name not in self.raw_conditions:
                raise IntrinsicError(f"unknown condition {name!r}")
            self._condition_cache[name] = bool(self.resolve(self.raw_conditions[name]))
        return self._condition_cache[name]

    # -- evaluation -----------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        """Return ``value`` with every intrinsic evaluated (``AWS::NoValue`` entries dropped)."""
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return self.ref(self.resolve(arg))
            if key == "Condition" and isinstance(arg, str):
                return self.condition(arg)
            if key.startswith("Fn::"):
                return self._fn(key[4:], arg)
        out = {}
        for k, v in value.items():
            rv = self.resolve(v)
            if rv is not NO_VALUE:
                out[k] = rv
        return out

    def _fn(self, name: str, arg: Any) -> Any:
        if name == "GetAtt":
            if isinstance(arg, str):
                arg = arg.split(".", 1)
            logical_id, attribute = self.resolve(arg[0]), self.resolve(arg[1])
            return self.get_att(logical_id, attribute)
        if name == "Sub":
            return self._sub(arg)
        if name == "Join":
            sep, items = arg
            items = self.resolve(items)
            return self.resolve(sep).join(str(i) for i in items)
        if name == "Select":
            index, items = self.resolve(arg[0]), self.resolve(arg[1])
            return items[int(index)]
        if name == "Split":
            sep, text = self.resolve(arg[0]), self.resolve(arg[1])
            return text.split(sep)
        if name == "If":
            cond, when_true, when_false = arg
            return self.resolve(when_true if self.condition(cond) else when_false)
        if name == "Equals":
            a, b = self.resolve(arg[0]), self.resolve(arg[1])
            return str(a) == str(b)
        if name == "Not":
            return not self._truth(arg[0])
        if name == "And":
            return all(self._truth(a) for a in arg)
        if name == "Or":
            return any(self._truth(a) for a in arg)
        if name == "FindInMap":
            m, k1, k2 = (self.resolve(a) for a in arg[:3])
            try:
                return self.mappings[m][k1][k2]
            except KeyError as exc:
                if len(arg) > 3 and isinstance(arg[3], dict) and "DefaultValue" in arg[3]:
                    return self.resolve(arg[3]["DefaultValue"])
                raise IntrinsicError(f"Fn::FindInMap: no {m}/{k1}/{k2} in Mappings") from exc
        if name == "Base64":
            return base64.b64encode(str(self.resolve(arg)).encode()).decode()
        if name == "GetAZs":
            return [f"{self.region}{s}" for s in "abc"]
        if name == "ToJsonString":
            return json.dumps(self.resolve(arg), separators=(",", ":"))
        if name == "Length":
            return len(self.resolve(arg))
        if name == "ImportValue":
            export = self.resolve(arg)
            if export not in self.imports:
                raise IntrinsicError(
                    f"Fn::ImportValue {export!r}: no such export offline; pass it in imports={{...}}"
                )
            return self.imports[export]
        raise IntrinsicError(f"unsupported intrinsic Fn::{name}")

    def _truth(self, arg: Any) -> bool:
        if isinstance(arg, dict) and set(arg) == {"Condition"}:
            return self.condition(arg["Condition"])
        return bool(self.resolve(arg))

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            template, variables = arg[0], self.resolve(arg[1]) if len(arg) > 1 else {}
        else:
            template, variables = arg, {}
        template = self.resolve(template)

        def _replace(match: re.Match[str]) -> str:
            expr = match.group(1)
            if expr.startswith("!"):
                return "${" + expr[1:] + "}"
            expr = expr.strip()
            if expr in variables:
                value = variables[expr]
            elif "." in expr and not expr.startswith("AWS::"):
                logical_id, attribute = expr.split(".", 1)
                value = self.get_att(logical_id, attribute)
            else:
                value = self.ref(expr)
            if isinstance(value, list):
                value = ",".join(str(v) for v in value)
            return str(value)

        return _SUB_RE.sub(_replace, template)
