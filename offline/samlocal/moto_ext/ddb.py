"""Extensions ``ddb_fast_attribute_values`` (DynamoDB ``AttributeValue`` in wire form serialised as is) and
``ddb_fast_item_size`` (item sizes and copies in one pass) (see :mod:`samlocal.moto_ext`)."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..registry import RuntimeRegistry


class _NotPlain(Exception):
    """An ``AttributeValue`` the fast path does not handle (the generic serializer does)."""


def _plain_attribute_value(value: Any) -> dict[str, Any]:
    """The JSON wire form of a DynamoDB ``AttributeValue`` given as moto's plain dict.

    Exactly what moto's ``BaseJSONSerializer`` makes of it: ``None`` members are left out, ``None`` map values
    dropped, ``None`` list items kept; raises :class:`_NotPlain` for anything else (binary ``B``/``BS``,
    unknown keys, non-string scalars), which then goes through the generic serializer.
    """
    if type(value) is not dict:
        raise _NotPlain
    out: dict[str, Any] = {}
    for k, x in value.items():
        if x is None:
            continue
        if k == "S" or k == "N":
            if type(x) is not str:
                raise _NotPlain
            out[k] = x
        elif k == "BOOL" or k == "NULL":
            out[k] = x
        elif k == "M":
            if type(x) is not dict:
                raise _NotPlain
            out[k] = {mk: _plain_attribute_value(mv) for mk, mv in x.items() if mv is not None}
        elif k == "L":
            if type(x) is not list:
                raise _NotPlain
            out[k] = [None if item is None else _plain_attribute_value(item) for item in x]
        elif k == "SS" or k == "NS":
            if type(x) is not list or any(type(item) is not str for item in x):
                raise _NotPlain
            out[k] = list(x)
        else:
            raise _NotPlain
    return out


def _install_ddb_fast_attribute_values(registry: RuntimeRegistry) -> None:
    from moto.core.serialize import BaseJSONSerializer

    active = registry.current

    original = BaseJSONSerializer._serialize_type_structure

    def _serialize_type_structure(self, serialized, value, shape, key):  # type: ignore[no-untyped-def]
        if (key and shape.name == "AttributeValue" and type(value) is dict and active() is not None
                and self.operation_model.service_model.service_name == "dynamodb"
                and not getattr(self._value_picker, "response_transformers", None)):
            try:
                plain = _plain_attribute_value(value)
            except _NotPlain:
                pass
            else:
                self._default_serialize(serialized, plain, shape, key)
                return None
        return original(self, serialized, value, shape, key)

    BaseJSONSerializer._serialize_type_structure = _serialize_type_structure  # type: ignore[method-assign]


def _size(t: str, v: Any) -> int:
    """``DynamoType(t, v).size()`` in one pass (moto re-wraps every map value, so nested maps cost O(n·depth))."""
    if t == "N":
        return len(str(v))
    if t in ("SS", "NS", "BS"):
        return sum(_size(t[0], x) for x in v)
    if t == "L":
        return sum(_size(x.type, x.value) if type(x) is _DYNAMO_TYPE[0] else _wrapped_size(x) for x in v)
    if t == "M":
        return sum(len(k.encode("utf-8")) + (_size(x.type, x.value) if type(x) is _DYNAMO_TYPE[0]
                                              else _wrapped_size(x)) for k, x in v.items())
    if isinstance(v, bool):
        return 1
    return len(v if isinstance(v, bytes) else v.encode("utf-8"))


def _wrapped_size(x: Any) -> int:
    d = _DYNAMO_TYPE[0](x)
    return _size(d.type, d.value)


def _copy(x: Any) -> Any:
    """A DynamoType tree copied as moto's ``__deepcopy__`` copies it (lists and maps of fresh nodes, set values
    as new lists, scalars shared), without the ``copy.deepcopy`` dispatch and memo per node."""
    cls = _DYNAMO_TYPE[0]
    if type(x) is not cls:
        return copy.deepcopy(x)
    out = cls.__new__(cls)
    t, v = x.type, x.value
    out.type = t
    if t == "L":
        out.value = [_copy(e) for e in v]
    elif t == "M":
        out.value = {k: _copy(e) for k, e in v.items()}
    elif t in ("SS", "NS", "BS"):
        out.value = list(v)
    else:
        out.value = v
    return out


_DYNAMO_TYPE: list[Any] = []


def _install_ddb_fast_item_size(registry: RuntimeRegistry) -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    _DYNAMO_TYPE.append(DynamoType)
    original_size, original_copy = DynamoType.size, DynamoType.__deepcopy__

    def size(self: Any) -> int:
        return _size(self.type, self.value)

    def deepcopy(self: Any, memo: dict[int, Any]) -> Any:
        return _copy(self)

    size.original = original_size  # type: ignore[attr-defined]  # moto's, for the differential test
    deepcopy.original = original_copy  # type: ignore[attr-defined]
    DynamoType.size = size  # type: ignore[method-assign]
    DynamoType.__deepcopy__ = deepcopy  # type: ignore[method-assign]
