"""Stand-ins a test plugs into an engine: a :class:`Clock` it sets and moves, and a
:class:`Recorder` that keeps everything observers hear.

>>> clock = Clock("2026-11-11T10:00:00+08:00")
>>> clock.move(minutes=30)
>>> clock().isoformat()
'2026-11-11T10:30:00+08:00'
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ..events import Alert, OrderEvent
from ..games import GameEvent
from ..hookspecs import hookimpl

__all__ = ["Clock", "Recorder"]


class Clock:
    """A clock a test sets (``clock.now = …``) and moves (``clock.move(hours=1)``);
    pass it as an engine's ``clock``. ``now`` is an ISO 8601 text or a datetime."""

    def __init__(self, now: datetime | str) -> None:
        self.now = datetime.fromisoformat(now) if isinstance(now, str) else now

    def __call__(self) -> datetime:
        return self.now

    def move(self, **delta: float) -> None:
        """Move the clock by ``timedelta(**delta)`` (``minutes=30``, ``seconds=-1``)."""
        self.now += timedelta(**delta)


class Recorder:
    """A plugin that keeps every order event, alert and game event, in order; pass
    it in an engine's plugins (``engine_from_toml(text, plugins=[recorder])``)."""

    def __init__(self) -> None:
        self.orders: list[OrderEvent] = []
        """Every ``promokit_order_event``."""
        self.alerts: list[Alert] = []
        """Every ``promokit_alert``."""
        self.games: list[GameEvent] = []
        """Every ``promokit_game_event``."""

    @hookimpl
    def promokit_order_event(self, event: OrderEvent) -> None:
        self.orders.append(event)

    @hookimpl
    def promokit_alert(self, alert: Alert) -> None:
        self.alerts.append(alert)

    @hookimpl
    def promokit_game_event(self, event: GameEvent) -> None:
        self.games.append(event)

    def names(self, *, skip: tuple[str, ...] = ()) -> list[str]:
        """The names of the game events heard, in order, but those in ``skip``."""
        return [event.event for event in self.games if event.event not in skip]

    def of(self, name: str) -> list[GameEvent]:
        """The game events named ``name``, in order."""
        return [event for event in self.games if event.event == name]

    def named(self, *names: str) -> list[tuple[str, str | None, dict[str, Any]]]:
        """``(name, customer, data)`` of the game events named one of ``names`` (of
        every game event, without ``names``)."""
        return [(event.event, event.customer, dict(event.data)) for event in self.games
                if not names or event.event in names]
