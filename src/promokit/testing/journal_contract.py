"""Conditional journal entries: the part of the store contract that lets an event
(an alert that a stock crossed a level) be written exactly when, and only when,
the change that caused it is. Mixed into :class:`~promokit.testing.StoreContract`."""

from __future__ import annotations

import threading

from ..stores.base import Change, Delta, Expect, JournalEntry, Store

__all__ = ["ConditionalJournalContract"]


def _change(order_id: str, *deltas: Delta, journal: tuple[JournalEntry, ...] = (),
            revision: int = 0) -> Change:
    return Change(order_id=order_id, revision=revision, status="reserved", body="{}",
                  deltas=deltas, journal=journal)


class ConditionalJournalContract:
    """Tests of :attr:`JournalEntry.when <promokit.stores.JournalEntry.when>`."""

    def test_a_conditional_entry_is_appended_only_when_its_counter_ends_in_range(
            self, store: Store) -> None:
        def crossing(n: int) -> tuple[JournalEntry, ...]:
            return (JournalEntry("events", f"change {n}"),
                    JournalEntry("events", f'{{"crossed": "red", "after": {{value}}, "n": {n}}}',
                                 when=Expect("stock:flash", 8, 9)),
                    JournalEntry("alerts", "at least 10: {value}",
                                 when=Expect("stock:flash", 10)))
        for n in range(1, 7):  # 2, 4, … 12: in [8, 9] once (8), at least 10 twice
            assert store.apply(_change(f"o{n}", Delta("stock:flash", 2, 100),
                                       journal=crossing(n))).applied
        bodies = [body for _, body in store.journal("events")]
        assert bodies == ["change 1", "change 2", "change 3", "change 4",
                          '{"crossed": "red", "after": 8, "n": 4}',
                          "change 5", "change 6"]
        assert store.journal("alerts") == [(1, "at least 10: 10"), (2, "at least 10: 12")]

    def test_a_conditional_entry_is_not_appended_when_the_change_is_not(
            self, store: Store) -> None:
        watch = JournalEntry("events", "crossed {value}", when=Expect("stock:x", 0))
        assert store.apply(_change("o1", Delta("stock:x", 5, 5))).applied
        refused = store.apply(_change("o2", Delta("stock:x", 1, 5), journal=(watch,)))
        assert refused.refused == ("stock:x",)
        conflict = store.apply(_change("o1", Delta("stock:x", -1), journal=(watch,)))
        assert conflict.conflict
        assert store.journal("events") == []
        assert store.apply(_change("o1", Delta("stock:x", -1), journal=(watch,),
                                   revision=1)).applied
        assert store.journal("events") == [(1, "crossed 4")]

    def test_a_conditional_entry_takes_big_and_unbounded_values(self, store: Store) -> None:
        big = 2**62
        entries = (JournalEntry("s", "{value}/{value}", when=Expect("spent:b", big)),
                   JournalEntry("s", "never", when=Expect("spent:b", 0, big - 1)))
        assert store.apply(_change("o1", Delta("spent:b", big + 7), journal=entries)).applied
        assert store.journal("s") == [(1, f"{big + 7}/{big + 7}")]

    def test_a_conditional_entry_must_watch_a_counter_the_change_moves(
            self, store: Store) -> None:
        try:
            _change("o1", Delta("a", 1), journal=(
                JournalEntry("s", "x", when=Expect("b", 1)),))
        except ValueError as error:
            assert "'b'" in str(error)
        else:
            raise AssertionError("a condition on an unmoved counter was accepted")

    def test_racing_changes_write_each_crossing_exactly_once(
            self, store: Store) -> None:
        # 40 units of 1 taken by racing threads from a stock of 40: the counter passes
        # 20 (yellow) and 32 (red) exactly once each, whoever takes those units.
        def take(worker: int) -> None:
            for n in range(8):
                journal = (JournalEntry("alerts", "yellow {value}", when=Expect("stock:r", 21, 21)),
                           JournalEntry("alerts", "red {value}", when=Expect("stock:r", 33, 33)))
                assert store.apply(_change(f"w{worker}-{n}", Delta("stock:r", 1, 40),
                                           journal=journal)).applied
        threads = [threading.Thread(target=take, args=(w,)) for w in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(body for _, body in store.journal("alerts")) == ["red 33", "yellow 21"]
