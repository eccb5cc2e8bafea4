"""Extension ``ddb_fast_attribute_values``: DynamoDB ``AttributeValue`` in wire form serialised as is
(see :mod:`samlocal.moto_ext`)."""

from __future__ import annotations

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
