"""Generators of malformed input for the handler fuzz tests: JSON of any shape, odd strings, odd times, ids."""

from __future__ import annotations

import copy
import math
from typing import Any

from hypothesis import strategies as st

#: strings a handler meets at its edge: empty, huge, control characters, lone surrogates, RTL marks, paths
ODD_STRINGS = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "\x00", "\ud800", "\u202e", "../../etc/passwd", "a/b", "s3://", "s3://other-bucket/x",
                     "NaN", "null", "true", "1e309", "9" * 50, "é" * 10, "🙂" * 5, "%2F", "runs/../datacapture"]),
    st.integers(1, 5000).map(lambda n: "x" * n),
)
ODD_NUMBERS = st.one_of(
    st.integers(), st.integers(min_value=-(10**40), max_value=10**40), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 10**400, 1e-320, math.nan, math.inf, -math.inf, True, False]),
)
SCALARS = st.one_of(st.none(), st.booleans(), ODD_NUMBERS, ODD_STRINGS)
JSON = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                    st.dictionaries(ODD_STRINGS, inner, max_size=4)), max_leaves=12)
EDGE_TIMES = st.sampled_from(["0001-01-01", "9999-12-31", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00+05:00",
                              "0999-06-01T00:00:00Z", "2025-13-01T00:00:00Z", "1970-01-01T00:00:00Z",
                              "2199-12-31T23:00:00Z", "yesterday", ""])
TIMES = st.one_of(
    EDGE_TIMES,
    st.sampled_from(["2025-01-02T00:00:00Z", "2025-01-01T00:00:00Z", "2025-01-02"]),
    st.datetimes().map(lambda d: d.isoformat()),
    SCALARS,
)
MODEL_IDS = st.one_of(st.sampled_from(["example-classifier", "not-registered", "m" * 3000, "a/b", "", "-x"]),
                      ODD_STRINGS, SCALARS)
RUN_IDS = st.one_of(st.sampled_from(["run-fuzz-1", "r" * 3000, "a/b", "../x", ""]), ODD_STRINGS, SCALARS)
RUN = st.fixed_dictionaries(
    {"modelId": MODEL_IDS, "runId": RUN_IDS,
     "window": st.one_of(st.fixed_dictionaries({"start": TIMES, "end": TIMES}), JSON)},
    optional={"problemType": st.one_of(st.sampled_from(["binary", "multiclass", "regression"]), SCALARS),
              "sharded": st.one_of(st.booleans(), SCALARS), "configVersion": ODD_NUMBERS},
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a JSON value (dict keys and list indices)."""
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(paths(v, (*prefix, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(paths(v, (*prefix, i)))
    return out


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any], *, keep: tuple[str, ...] = ("action",)) -> dict[str, Any]:
    """``base`` with 1-4 random mutations: a value replaced by any JSON, a key deleted, a key added."""
    event = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 4))):
        candidates = [p for p in paths(event) if p[0] not in keep]
        if not candidates:
            break
        path = draw(st.sampled_from(candidates))
        parent: Any = event
        for step in path[:-1]:
            parent = parent[step]
        kind = draw(st.sampled_from(["replace", "scalar", "delete", "add", "time", "id", "wrap"]))
        if kind == "delete":
            del parent[path[-1]]
        elif kind == "scalar":  # type confusion: an object or a list where a string was, and the reverse
            parent[path[-1]] = draw(st.one_of(SCALARS, st.just({}), st.just([])))
        elif kind == "wrap":
            parent[path[-1]] = [parent[path[-1]]]
        elif kind == "add" and isinstance(parent, dict):
            parent[draw(ODD_STRINGS)] = draw(JSON)
        elif kind == "time":
            parent[path[-1]] = draw(TIMES)
        elif kind == "id":
            parent[path[-1]] = draw(MODEL_IDS)
        else:
            parent[path[-1]] = draw(JSON)
    return event


@st.composite
def odd_numbers_in(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """``base`` with one to three of its numeric or boolean leaves set to an odd number (or a boolean)."""
    event = copy.deepcopy(base)
    leaves = [p for p in paths(event) if _leaf_is_number(event, p)]
    for path in draw(st.lists(st.sampled_from(leaves), min_size=1, max_size=3, unique=True)):
        parent: Any = event
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = draw(ODD_NUMBERS)
    return event


def _leaf_is_number(value: Any, path: tuple[Any, ...]) -> bool:
    for step in path:
        value = value[step]
    return isinstance(value, int | float)
