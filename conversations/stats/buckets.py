"""The dashboard's time buckets: consecutive, aligned on the local clock, the last one holding now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from django.utils import timezone


@dataclass(frozen=True)
class Buckets:
    """`count` consecutive time buckets of `size`, the first starting at `start` (UTC)."""

    start: datetime
    size: timedelta
    count: int

    @property
    def end(self) -> datetime:
        return self.start + self.size * self.count

    def edges(self) -> list[tuple[datetime, datetime]]:
        return [(self.start + self.size * i, self.start + self.size * (i + 1)) for i in range(self.count)]

    def index(self, moment: datetime) -> int | None:
        """Which bucket holds `moment` (None outside them all)."""
        if moment < self.start or moment >= self.end:
            return None
        return int((moment - self.start) // self.size)


def buckets_ending_now(*, now: datetime, size: timedelta, count: int, tz: tzinfo | None = None) -> Buckets:
    """The last `count` buckets of `size`, aligned on local clock boundaries, the last one holding `now`.

    Aligned buckets (10:05, 10:10, ... or 06:00, 12:00, ...) read better than
    buckets that end at whatever second the page was opened; the last one is
    still filling.
    """
    local = timezone.localtime(now, tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    floored = midnight + size * ((local - midnight) // size)
    end = floored.astimezone(UTC) + size
    return Buckets(start=end - size * count, size=size, count=count)

