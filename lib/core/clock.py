"""Time in one place: UTC for storage, Asia/Shanghai (UTC+8, no DST) for people."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

# China has not used daylight saving time since 1991, so a fixed offset is exact and
# needs no tz database on the machine.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
SHANGHAI_OFFSET_HOURS = 8


def utcnow() -> datetime:
    """Now, as a naive UTC datetime (how every TIMESTAMP column stores time).

    Truncated to microseconds like DuckDB, so a value read back compares equal."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def to_local(ts: datetime | None) -> datetime | None:
    """A stored (naive UTC) timestamp as Asia/Shanghai local time."""
    if ts is None:
        return None
    return ts.replace(tzinfo=timezone.utc).astimezone(SHANGHAI)


def local_today() -> date:
    return datetime.now(SHANGHAI).date()


def local_month_start_utc(now: datetime | None = None) -> datetime:
    """The first instant of the current Asia/Shanghai month, as naive UTC."""
    local = (now.replace(tzinfo=timezone.utc) if now else datetime.now(timezone.utc)).astimezone(SHANGHAI)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return start.astimezone(timezone.utc).replace(tzinfo=None)


def local_date_start_utc(d: date) -> datetime:
    """Midnight of local date ``d`` as naive UTC."""
    return datetime(d.year, d.month, d.day, tzinfo=SHANGHAI).astimezone(timezone.utc).replace(tzinfo=None)
