"""Extensions ``ddb_fast_attribute_values`` (DynamoDB ``AttributeValue`` in wire form serialised as is),
``ddb_fast_item_size`` (item sizes and copies in one pass) and ``ddb_fast_results`` (results converted in one pass,
each item sized once per query), ``ddb_query_prefilter`` and ``ddb_update_action_counts`` (see
:mod:`samlocal.moto_ext`)."""

from __future__ import annotations

import copy
import functools
import threading
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


def _fast_to_dict(original: Any, dynamo_type: type) -> Any:
    """moto's ``dynamo_to_dict`` with the common nodes (``DynamoType`` other than binary, plain dicts, lists and
    scalars) converted directly; anything else (binary, ``datetime``, objects with ``to_json``, subclasses) is
    handed to moto's own function, whose recursion comes back here."""

    def to_dict(obj: Any) -> Any:
        tp = type(obj)
        if tp is dynamo_type:
            t = obj.type
            if t == "B" or t == "BS":
                return original(obj)
            return {t: to_dict(obj.value)}
        if tp is dict:
            return {k: to_dict(v) for k, v in obj.items()}
        if tp is list:
            return [to_dict(v) for v in obj]
        if tp is str or tp is bool or tp is int or tp is float or obj is None:
            return obj
        return original(obj)

    return to_dict


#: item sizes computed during the calling thread's current ``Query``/``Scan`` (``id(item) -> bytes``)
_SIZES = threading.local()


def _install_ddb_fast_results(registry: RuntimeRegistry) -> None:
    import moto.dynamodb.models.utilities as utilities
    import moto.dynamodb.responses as responses
    from moto.dynamodb.models.dynamo_type import DynamoType, Item
    from moto.dynamodb.models.table import Table

    active = registry.current
    original_to_dict = utilities.dynamo_to_dict
    fast = _fast_to_dict(original_to_dict, DynamoType)

    def dynamo_to_dict(obj: Any) -> Any:
        return fast(obj) if active() is not None else original_to_dict(obj)

    dynamo_to_dict.original = original_to_dict  # type: ignore[attr-defined]  # moto's, for the differential test
    utilities.dynamo_to_dict = dynamo_to_dict  # moto's recursion goes through the module's name
    responses.dynamo_to_dict = dynamo_to_dict  # type: ignore[attr-defined]

    original_size = Item.size

    def size(self: Any) -> int:
        sizes = getattr(_SIZES, "sizes", None)
        if sizes is None:
            return original_size(self)
        key = id(self)
        got = sizes.get(key)
        if got is None:
            got = sizes[key] = original_size(self)
        return got

    Item.size = size  # type: ignore[method-assign]

    for name in ("query", "scan"):
        original = getattr(Table, name)

        @functools.wraps(original)  # its signature stays moto's (``ddb_query_prefilter`` binds arguments to it)
        def paged(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            # moto sizes each returned item twice (the 1 MB page limit, then the page's running total); within one
            # call (the backend's lock held, every item alive) an item's size is computed once
            if active() is None or getattr(_SIZES, "sizes", None) is not None:
                return _original(self, *args, **kwargs)
            _SIZES.sizes = {}
            try:
                return _original(self, *args, **kwargs)
            finally:
                _SIZES.sizes = None

        setattr(Table, name, paged)


#: the ``FilterExpression`` of the calling thread's current ``Query``, when moto may apply it before copying
_PREFILTER = threading.local()


def _projects_every_attribute(table: Any, index_name: str | None) -> bool:
    """Whether a query of ``index_name`` (``None``: the table) returns whole items (moto's ``SecondaryIndex.project``
    keeps every attribute unless the projection is ``KEYS_ONLY`` or ``INCLUDE``)."""
    if not index_name:
        return True
    index = {i.name: i for i in table.all_indexes()}.get(index_name)
    if index is None:
        return False  # moto's own error
    return not index.projection or index.projection.get("ProjectionType") not in ("KEYS_ONLY", "INCLUDE")


def _install_ddb_query_prefilter(registry: RuntimeRegistry) -> None:
    import inspect
    import types

    import moto.dynamodb.models.table as table_module
    from moto.dynamodb.models.table import Table

    active = registry.current
    real = table_module.copy

    def deepcopy(x: Any, memo: dict[int, Any] | None = None) -> Any:
        expr = getattr(_PREFILTER, "expr", None)
        if expr is not None and type(x) is list:  # ``Table.query``'s one copy: its page of results
            _PREFILTER.expr = None
            x = [item for item in x if expr.expr(item)]
        return real.deepcopy(x, memo)

    # the ``copy`` module as moto's table module sees it: ``copy.deepcopy(results)`` filters first during a query
    table_module.copy = types.SimpleNamespace(copy=real.copy, deepcopy=deepcopy)  # type: ignore[assignment]
    original = Table.query
    signature = inspect.signature(original)

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        if active() is None:
            return original(self, *args, **kwargs)
        given = signature.bind(self, *args, **kwargs).arguments
        expr = given.get("filter_expression")
        if expr is None or not _projects_every_attribute(self, given.get("index_name")):
            return original(self, *args, **kwargs)
        _PREFILTER.expr = expr
        try:
            return original(self, *args, **kwargs)
        finally:
            _PREFILTER.expr = None

    query.original = original  # type: ignore[attr-defined]
    Table.query = query  # type: ignore[method-assign]


def _install_ddb_update_action_counts(registry: RuntimeRegistry) -> None:
    """``UpdateItem``'s clause-count check in one pass. moto's ``ActionCountValidator`` visits every
    ``UpdateExpression`` node of the parsed expression (one per action: a run record's update of ~80 attributes is
    a chain of ~80) and, at each, walks its whole subtree three times (``find_clauses`` for ADD, REMOVE and SET):
    quadratic in the actions, ~1/3 of an ``UpdateItem`` of a run record. Each node's counts are now computed once per
    validation from its children's (the same recursion as ``find_clauses``), checked at the same nodes in the same
    order, so the same ``TooManyClauses`` is raised."""
    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.ast_nodes import (
        Expression,
        UpdateExpressionAddClause,
        UpdateExpressionFunction,
        UpdateExpressionRemoveClause,
        UpdateExpressionSetClause,
    )

    active = registry.current
    cls = validators.ActionCountValidator
    original_traverse, original_verify = cls.traverse, cls.verify_action_counts
    checks = ((UpdateExpressionAddClause, "ADD"), (UpdateExpressionRemoveClause, "REMOVE"),
              (UpdateExpressionSetClause, "SET"))
    nested = (Expression, UpdateExpressionFunction)

    def count(node: Any, clause: type, memo: dict[tuple[int, type], int]) -> int:
        key = (id(node), clause)
        n = memo.get(key)
        if n is None:
            n = 0
            for child in node.children or []:
                if type(child) is clause:
                    n += 1
                elif isinstance(child, nested):
                    n += count(child, clause, memo)
            memo[key] = n
        return n

    def traverse(self: Any, node: Any) -> Any:
        if active() is None:
            return original_traverse(self, node)
        self._driftline_counts = {}  # the nodes live (and keep their ids) for the whole traversal
        try:
            return original_traverse(self, node)
        finally:
            del self._driftline_counts

    def verify_action_counts(self: Any, node: Any) -> Any:
        memo = getattr(self, "_driftline_counts", None)
        if memo is None:
            return original_verify(self, node)
        for clause, name in checks:
            if count(node, clause, memo) > 1:
                raise validators.TooManyClauses(name)
        return node

    cls.traverse = traverse  # type: ignore[method-assign]
    cls.verify_action_counts = verify_action_counts  # type: ignore[method-assign]
