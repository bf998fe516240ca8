"""The dispatcher: the outbox (journal stream ``outbox``) to sinks, at least once.

Each sink has a **cursor**, a row of the store (``outbox:cursor:<sink>``) holding
the sequence of the last event it was given. A round reads the cursor, reads the
events after it, hands them to the sink one by one in outbox order, then moves
the cursor past them with one :meth:`~promokit.stores.Store.apply` on the row's
revision: a compare-and-set, so of two dispatchers that delivered the same batch
only one moves the cursor, and the other sees the conflict and starts over from
where it now stands. Nothing is marked before it was delivered, so a dispatcher
that dies between delivering and marking delivers those events again: never
fewer than once. Receivers deduplicate on the event's ``id``.

An event the sink gives up on (:class:`~promokit.errors.DeliveryError`) gets a
**dead-letter** record, written to ``outbox:dead:<sink>`` by the same apply that
moves the cursor past it; :meth:`Dispatcher.redeliver` sends dead letters again
and records each success in ``outbox:redelivered:<sink>`` (same row, same
compare-and-set). Any other exception from a sink stops the round before that
event, which is delivered again next time.

The outbox is **trimmed** (:func:`trim_outbox`, :meth:`Dispatcher.trim`) through
the lowest cursor of the sinks named: only events every one of them has been
given are deleted, and the later ones keep their sequence numbers, so a cursor
stays valid across a trim. Dead letters carry their event whole and are never
trimmed.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime

import attrs

from ..errors import DeliveryError, StoreError
from ..events import OUTBOX, OutboxEvent
from ..sinks import Sink
from ..stores import Change, JournalEntry, Store

__all__ = ["DeadLetter", "DispatchReport", "Dispatcher", "TrimReport", "outbox_events",
           "trim_outbox"]


def _cursor_row(sink: str) -> str:
    return f"outbox:cursor:{sink}"


def dead_stream(sink: str) -> str:
    """The journal stream of a sink's dead letters."""
    return f"outbox:dead:{sink}"


def redelivered_stream(sink: str) -> str:
    """The journal stream recording which dead letters were delivered since."""
    return f"outbox:redelivered:{sink}"


def outbox_events(store: Store, *, after: int = 0, limit: int | None = None
                  ) -> list[OutboxEvent]:
    """The outbox's events after sequence ``after``, oldest first."""
    return [OutboxEvent.loads(body, seq)
            for seq, body in store.journal(OUTBOX, after=after, limit=limit)]


def _read_cursor(store: Store, sink: str) -> tuple[int, int]:
    """``(revision, sequence)`` of a sink's cursor (``(0, 0)`` before its first round)."""
    row = store.order(_cursor_row(sink))
    if row is None:
        return 0, 0
    return row.revision, int(json.loads(row.body)["after"])


@attrs.frozen(kw_only=True)
class TrimReport:
    """What :func:`trim_outbox` did: the outbox was trimmed through ``through`` (the
    lowest cursor of the sinks), which deleted ``deleted`` events."""

    through: int
    deleted: int
    cursors: Mapping[str, int] = attrs.field(factory=dict)
    """Each sink's cursor as read before trimming."""


def trim_outbox(store: Store, sinks: Iterable[str]) -> TrimReport:
    """Delete the outbox events that every sink of ``sinks`` (their names) has been
    given: those with sequence <= the lowest of their cursors. A sink that never ran
    stands at 0 and holds everything back.

    Name *every* sink that reads the outbox: an event only the named sinks have
    been given is deleted, and a sink left out would never see it. Cursors only
    move forward, so a dispatcher delivering meanwhile is safe: the trim may stop
    short of where the cursors stand by then, never past them."""
    names = list(dict.fromkeys(sinks))
    if not names:
        raise ValueError("trimming the outbox needs the sinks that read it, and none "
                         "was named")
    cursors = {name: _read_cursor(store, name)[1] for name in names}
    through = min(cursors.values())
    deleted = store.trim_journal(OUTBOX, through=through) if through > 0 else 0
    return TrimReport(through=through, deleted=deleted, cursors=cursors)


@attrs.frozen(kw_only=True)
class DeadLetter:
    """An event a sink gave up on: the event, why, how many attempts, when; and
    whether it was delivered since (``redelivered``)."""

    sequence: int
    """The dead letter's own place in its stream."""
    event: OutboxEvent
    error: str
    attempts: int
    at: str
    redelivered: bool = False

    def to_json(self) -> dict[str, object]:
        return {"dead": self.sequence, "event": self.event.to_json(), "error": self.error,
                "attempts": self.attempts, "at": self.at, "redelivered": self.redelivered}


@attrs.frozen(kw_only=True)
class DispatchReport:
    """What one round did for one sink."""

    sink: str
    delivered: int = 0
    dead: int = 0
    cursor: int = 0
    """The sequence the sink's cursor stands at after the round."""
    conflict: bool = False
    """Another dispatcher moved the cursor first: this round's deliveries were extra."""
    error: str | None = None
    """A sink failure that stopped the round (the event is delivered again later)."""


