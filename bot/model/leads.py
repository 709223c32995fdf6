"""Head to head: which of two sides leads week by week, and when the lead changed hands.

Pure: from each archived week's two shares (of one measure and attribution) to a ``Lead``
that says who leads in the last week, by how much, and every week the lead changed hands. A
change is strict, as in ``bot.model.crossovers``: the side that passes must be ahead, not
level; a week where both are level keeps the previous leader until one is strictly ahead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

FIRST, SECOND = 0, 1


@dataclass(frozen=True)
class Point:
    day: date
    first: float
    second: float

    @property
    def leader(self) -> int | None:
        """``FIRST`` or ``SECOND`` when one is strictly ahead, else None."""
        if self.first > self.second:
            return FIRST
        if self.second > self.first:
            return SECOND
        return None


@dataclass(frozen=True)
class Change:
    """``leader`` passed the other side in the week of ``day``; it was behind in the week of
    ``previous_day`` (the last week the other side was ahead)."""

    day: date
    previous_day: date
    leader: int


@dataclass(frozen=True)
class Lead:
    points: tuple[Point, ...]
    changes: tuple[Change, ...]

    @property
    def now(self) -> Point:
        return self.points[-1]

    @property
    def since(self) -> date:
        return self.points[0].day

    @property
    def gap(self) -> float:
        """How far the leader is ahead now (a difference of shares)."""
        return abs(self.now.first - self.now.second)

    @property
    def ratio(self) -> float | None:
        """The leader's share over the other's, when the other has any."""
        low, high = sorted((self.now.first, self.now.second))
        return high / low if low > 0 else None

    @property
    def led_throughout(self) -> int | None:
        """The side ahead in every week compared, if one was."""
        leaders = {point.leader for point in self.points}
        return leaders.pop() if len(leaders) == 1 else None


def compare(points: Sequence[Point]) -> Lead | None:
    """The lead over ``points`` (oldest first); None when there are none."""
    if not points:
        return None
    changes: list[Change] = []
    leader: int | None = None
    last_ahead: date | None = None
    for point in points:
        ahead = point.leader
        if ahead is None:
            continue
        if leader is not None and ahead != leader and last_ahead is not None:
            changes.append(Change(point.day, last_ahead, ahead))
        leader, last_ahead = ahead, point.day
    return Lead(tuple(points), tuple(changes))
