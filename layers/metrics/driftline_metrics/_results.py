"""SciPy-style result objects: tuples that also carry their fields as attributes (numpy only).

As SciPy's ``_make_tuple_bunch``: the result unpacks, indexes and compares as the tuple of its
``_fields``; ``_extra_fields`` are attributes only (``KstestResult`` unpacks as
``(statistic, pvalue)`` and carries ``statistic_location`` / ``statistic_sign``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["TupleBunch"]


class TupleBunch(tuple):
    _fields: tuple[str, ...] = ()
    _extra_fields: tuple[str, ...] = ()

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        names = cls._fields + cls._extra_fields
        if len(args) > len(names):
            raise TypeError(f"{cls.__name__}() takes {len(names)} arguments, got {len(args)}")
        values = dict(zip(names, args, strict=False))
        for name, value in kwargs.items():
            if name not in names or name in values:
                raise TypeError(f"{cls.__name__}() got an unexpected or repeated argument {name!r}")
            values[name] = value
        missing = [n for n in names if n not in values]
        if missing:
            raise TypeError(f"{cls.__name__}() missing arguments: {missing}")
        self = super().__new__(cls, tuple(values[n] for n in cls._fields))
        self.__dict__.update({n: values[n] for n in cls._extra_fields})
        return self

    def __getattr__(self, name: str) -> Any:
        fields = type(self)._fields
        if name in fields:
            return self[fields.index(name)]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __getnewargs__(self) -> tuple[Any, ...]:
        return tuple(self) + tuple(self.__dict__[n] for n in self._extra_fields)

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        items = [f"{n}={v!r}" for n, v in zip(self._fields, self, strict=True)]
        items += [f"{n}={self.__dict__[n]!r}" for n in self._extra_fields]
        return f"{type(self).__name__}({', '.join(items)})"

    def _asdict(self) -> dict[str, Any]:
        return {n: getattr(self, n) for n in self._fields + self._extra_fields}