class Dispatcher:
    """Delivers a store's outbox to named sinks.

    ``sinks`` maps each sink's name (its cursor's name: keep it stable) to the
    sink; ``batch`` is how many events one round reads; ``clock`` stamps dead
    letters. Run :meth:`run_once` from a scheduler, or :meth:`run` in a thread or
    process of its own (``promokit dispatch``).

    With ``trim``, every round ends with :meth:`trim`: the outbox is trimmed through
    the lowest cursor of *these* sinks, so use it only when this dispatcher serves
    every sink that reads the outbox."""

    def __init__(self, store: Store, sinks: Mapping[str, Sink], *, batch: int = 100,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 trim: bool = False) -> None:
        if batch < 1:
            raise ValueError(f"batch must be at least 1, not {batch}")
        for name in sinks:
            if not name or any(c in name for c in ": \t\n"):
                raise ValueError(f"sink name {name!r} must be non-empty, without ':' or spaces")
        self.store = store
        self.sinks = dict(sinks)
        self.batch = batch
        self.clock = clock
        self.trim_each_round = trim

    # -- cursors ------------------------------------------------------------------

    def cursor(self, sink: str) -> tuple[int, int]:
        """``(revision, sequence)`` of a sink's cursor (``(0, 0)`` before its first round)."""
        return _read_cursor(self.store, sink)

    def trim(self) -> TrimReport:
        """Trim the outbox through the lowest cursor of this dispatcher's sinks
        (:func:`trim_outbox`): only events all of them were given are deleted."""
        return trim_outbox(self.store, self.sinks)

    def _move(self, sink: str, revision: int, after: int,
              journal: Iterable[JournalEntry] = ()) -> bool:
        """Compare-and-set the cursor from ``revision`` to ``after``, with ``journal``
        entries; whether this dispatcher won."""
        outcome = self.store.apply(Change(
            order_id=_cursor_row(sink), revision=revision, status="cursor",
            body=json.dumps({"after": after}), journal=tuple(journal)))
        return outcome.applied

    # -- rounds -------------------------------------------------------------------

    def run_once(self) -> list[DispatchReport]:
        """One round for every sink: deliver up to ``batch`` events after its cursor
        and move the cursor past them; then, for a dispatcher made with ``trim=True``,
        trim the outbox through the lowest cursor (:meth:`trim`)."""
        reports = [self._round(name, sink) for name, sink in self.sinks.items()]
        if self.trim_each_round and self.sinks:
            self.trim()
        return reports

    def drain(self, *, rounds: int | None = None) -> list[DispatchReport]:
        """Rounds until no sink has anything left (or ``rounds`` were run); every report."""
        reports: list[DispatchReport] = []
        done = 0
        while rounds is None or done < rounds:
            round_reports = self.run_once()
            reports += round_reports
            done += 1
            if all((r.delivered + r.dead == 0 and not r.conflict) or r.error
                   for r in round_reports):
                break
        return reports

    def run(self, *, interval: float = 1.0, stop: threading.Event | None = None) -> None:
        """Deliver until ``stop`` is set: rounds back to back while there is work,
        ``interval`` seconds apart when there is none (or a sink failed)."""
        stop = stop or threading.Event()
        while not stop.is_set():
            reports = self.run_once()
            busy = any(r.delivered + r.dead >= self.batch or r.conflict for r in reports)
            if not busy or any(r.error for r in reports):
                stop.wait(interval)

    def _round(self, name: str, sink: Sink) -> DispatchReport:
        revision, after = self.cursor(name)
        events = outbox_events(self.store, after=after, limit=self.batch)
        if not events:
            return DispatchReport(sink=name, cursor=after)
        dead: list[JournalEntry] = []
        last, delivered, error = after, 0, None
        for event in events:
            try:
                sink.deliver(event)
                delivered += 1
            except DeliveryError as refused:
                dead.append(JournalEntry(dead_stream(name), json.dumps({
                    "event": event.to_json(), "error": str(refused),
                    "attempts": refused.attempts, "at": self.clock().isoformat()},
                    ensure_ascii=False, separators=(",", ":"))))
            except Exception as failure:  # the sink broke: this event goes again later
                error = f"{type(failure).__name__}: {failure}"
                break
            last = event.sequence
        if last == after:
            return DispatchReport(sink=name, cursor=after, error=error)
        if not self._move(name, revision, last, dead):
            return DispatchReport(sink=name, delivered=delivered, dead=len(dead),
                                  cursor=self.cursor(name)[1], conflict=True, error=error)
        return DispatchReport(sink=name, delivered=delivered, dead=len(dead), cursor=last,
                              error=error)

    # -- dead letters ---------------------------------------------------------------

    def dead_letters(self, sink: str) -> list[DeadLetter]:
        """A sink's dead letters, oldest first, each saying whether it was redelivered."""
        done = {json.loads(body)["dead"]
                for _, body in self.store.journal(redelivered_stream(sink))}
        letters = []
        for seq, body in self.store.journal(dead_stream(sink)):
            raw = json.loads(body)
            event = raw["event"]
            letters.append(DeadLetter(
                sequence=seq, event=OutboxEvent.loads(json.dumps(event), event["sequence"]),
                error=raw["error"], attempts=raw["attempts"], at=raw["at"],
                redelivered=seq in done))
        return letters

    def redeliver(self, sink: str, *, ids: Iterable[str] | None = None
                  ) -> list[tuple[DeadLetter, str | None]]:
        """Send a sink's dead letters (those not redelivered yet; only ``ids`` if given)
        again, in order; each with ``None`` if delivered (and recorded as such) or
        why it failed again (it stays dead)."""
        wanted = set(ids) if ids is not None else None
        target = self.sinks[sink]
        results: list[tuple[DeadLetter, str | None]] = []
        for letter in self.dead_letters(sink):
            if letter.redelivered or (wanted is not None and letter.event.id not in wanted):
                continue
            try:
                target.deliver(letter.event)
            except DeliveryError as error:
                results.append((letter, str(error)))
                continue
            record = JournalEntry(redelivered_stream(sink), json.dumps(
                {"dead": letter.sequence, "id": letter.event.id,
                 "at": self.clock().isoformat()}))
            for _ in range(100):  # a compare-and-set on the cursor row, unchanged
                revision, after = self.cursor(sink)
                if self._move(sink, revision, after, (record,)):
                    break
            else:
                raise StoreError(f"the cursor of sink {sink!r} stayed busy")
            results.append((letter, None))
        return results
