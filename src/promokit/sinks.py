"""Where outbox events go: the :class:`Sink` interface and its declaration.

The store's outbox (:data:`promokit.events.OUTBOX`) holds every event, written
atomically with the change that caused it; a dispatcher
(:class:`promokit.delivery.Dispatcher`, ``promokit dispatch``) hands them, in
order, to sinks. A sink delivers one event at a time:

- it returns when the event was delivered (and may be delivered again: every
  event carries a stable ``id`` for the receiver to deduplicate on);
- it raises :class:`~promokit.errors.DeliveryError` when it gave up on the event
  (its retries ran out, or the receiver refused it for good): the dispatcher
  writes a dead-letter record and moves on;
- any other exception stops the dispatcher before the event, which is delivered
  again on the next round.

Plugins declare sink backends with ``promokit_register_sinks``; a backend opens a
sink for a URL of one of its schemes (``https://…`` → the signed webhook sink).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import attrs

from .events import OutboxEvent

__all__ = ["Sink", "SinkBackend"]


@runtime_checkable
class Sink(Protocol):
    """Delivers outbox events somewhere (a webhook, a broker, a log)."""

    def deliver(self, event: OutboxEvent) -> None:
        """Deliver ``event``, retrying as the sink sees fit; raise
        :class:`~promokit.errors.DeliveryError` to give up on it (dead letter)."""
        ...

    def close(self) -> None:
        """Release connections; the sink is not used afterwards."""
        ...


@attrs.frozen(kw_only=True)
class SinkBackend:
    """A sink backend as a plugin declares it."""

    name: str
    """A short name (``"webhook"``), unique among the declared backends."""
    schemes: tuple[str, ...]
    """The URL schemes it opens (``("http", "https")``)."""
    open: Any
    """``open(url: str, settings: Mapping[str, str]) -> Sink``. ``settings`` are the
    sink's options that do not belong in a URL (a signing secret), which the
    ``promokit dispatch`` command reads from ``PROMOKIT_SINK_<NAME>_<SETTING>``
    environment variables (``PROMOKIT_SINK_ERP_SECRET`` → ``{"secret": …}``)."""
    description: str = ""

    def opens(self, url: str, settings: Mapping[str, str] | None = None) -> Sink:
        """Open a sink for ``url``."""
        sink: Sink = self.open(url, dict(settings or {}))
        return sink
