"""Simulated clock and EventBridge schedule expressions (``rate()`` / ``cron()`` / ``at()``).

The clock only moves forward. Wait states and retry back-off advance it instead of sleeping; the
stack advances it to fire schedules.

Example
-------
>>> from datetime import datetime, timezone
>>> s = Schedule.parse("rate(1 day)")
>>> t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
>>> [t.isoformat() for t in s.fire_times(t0, t0.replace(day=3), anchor=t0)]
['2024-01-02T00:00:00+00:00', '2024-01-03T00:00:00+00:00']
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = ["Schedule", "ScheduleError", "SimClock", "iso_z"]


def iso_z(t: datetime) -> str:
    """``2024-01-01T00:00:00Z`` (EventBridge's ``time`` format)."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SimClock:
    """A thread-safe, monotone simulated UTC clock."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime.now(UTC).replace(microsecond=0)
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, t: datetime) -> datetime:
        """Move to ``t`` if it is later than now; return the new now."""
        if t.tzinfo is None:
            t = t.replace(tzinfo=UTC)
        with self._lock:
            if t > self._now:
                self._now = t
            return self._now

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            if seconds > 0:
                self._now = self._now + timedelta(seconds=seconds)
            return self._now


class ScheduleError(ValueError):
    """A schedule expression the offline runtime cannot parse."""


_RATE_RE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_CRON_RE = re.compile(r"^cron\((.+)\)$")
_AT_RE = re.compile(r"^at\((\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTHS = {m: i + 1 for i, m in enumerate(_MONTH_NAMES)}
_DAYS = {d: i + 1 for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}


def _field(text: str, lo: int, hi: int, names: dict[str, int] | None = None) -> set[int] | None:
    """Parse one cron field into the allowed values; ``None`` means any (``*`` or ``?``)."""
    if text in ("*", "?"):
        return None
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = int(step_text)
        if part in ("*", ""):
            start, end = lo, hi
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = _value(a, names), _value(b, names)
        else:
            start = _value(part, names)
            end = hi if "/" in text else start
        if not (lo <= start <= hi and lo <= end <= hi):
            raise ScheduleError(f"cron field {text!r} out of range [{lo}, {hi}]")
        values.update(range(start, end + 1, step))
    return values


def _value(text: str, names: dict[str, int] | None) -> int:
    text = text.strip().upper()
    if names and text in names:
        return names[text]
    if not text.isdigit():
        raise ScheduleError(f"unsupported cron token {text!r} (L, W and # are not supported offline)")
    return int(text)


@dataclass(frozen=True)
class Schedule:
    """A parsed ``rate()``, ``cron()`` or ``at()`` expression."""

    expression: str
    kind: str
    period: timedelta | None = None
    cron: tuple | None = None
    at: datetime | None = None

    @classmethod
    def parse(cls, expression: str) -> Schedule:
        expr = expression.strip()
        m = _RATE_RE.match(expr)
        if m:
            n, unit = int(m.group(1)), m.group(2).rstrip("s")
            if n <= 0:
                raise ScheduleError(f"{expression!r}: the rate must be positive")
            return cls(expr, "rate", period=timedelta(seconds=n * _UNIT_SECONDS[unit]))
        m = _CRON_RE.match(expr)
        if m:
            parts = m.group(1).split()
            if len(parts) != 6:
                raise ScheduleError(f"{expression!r}: cron() takes 6 fields")
            minute, hour, dom, month, dow, year = parts
            cron = (
                _field(minute, 0, 59),
                _field(hour, 0, 23),
                _field(dom, 1, 31),
                _field(month, 1, 12, _MONTHS),
                _field(dow, 1, 7, _DAYS),
                _field(year, 1970, 2199),
            )
            return cls(expr, "cron", cron=cron)
        m = _AT_RE.match(expr)
        if m:
            return cls(expr, "at", at=datetime.fromisoformat(m.group(1)).replace(tzinfo=UTC))
        raise ScheduleError(f"unsupported schedule expression {expression!r}")

    def fire_times(self, after: datetime, until: datetime, *, anchor: datetime) -> list[datetime]:
        """Every firing time ``t`` with ``after < t <= until`` (``anchor``: when the rule was created)."""
        if self.kind == "rate":
            assert self.period is not None
            k = max(1, int((after - anchor) / self.period) + 1) if after >= anchor else 1
            out = []
            t = anchor + k * self.period
            while t <= after:
                t += self.period
            while t <= until:
                out.append(t)
                t += self.period
            return out
        if self.kind == "at":
            assert self.at is not None
            return [self.at] if after < self.at <= until else []
        return self._cron_times(after, until)

    def _cron_times(self, after: datetime, until: datetime) -> list[datetime]:
        assert self.cron is not None
        minutes, hours, doms, months, dows, years = self.cron
        out: list[datetime] = []
        day = after.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        while day <= until:
            cron_dow = (day.isoweekday() % 7) + 1  # SUN=1 .. SAT=7
            if (
                (years is None or day.year in years)
                and (months is None or day.month in months)
                and (doms is None or day.day in doms)
                and (dows is None or cron_dow in dows)
            ):
                for h in sorted(hours) if hours is not None else range(24):
                    for mi in sorted(minutes) if minutes is not None else range(60):
                        t = day.replace(hour=h, minute=mi)
                        if after < t <= until:
                            out.append(t)
            day += timedelta(days=1)
        return out
