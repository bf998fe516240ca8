"""Delivering the outbox: :class:`Dispatcher` hands every event the store wrote to
sinks, at least once and in order, and keeps each sink's place in the store."""

from .dispatcher import (
    DeadLetter,
    Dispatcher,
    DispatchReport,
    TrimReport,
    outbox_events,
    trim_outbox,
)

__all__ = ["DeadLetter", "DispatchReport", "Dispatcher", "TrimReport", "outbox_events",
           "trim_outbox"]
