"""The contract every store backend keeps, as a test class to subclass.

Exposed as :class:`promokit.testing.StoreContract`. A subclass provides two
pytest fixtures: ``store`` (a fresh, empty store) and ``reopen`` (a callable
that opens another handle on the same store, as a second app server would)::

    class TestEtcdStore(StoreContract):
        @pytest.fixture
        def store(self, etcd_url):
            store = EtcdStore.from_url(etcd_url)
            yield store
            store.close()

        @pytest.fixture
        def reopen(self, etcd_url):
            return lambda: EtcdStore.from_url(etcd_url)

promokit runs it against memory, SQLite, Redis and PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ..stores.base import Change, CodeRow, Delta, Expect, JournalEntry, LedgerEntry, Store
from .journal_contract import ConditionalJournalContract

__all__ = ["StoreContract"]

T0 = datetime(2026, 11, 11, 0, 0, tzinfo=UTC)


def entry(order_id: str, n: int = 0, *, promotion: str = "p1", minutes: int = 0,
          kind: str = "redemption", amount: str = "10.00") -> LedgerEntry:
    """A ledger entry for the tests."""
    return LedgerEntry(
        entry_id=f"{order_id}:{kind}:{n}", order_id=order_id, kind=kind,  # type: ignore[arg-type]
        promotion=promotion, campaign="d11", customer="c1", currency="CNY",
        amount=Decimal(amount), funding=(("platform", Decimal(amount)),), units=1,
        at=T0 + timedelta(minutes=minutes), campaign_version="v" * 64, code=None)


def new(order_id: str, *deltas: Delta, revision: int = 0, status: str = "reserved",
        expires_at: float | None = None, ledger: tuple[LedgerEntry, ...] = (),
        body: str = '{"n": 1}', journal: tuple[JournalEntry, ...] = (),
        expect: tuple[Expect, ...] = ()) -> Change:
    return Change(order_id=order_id, revision=revision, status=status, body=body,
                  expires_at=expires_at, deltas=tuple(deltas), ledger=ledger,
                  journal=journal, expect=expect)


def records(stream: str, *bodies: str) -> tuple[JournalEntry, ...]:
    """Journal entries of one stream for the tests."""
    return tuple(JournalEntry(stream, body) for body in bodies)


class StoreContract(ConditionalJournalContract):
    """Tests every :class:`~promokit.stores.Store` must pass."""

    # -- counters ---------------------------------------------------------------

    def test_unknown_keys_read_zero(self, store: Store) -> None:
        assert dict(store.read(["uses:a", "stock:b"])) == {"uses:a": 0, "stock:b": 0}
        assert dict(store.read([])) == {}

    def test_apply_creates_the_order_and_changes_counters(self, store: Store) -> None:
        outcome = store.apply(new("o1", Delta("stock:flash", 2, 10), Delta("spent:p", 1500)))
        assert outcome.applied and outcome.revision == 1 and not outcome.conflict
        assert dict(outcome.values) == {"stock:flash": 2, "spent:p": 1500}
        assert dict(store.read(["stock:flash", "spent:p"])) == {"stock:flash": 2,
                                                                  "spent:p": 1500}
        row = store.order("o1")
        assert row is not None
        assert (row.order_id, row.revision, row.status, row.expires_at, row.body) == (
            "o1", 1, "reserved", None, '{"n": 1}')

    def test_unknown_order_is_none(self, store: Store) -> None:
        assert store.order("nope") is None

    def test_a_second_create_conflicts_and_changes_nothing(self, store: Store) -> None:
        store.apply(new("o1", Delta("uses:p", 1, 5)))
        again = store.apply(new("o1", Delta("uses:p", 1, 5), body='{"n": 2}'))
        assert not again.applied and again.conflict and again.revision == 1
        assert again.current is not None and again.current.body == '{"n": 1}'
        assert store.read(["uses:p"])["uses:p"] == 1

    def test_revisions_advance_and_stale_ones_conflict(self, store: Store) -> None:
        store.apply(new("o1", Delta("uses:p", 1)))
        moved = store.apply(new("o1", revision=1, status="committed", body='{"n": 2}'))
        assert moved.applied and moved.revision == 2
        stale = store.apply(new("o1", Delta("uses:p", -1), revision=1, status="released"))
        assert stale.conflict and stale.current is not None
        assert (stale.current.revision, stale.current.status) == (2, "committed")
        assert store.read(["uses:p"])["uses:p"] == 1
        missing = store.apply(new("o2", revision=3))
        assert missing.conflict and missing.current is None and missing.revision == 0

    def test_a_limit_is_reached_exactly_and_not_passed(self, store: Store) -> None:
        assert store.apply(new("o1", Delta("stock:s", 3, 5))).applied
        assert store.apply(new("o2", Delta("stock:s", 2, 5))).applied
        refused = store.apply(new("o3", Delta("stock:s", 1, 5)))
        assert not refused.applied and not refused.conflict
        assert refused.refused == ("stock:s",) and dict(refused.values) == {"stock:s": 5}
        assert store.read(["stock:s"])["stock:s"] == 5

    def test_a_refusal_changes_nothing_at_all(self, store: Store) -> None:
        store.apply(new("o1", Delta("stock:b", 1, 1)))
        refused = store.apply(new(
            "o2", Delta("uses:a", 1, 10), Delta("stock:b", 1, 1), Delta("spent:c", 700),
            expires_at=time.time() - 10, ledger=(entry("o2"),)))
        assert refused.refused == ("stock:b",)
        assert dict(refused.values) == {"uses:a": 0, "stock:b": 1, "spent:c": 0}
        assert dict(store.read(["uses:a", "stock:b", "spent:c"])) == {
            "uses:a": 0, "stock:b": 1, "spent:c": 0}
        assert store.order("o2") is None
        assert store.ledger(order_id="o2") == []
        assert "o2" not in store.expired(time.time())

    def test_every_refused_counter_is_named(self, store: Store) -> None:
        refused = store.apply(new("o1", Delta("a", 2, 1), Delta("b", 1, 1), Delta("c", 3, 2)))
        assert sorted(refused.refused) == ["a", "c"]

    def test_no_counter_goes_below_zero(self, store: Store) -> None:
        store.apply(new("o1", Delta("spent:p", 100)))
        refused = store.apply(new("o1", Delta("spent:p", -101), revision=1))
        assert refused.refused == ("spent:p",)
        given_back = store.apply(new("o1", Delta("spent:p", -100), revision=1))
        assert given_back.applied and dict(given_back.values) == {"spent:p": 0}

    def test_a_give_back_is_never_refused_by_its_limit(self, store: Store) -> None:
        store.apply(new("o1", Delta("stock:s", 5, 5)))
        back = store.apply(new("o1", Delta("stock:s", -2, 1), revision=1, status="refunded"))
        assert back.applied and store.read(["stock:s"])["stock:s"] == 3

    def test_big_money_counters(self, store: Store) -> None:
        big = 10**17  # 10^15 yuan in fen
        assert store.apply(new("o1", Delta("spent:campaign:d11", big, big))).applied
        assert store.read(["spent:campaign:d11"])["spent:campaign:d11"] == big

    def test_keys_and_ids_may_hold_any_text(self, store: Store) -> None:
        key = "uses:雙11 滿300減50:c:顧客 {1}'\";--"
        order_id = "訂單/1 {x}'--"
        assert store.apply(new(order_id, Delta(key, 1, 1), body='{"名": "值"}')).applied
        assert store.read([key])[key] == 1
        row = store.order(order_id)
        assert row is not None and row.body == '{"名": "值"}'

    # -- expectations -------------------------------------------------------------------

    def test_an_expectation_that_holds_lets_the_change_apply(self, store: Store) -> None:
        store.apply(new("o0", Delta("stock:s", 3)))
        outcome = store.apply(new("o1", Delta("uses:p", 1, 5),
                                  expect=(Expect("stock:s", 0, 5), Expect("uses:p", 0, 0))))
        assert outcome.applied and outcome.revision == 1
        assert (outcome.stale, outcome.refused, outcome.conflict) == ((), (), False)
        assert dict(outcome.values) == {"stock:s": 3, "uses:p": 1}
        assert dict(store.read(["stock:s", "uses:p"])) == {"stock:s": 3, "uses:p": 1}
        assert store.order("o1") is not None

    def test_a_failing_expectation_changes_nothing_and_names_every_stale_key(
            self, store: Store) -> None:
        store.apply(new("o0", Delta("a", 3), Delta("b", 7)))
        stale = store.apply(new(
            "o1", Delta("uses:d", 1, 10), Delta("b", 1), expires_at=time.time() - 10,
            ledger=(entry("o1"),), journal=records("s", "no"),
            expect=(Expect("c", 1), Expect("b", 0, 10), Expect("a", 0, 2))))
        assert not stale.applied and not stale.conflict and stale.revision == 0
        assert stale.stale == ("a", "c") and stale.refused == () and stale.current is None
        assert dict(stale.values) == {"a": 3, "b": 7, "c": 0, "uses:d": 0}
        assert dict(store.read(["a", "b", "c", "uses:d"])) == {"a": 3, "b": 7, "c": 0,
                                                               "uses:d": 0}
        assert store.order("o1") is None
        assert store.ledger(order_id="o1") == []
        assert store.journal("s") == []
        assert "o1" not in store.expired(time.time())
        moved = store.apply(new("o0", Delta("a", -1), revision=1, status="x",
                                expect=(Expect("a", 4),)))
        assert moved.stale == ("a",) and not moved.conflict
        row = store.order("o0")
        assert row is not None and (row.revision, row.status) == (1, "reserved")

    def test_expectation_bounds_are_inclusive_and_high_may_be_open(self, store: Store) -> None:
        store.apply(new("o0", Delta("k", 5), Delta("big", 10**17)))
        cases = [((5, 5), True), ((0, 5), True), ((5, None), True), ((0, None), True),
                 ((6, None), False), ((0, 4), False), ((6, 9), False), ((-3, 5), True)]
        for n, ((low, high), holds) in enumerate(cases):
            outcome = store.apply(new(f"o{n + 1}", expect=(Expect("k", low, high),)))
            assert outcome.applied is holds, (low, high)
            assert outcome.stale == (() if holds else ("k",))
            assert dict(outcome.values) == {"k": 5}
        assert store.apply(new("b1", expect=(Expect("big", 10**17),))).applied
        assert store.apply(new("b2", expect=(Expect("big", 0, 10**17 - 1),))).stale == ("big",)
        assert store.apply(new("b3", expect=(Expect("big", 10**17 + 1),))).stale == ("big",)
        assert store.read(["k"])["k"] == 5

    def test_a_key_never_written_reads_zero_for_the_check(self, store: Store) -> None:
        assert store.apply(new("o1", expect=(Expect("never:a", 0, 0),))).applied
        assert store.read(["never:a"])["never:a"] == 0
        stale = store.apply(new("o2", expect=(Expect("never:b", 1),)))
        assert stale.stale == ("never:b",) and dict(stale.values) == {"never:b": 0}
        assert store.apply(new("o3", Delta("never:c", 2),
                               expect=(Expect("never:c", 0, 0),))).applied

    def test_a_key_both_expected_and_changed_is_checked_before_the_change(
            self, store: Store) -> None:
        store.apply(new("o0", Delta("k", 4)))
        up = store.apply(new("o1", Delta("k", 1, 10), expect=(Expect("k", 0, 4),)))
        assert up.applied and dict(up.values) == {"k": 5}
        again = store.apply(new("o2", Delta("k", 1, 10), expect=(Expect("k", 0, 4),)))
        assert again.stale == ("k",) and dict(again.values) == {"k": 5}
        down = store.apply(new("o3", Delta("k", -5), expect=(Expect("k", 5, 5),)))
        assert down.applied and dict(down.values) == {"k": 0}
        assert store.read(["k"])["k"] == 0

    def test_the_revision_is_checked_before_the_expectations(self, store: Store) -> None:
        store.apply(new("o1", Delta("k", 1)))
        again = store.apply(new("o1", expect=(Expect("k", 5),)))
        assert again.conflict and again.stale == () and again.revision == 1
        assert again.current is not None and again.current.revision == 1
        missing = store.apply(new("o2", revision=2, expect=(Expect("k", 5),)))
        assert missing.conflict and missing.stale == () and missing.current is None

    def test_the_expectations_are_checked_before_the_limits(self, store: Store) -> None:
        store.apply(new("o0", Delta("stock:s", 5, 5), Delta("k", 2)))
        both = store.apply(new("o1", Delta("stock:s", 1, 5), Delta("uses:u", 1),
                               expect=(Expect("k", 0, 1),)))
        assert both.stale == ("k",) and both.refused == () and not both.conflict
        assert dict(both.values) == {"stock:s": 5, "uses:u": 0, "k": 2}
        refused = store.apply(new("o2", Delta("stock:s", 1, 5), Delta("uses:u", 1),
                                  expect=(Expect("k", 2, 2), Expect("other", 0, 0))))
        assert refused.refused == ("stock:s",) and refused.stale == ()
        assert not refused.conflict and not refused.applied
        assert dict(refused.values) == {"stock:s": 5, "uses:u": 0, "k": 2, "other": 0}
        assert dict(store.read(["stock:s", "uses:u", "k"])) == {"stock:s": 5, "uses:u": 0,
                                                                 "k": 2}
        assert store.order("o1") is None and store.order("o2") is None

    def test_a_change_is_checked_when_made(self, store: Store) -> None:
        with_range = Expect("k", 3, 3)
        assert with_range.holds(3) and not with_range.holds(2) and not with_range.holds(4)
        assert Expect("k").holds(0) and Expect("k").holds(10**30) and not Expect("k").holds(-1)
        try:
            new("o1", expect=(Expect("k"), Expect("j"), Expect("k", 1)))
        except ValueError as error:
            assert "'k'" in str(error) and "twice" in str(error)
        else:  # pragma: no cover
            raise AssertionError("an expectation named twice was taken")
        try:
            new("o1", expect=(Expect("j"), Expect("k:low", 5, 4)))
        except ValueError as error:
            assert "'k:low'" in str(error)
        else:  # pragma: no cover
            raise AssertionError("low above high was taken")
        assert store.apply(new("o1", Delta("k", 3), expect=(Expect("k", 0, 0),))).applied

    # -- orders and expiry -----------------------------------------------------------

    def test_expired_lists_lapsed_orders_soonest_first(self, store: Store) -> None:
        now = 1_800_000_000.0
        store.apply(new("late", expires_at=now - 5))
        store.apply(new("early", expires_at=now - 50))
        store.apply(new("due", expires_at=now))
        store.apply(new("future", expires_at=now + 60))
        store.apply(new("settled"))
        assert store.expired(now) == ["early", "late", "due"]
        assert store.expired(now, limit=2) == ["early", "late"]
        store.apply(new("early", revision=1, status="expired", expires_at=None))
        assert store.expired(now) == ["late", "due"]

    # -- ledger -------------------------------------------------------------------------

    def test_the_ledger_keeps_entries_in_order_and_filters(self, store: Store) -> None:
        first = (entry("o1", 0, promotion="p1", minutes=0),
                 entry("o1", 1, promotion="p2", minutes=0))
        store.apply(new("o1", ledger=first))
        second = (entry("o2", 0, promotion="p1", minutes=30),)
        store.apply(new("o2", ledger=second))
        reversal = (entry("o1", 2, promotion="p1", minutes=60, kind="reversal",
                          amount="-10.00"),)
        store.apply(new("o1", revision=1, status="refunded", ledger=reversal))
        assert store.ledger() == [*first, *second, *reversal]
        assert store.ledger(order_id="o1") == [*first, *reversal]
        assert store.ledger(promotion="p1") == [first[0], *second, *reversal]
        assert store.ledger(since=T0 + timedelta(minutes=30)) == [*second, *reversal]
        assert store.ledger(until=T0 + timedelta(minutes=30)) == list(first)
        assert store.ledger(order_id="o2", promotion="p2") == []

    def _paged_ledger(self, store: Store) -> list[LedgerEntry]:
        """Ten entries of three orders and two promotions over 90 minutes, written
        by five changes (two refunds' reversals among them)."""
        written: list[LedgerEntry] = []
        for order_id, revision, n0, minutes in (("o1", 0, 0, 0), ("o2", 0, 0, 20),
                                                ("o3", 0, 0, 40), ("o1", 1, 3, 60),
                                                ("o2", 1, 3, 90)):
            batch = tuple(entry(order_id, n0 + i, promotion=("p1", "p2")[(n0 + i) % 2],
                                minutes=minutes + i,
                                kind="redemption" if revision == 0 else "reversal",
                                amount="10.00" if revision == 0 else "-10.00")
                          for i in range(3 if revision == 0 else 1))
            if order_id == "o3":
                batch = batch[:2]
            written.extend(batch)
            store.apply(new(order_id, revision=revision,
                            status="reserved" if revision == 0 else "refunded",
                            ledger=batch))
        assert store.ledger() == written
        return written

    def test_ledger_pages_concatenate_to_the_whole_filtered_ledger(self, store: Store) -> None:
        written = self._paged_ledger(store)
        for filters in ({}, {"order_id": "o1"}, {"promotion": "p2"},
                        {"since": T0 + timedelta(minutes=21)},
                        {"until": T0 + timedelta(minutes=61)},
                        {"promotion": "p1", "since": T0 + timedelta(minutes=1),
                         "until": T0 + timedelta(minutes=91)},
                        {"order_id": "o9"}):
            whole = store.ledger(**filters)
            assert whole == [e for e in written  # in the order written
                             if all(_matches(e, name, value) for name, value in filters.items())]
            for size in (1, 2, 3, 4, len(written), len(written) + 5):
                pages: list[list[LedgerEntry]] = []
                offset = 0
                while True:
                    page = store.ledger(**filters, offset=offset, limit=size)
                    assert page == whole[offset:offset + size], (filters, size, offset)
                    pages.append(page)
                    if len(page) < size:
                        break
                    offset += size
                assert [e for page in pages for e in page] == whole, (filters, size)
            for offset in (0, 1, len(whole), len(written) + 3):
                assert store.ledger(**filters, offset=offset) == whole[offset:]

    def test_a_ledger_offset_past_the_end_gives_nothing(self, store: Store) -> None:
        written = self._paged_ledger(store)
        assert store.ledger(offset=len(written)) == []
        assert store.ledger(offset=len(written), limit=1) == []
        assert store.ledger(offset=10**9, limit=10) == []
        assert store.ledger(order_id="o3", offset=2, limit=5) == []
        assert store.ledger(offset=len(written) - 1, limit=10) == [written[-1]]

    def test_a_bad_ledger_offset_or_limit_is_refused(self, store: Store) -> None:
        self._paged_ledger(store)
        for page in ({"offset": -1}, {"offset": -1, "limit": 5}, {"limit": 0},
                     {"limit": -3}, {"offset": 2, "limit": 0},
                     {"order_id": "o1", "limit": 0}, {"promotion": "p1", "offset": -2}):
            try:
                store.ledger(**page)
            except ValueError:
                pass
            else:  # pragma: no cover
                raise AssertionError(f"the ledger page {page} was taken")

    # -- journals -------------------------------------------------------------------------

    def test_the_journal_is_written_with_the_change_in_order(self, store: Store) -> None:
        outcome = store.apply(new("o1", Delta("stock:prize", 1, 3),
                                  journal=records("draws:d11", "draw 1", "win 1")))
        assert outcome.applied
        assert store.journal("draws:d11") == [(1, "draw 1"), (2, "win 1")]
        store.apply(new("o1", revision=1, status="committed",
                        journal=records("draws:d11", "settle 1")))
        assert store.journal("draws:d11") == [(1, "draw 1"), (2, "win 1"), (3, "settle 1")]

    def test_journal_sequences_are_dense_per_stream(self, store: Store) -> None:
        mixed = (JournalEntry("a", "a1"), JournalEntry("b", "b1"), JournalEntry("a", "a2"),
                 JournalEntry("c", "c1"), JournalEntry("b", "b2"), JournalEntry("a", "a3"))
        assert store.apply(new("o1", journal=mixed)).applied
        assert store.apply(new("o2", journal=records("b", "b3"))).applied
        assert store.apply(new("o3", journal=(JournalEntry("c", "c2"),
                                              JournalEntry("a", "a4")))).applied
        assert store.journal("a") == [(1, "a1"), (2, "a2"), (3, "a3"), (4, "a4")]
        assert store.journal("b") == [(1, "b1"), (2, "b2"), (3, "b3")]
        assert store.journal("c") == [(1, "c1"), (2, "c2")]

    def test_nothing_is_journaled_on_a_conflict_or_a_refusal(self, store: Store) -> None:
        store.apply(new("o1", Delta("stock:prize", 1, 1), journal=records("s", "first")))
        conflict = store.apply(new("o1", journal=records("s", "again"),
                                   body='{"n": 2}'))
        assert conflict.conflict
        stale = store.apply(new("o1", revision=5, journal=records("s", "stale")))
        assert stale.conflict
        refused = store.apply(new("o2", Delta("stock:prize", 1, 1),
                                  journal=(*records("s", "refused"),
                                           *records("other", "refused"))))
        assert refused.refused == ("stock:prize",)
        assert store.journal("s") == [(1, "first")]
        assert store.journal("other") == []
        assert store.apply(new("o3", journal=records("s", "second"))).applied
        assert store.journal("s") == [(1, "first"), (2, "second")]  # no gap

    def test_the_journal_reads_after_a_sequence_and_up_to_a_limit(self, store: Store) -> None:
        store.apply(new("o1", journal=records("s", *(f"e{n}" for n in range(1, 8)))))
        everything = [(n, f"e{n}") for n in range(1, 8)]
        assert store.journal("s") == everything
        assert store.journal("s", after=0) == everything
        assert store.journal("s", after=3) == everything[3:]
        assert store.journal("s", limit=2) == everything[:2]
        assert store.journal("s", after=2, limit=3) == everything[2:5]
        assert store.journal("s", after=5, limit=10) == everything[5:]
        assert store.journal("s", after=7) == []
        assert store.journal("s", after=100) == []
        assert store.journal("s", limit=0) == []
        assert store.journal("nope") == []
        assert store.journal("nope", after=3, limit=5) == []

    def test_journal_streams_and_bodies_may_hold_any_text(self, store: Store) -> None:
        stream = "draws:雙11 抽獎:{1}'\";--"
        bodies = ('{"prize": "一等獎 🎉", "n": 1}', "line 1\nline 2\t\\ end", "", "ü" * 300)
        assert store.apply(new("o1", journal=records(stream, *bodies))).applied
        assert store.journal(stream) == list(enumerate(bodies, 1))
        assert store.journal("draws:雙11 抽獎") == []

    def test_a_large_journal_write_in_one_change(self, store: Store) -> None:
        many = [JournalEntry("big", f"b{n}") for n in range(1, 5002)]
        few = [JournalEntry("small", f"s{n}") for n in range(1, 4)]
        assert store.apply(new("o1", journal=(few[0], *many[:2500], few[1],
                                              *many[2500:], few[2]))).applied
        assert store.journal("big") == [(n, f"b{n}") for n in range(1, 5002)]
        assert store.journal("big", after=4990, limit=5) == [
            (n, f"b{n}") for n in range(4991, 4996)]
        assert store.journal("big", after=10, limit=5000) == [
            (n, f"b{n}") for n in range(11, 5002)]
        assert store.journal("small") == [(1, "s1"), (2, "s2"), (3, "s3")]

    # -- trimming journals ----------------------------------------------------------------

    def test_a_trimmed_journal_reads_from_the_first_entry_kept(self, store: Store) -> None:
        store.apply(new("o1", journal=records("s", *(f"e{n}" for n in range(1, 8)))))
        assert store.trim_journal("s", through=3) == 3
        everything = [(n, f"e{n}") for n in range(4, 8)]
        assert store.journal("s") == everything
        assert store.journal("s", after=0, limit=2) == everything[:2]
        assert store.journal("s", after=2) == everything
        assert store.journal("s", after=5) == everything[2:]
        assert store.journal("s", after=4, limit=2) == everything[1:3]
        assert store.journal("s", after=7) == []

    def test_trimming_past_the_end_empties_the_stream(self, store: Store) -> None:
        store.apply(new("o1", journal=records("s", "e1", "e2", "e3")))
        assert store.trim_journal("s", through=100) == 3
        assert store.journal("s") == []
        assert store.journal("s", after=2) == []
        assert store.trim_journal("nope", through=5) == 0
        assert store.trim_journal("s", through=0) == 0

    def test_entries_appended_after_a_trim_keep_counting_up(
            self, store: Store, reopen: Callable[[], Store]) -> None:
        store.apply(new("o1", journal=records("s", "e1", "e2", "e3")))
        assert store.trim_journal("s", through=2) == 2
        assert store.apply(new("o2", journal=records("s", "e4"))).applied
        assert store.journal("s") == [(3, "e3"), (4, "e4")]
        assert store.trim_journal("s", through=4) == 2  # the stream is now empty
        assert store.apply(new("o3", journal=records("s", "e5", "e6"))).applied
        assert store.journal("s") == [(5, "e5"), (6, "e6")]
        assert store.journal("s", after=5) == [(6, "e6")]
        other = reopen()  # the count lives in the store, not in the handle
        try:
            assert other.journal("s") == [(5, "e5"), (6, "e6")]
            assert other.trim_journal("s", through=100) == 2
            assert store.apply(new("o4", journal=records("s", "e7"))).applied
            assert other.journal("s") == [(7, "e7")]
        finally:
            if other is not store:
                other.close()

    def test_trimming_one_stream_leaves_the_others(self, store: Store) -> None:
        store.apply(new("o1", journal=(*records("a", "a1", "a2", "a3"),
                                       *records("b", "b1", "b2"))))
        assert store.trim_journal("a", through=3) == 3
        assert store.journal("a") == []
        assert store.journal("b") == [(1, "b1"), (2, "b2")]
        assert store.apply(new("o2", journal=(*records("a", "a4"),
                                              *records("b", "b3")))).applied
        assert store.journal("a") == [(4, "a4")]
        assert store.journal("b") == [(1, "b1"), (2, "b2"), (3, "b3")]

    def test_trimming_again_deletes_nothing(self, store: Store) -> None:
        store.apply(new("o1", journal=records("s", "e1", "e2", "e3", "e4")))
        assert store.trim_journal("s", through=2) == 2
        assert store.trim_journal("s", through=2) == 0
        assert store.trim_journal("s", through=1) == 0
        assert store.journal("s") == [(3, "e3"), (4, "e4")]
        assert store.trim_journal("s", through=3) == 1
        assert store.journal("s") == [(4, "e4")]

    def test_a_trim_bound_below_zero_is_refused(self, store: Store) -> None:
        store.apply(new("o1", journal=records("s", "e1")))
        for bad in (-1, True, 1.5, "1"):
            try:
                store.trim_journal("s", through=bad)  # type: ignore[arg-type]
            except ValueError as error:
                assert "trim" in str(error)
            else:
                raise AssertionError(f"trim_journal took through={bad!r}")
        assert store.journal("s") == [(1, "e1")]

    def test_a_large_trimmed_journal_reads_in_chunks(self, store: Store) -> None:
        store.apply(new("o1", journal=records("big", *(f"b{n}" for n in range(1, 6002)))))
        assert store.trim_journal("big", through=500) == 500
        assert store.journal("big") == [(n, f"b{n}") for n in range(501, 6002)]
        assert store.journal("big", after=10, limit=5003) == [
            (n, f"b{n}") for n in range(501, 5504)]

    # -- campaign versions, coupon codes ------------------------------------------------

    def test_campaign_versions_are_kept_once(self, store: Store) -> None:
        assert store.load_campaigns("abc") is None
        store.save_campaigns("abc", '{"currency": "CNY"}')
        store.save_campaigns("abc", '{"other": 1}')
        assert store.load_campaigns("abc") == '{"currency": "CNY"}'

    def test_codes_are_added_once_and_found(self, store: Store) -> None:
        added = store.add_codes("b1", ["AAAA", "BBBB", "AAAA"], 1)
        assert (added.added, added.existing, added.conflicts) == (2, 0, ())
        again = store.add_codes("b1", ["BBBB", "CCCC"], 1)
        assert (again.added, again.existing) == (1, 1)
        found = store.find_codes(["AAAA", "ZZZZ", "CCCC"])
        assert set(found) == {"AAAA", "CCCC"}
        assert (found["AAAA"].batch, found["AAAA"].uses) == ("b1", 1)
        assert dict(store.find_codes([])) == {}

    def test_a_code_of_another_batch_adds_nothing(self, store: Store) -> None:
        store.add_codes("b1", ["AAAA"], 1)
        clash = store.add_codes("b2", ["NEW1", "AAAA", "NEW2"], 3)
        assert clash.added == 0 and clash.conflicts == ("AAAA",)
        assert set(store.find_codes(["NEW1", "NEW2", "AAAA"])) == {"AAAA"}

    # -- short-lived counters -------------------------------------------------------------

    def test_hits_count_up_and_lapse(self, store: Store) -> None:
        assert [store.hit("fail:c1:1", 0.6) for _ in range(3)] == [1, 2, 3]
        assert store.read(["fail:c1:1"])["fail:c1:1"] == 3
        assert store.apply(new("o1", expect=(Expect("fail:c1:1", 3, 3),))).applied
        # The server's clock lapses it: wait for that, a bounded poll, not a fixed sleep.
        deadline = time.monotonic() + 30
        while store.read(["fail:c1:1"])["fail:c1:1"] != 0:
            assert time.monotonic() < deadline, "the hit counter never lapsed"
            time.sleep(0.05)
        lapsed = store.apply(new("o2", expect=(Expect("fail:c1:1", 0, 0),)))
        assert lapsed.applied and dict(lapsed.values) == {"fail:c1:1": 0}
        assert store.hit("fail:c1:1", 0.6) == 1

    # -- code throttles (check_codes) ----------------------------------------------------

    def test_wrong_codes_are_counted_once_each(self, store: Store) -> None:
        store.add_codes("b1", ["AAAA"], 1)
        first = store.check_codes(["W1", "AAAA", "W2", "W1"], throttle="fail:c1:1",
                                  limit=10, ttl=60)
        assert (dict(first.found), first.counted, first.throttled, first.failures) == (
            {"AAAA": CodeRow("b1", 1)}, ("W1", "W2"), (), 2)
        again = store.check_codes(["W2", "W1"], throttle="fail:c1:1", limit=10, ttl=60)
        assert (dict(again.found), again.counted, again.throttled, again.failures) == (
            {}, (), (), 2)  # typed again: no new guess
        assert store.read(["fail:c1:1"])["fail:c1:1"] == 2  # the count is a counter
        assert store.apply(new("o1", expect=(Expect("fail:c1:1", 2, 2),))).applied

    def test_found_codes_are_never_counted(self, store: Store) -> None:
        store.add_codes("b1", ["AAAA", "BBBB"], 1)
        for _ in range(3):
            checked = store.check_codes(["AAAA", "BBBB"], throttle="fail:c1:1", limit=1,
                                        ttl=60)
            assert set(checked.found) == {"AAAA", "BBBB"} and checked.failures == 0
        assert store.read(["fail:c1:1"])["fail:c1:1"] == 0

    def test_a_full_throttle_refuses_new_codes_without_a_look_up(self, store: Store) -> None:
        store.add_codes("b1", ["AAAA", "BBBB", "CCCC"], 1)
        throttle = "fail:c1:1"
        # In order: found codes leave room for the codes after them.
        checked = store.check_codes(["W1", "AAAA", "W2", "BBBB", "W3"], throttle=throttle,
                                    limit=2, ttl=60)
        assert (list(checked.found), checked.counted, checked.throttled, checked.failures) == (
            ["AAAA"], ("W1", "W2"), ("BBBB", "W3"), 2)
        # Full: a registered code is refused unseen, a code already counted is still
        # looked up (registered since, it is found) and never counted again.
        store.add_codes("b1", ["W2"], 1)
        later = store.check_codes(["CCCC", "W1", "W2", "W4"], throttle=throttle, limit=2,
                                  ttl=60)
        assert (list(later.found), later.counted, later.throttled, later.failures) == (
            ["W2"], (), ("CCCC", "W4"), 2)
        # Another customer, or a higher limit, has room.
        other = store.check_codes(["CCCC", "W4"], throttle="fail:c2:1", limit=2, ttl=60)
        assert (list(other.found), other.counted, other.failures) == (["CCCC"], ("W4",), 1)
        more = store.check_codes(["W4", "W5"], throttle=throttle, limit=3, ttl=60)
        assert (more.counted, more.throttled, more.failures) == (("W4",), ("W5",), 3)

    def test_checking_no_code_reads_the_count_and_writes_nothing(self, store: Store) -> None:
        assert store.check_codes([], throttle="fail:c1:1", limit=1, ttl=60).failures == 0
        store.check_codes(["W1"], throttle="fail:c1:1", limit=1, ttl=60)
        empty = store.check_codes([], throttle="fail:c1:1", limit=1, ttl=60)
        assert (dict(empty.found), empty.counted, empty.throttled, empty.failures) == (
            {}, (), (), 1)
        assert store.read(["fail:c1:1", "fail:c9:1"]) == {"fail:c1:1": 1, "fail:c9:1": 0}

    def test_a_throttle_lapses_after_its_ttl(self, store: Store) -> None:
        throttle = "fail:c%3A1:7"
        full = store.check_codes(["W1", "W2"], throttle=throttle, limit=1, ttl=0.6)
        assert (full.counted, full.throttled, full.failures) == (("W1",), ("W2",), 1)
        # The server's clock lapses it: wait for that, a bounded poll, not a fixed sleep.
        deadline = time.monotonic() + 30
        while store.read([throttle])[throttle] != 0:
            assert time.monotonic() < deadline, "the code throttle never lapsed"
            time.sleep(0.05)
        # Count and codes lapse together: W1 is a new guess of a new window.
        fresh = store.check_codes(["W1", "W2"], throttle=throttle, limit=1, ttl=60)
        assert (fresh.counted, fresh.throttled, fresh.failures) == (("W1",), ("W2",), 1)

    def test_threads_racing_guesses_never_pass_a_throttle(
            self, store: Store, reopen: Callable[[], Store]) -> None:
        """Eight threads on four handles each guess 12 wrong codes of their own for
        one customer: exactly ``limit`` codes are ever looked up and counted."""
        handles = [store, *(reopen() for _ in range(3))]
        store.add_codes("b1", ["AAAA"], 1)
        looked_up: list[str] = []
        counted: list[str] = []
        lock = threading.Lock()

        def race(worker: int) -> None:
            handle = handles[worker % len(handles)]
            for n in range(0, 12, 2):
                codes = [f"W{worker}-{n}", f"W{worker}-{n + 1}", "AAAA"]
                checked = handle.check_codes(codes, throttle="fail:c1:1", limit=10, ttl=60)
                assert checked.failures <= 10 and set(checked.found) <= {"AAAA"}
                with lock:
                    looked_up.extend(c for c in codes[:2] if c not in checked.throttled)
                    counted.extend(checked.counted)

        _race(8, race)
        for handle in handles[1:]:
            handle.close()
        assert len(looked_up) == len(counted) == len(set(counted)) == 10
        assert store.read(["fail:c1:1"])["fail:c1:1"] == 10

    # -- sharing and racing ---------------------------------------------------------------

    def test_a_second_handle_sees_the_same_store(self, store: Store,
                                                 reopen: Callable[[], Store]) -> None:
        store.apply(new("o1", Delta("stock:s", 1, 1), ledger=(entry("o1"),)))
        store.add_codes("b1", ["AAAA"], 2)
        other = reopen()
        try:
            assert other.read(["stock:s"])["stock:s"] == 1
            assert other.apply(new("o2", Delta("stock:s", 1, 1))).refused == ("stock:s",)
            row = other.order("o1")
            assert row is not None and row.revision == 1
            assert other.ledger() == [entry("o1")]
            assert other.find_codes(["AAAA"])["AAAA"].uses == 2
        finally:
            other.close()

    def test_threads_racing_never_pass_a_limit(self, store: Store,
                                               reopen: Callable[[], Store]) -> None:
        handles = [store, *(reopen() for _ in range(3))]
        won: list[str] = []
        lock = threading.Lock()

        def race(worker: int) -> None:
            handle = handles[worker % len(handles)]
            for n in range(25):
                order_id = f"w{worker}-{n}"
                outcome = handle.apply(new(order_id, Delta("stock:flash", 1, 60),
                                           Delta(f"uses:flash:c:{order_id}", 1, 1)))
                if outcome.applied:
                    with lock:
                        won.append(order_id)

        _race(8, race)
        for handle in handles[1:]:
            handle.close()
        assert len(won) == 60
        assert store.read(["stock:flash"])["stock:flash"] == 60
        assert all(store.order(order_id) is not None for order_id in won)

    def test_threads_racing_on_an_expectation_apply_exactly_its_range(
            self, store: Store, reopen: Callable[[], Store]) -> None:
        handles = [store, *(reopen() for _ in range(3))]
        size = 40
        won: list[str] = []
        lock = threading.Lock()

        def race(worker: int) -> None:
            handle = handles[worker % len(handles)]
            for n in range(15):
                order_id = f"w{worker}-{n}"
                outcome = handle.apply(new(order_id, Delta("drawn", 1),
                                           expect=(Expect("drawn", 0, size - 1),)))
                assert outcome.applied or outcome.stale == ("drawn",), outcome
                if outcome.applied:
                    with lock:
                        won.append(order_id)

        _race(8, race)
        for handle in handles[1:]:
            handle.close()
        assert len(won) == size
        assert store.read(["drawn"])["drawn"] == size
        assert all(store.order(order_id) is not None for order_id in won)

    def test_threads_racing_on_each_others_counters_never_both_apply(
            self, store: Store, reopen: Callable[[], Store]) -> None:
        """Each change expects the other counter untouched and bumps its own: one
        side may apply, never both (no write skew, no deadlock)."""
        handles = [store, *(reopen() for _ in range(3))]

        def race(worker: int) -> None:
            handle = handles[worker % len(handles)]
            mine, other = ("x", "y") if worker % 2 else ("y", "x")
            for n in range(10):
                handle.apply(new(f"{mine}{worker}-{n}", Delta(mine, 1),
                                 expect=(Expect(other, 0, 0),)))

        _race(8, race)
        for handle in handles[1:]:
            handle.close()
        counts = store.read(["x", "y"])
        assert min(counts["x"], counts["y"]) == 0 and max(counts["x"], counts["y"]) > 0

    def test_threads_racing_keep_a_journal_dense_and_in_apply_order(
            self, store: Store, reopen: Callable[[], Store]) -> None:
        handles = [store, *(reopen() for _ in range(3))]
        drawn: dict[str, int] = {}  # order id -> the shared counter after its change
        lock = threading.Lock()

        def race(worker: int) -> None:
            handle = handles[worker]
            for n in range(25):
                order_id = f"w{worker}-{n}"
                outcome = handle.apply(new(order_id, Delta("draws:lottery", 1),
                                           journal=records("draws", order_id)))
                assert outcome.applied
                with lock:
                    drawn[order_id] = outcome.values["draws:lottery"]

        _race(len(handles), race)
        for handle in handles[1:]:
            handle.close()
        journal = store.journal("draws")
        assert [seq for seq, _ in journal] == list(range(1, 101))
        assert len({body for _, body in journal}) == 100
        for worker in range(len(handles)):
            mine = [body for _, body in journal if body.startswith(f"w{worker}-")]
            assert mine == [f"w{worker}-{n}" for n in range(25)]
        # Each entry's sequence is the shared counter's value after its change:
        # the journal's order is the order in which the changes were applied.
        assert {body: seq for seq, body in journal} == drawn
        assert store.read(["draws:lottery"])["draws:lottery"] == 100


def _matches(e: LedgerEntry, name: str, value: object) -> bool:
    """Whether ledger entry ``e`` passes the filter ``name=value`` of Store.ledger."""
    if name == "since":
        return e.at >= value  # type: ignore[operator]
    if name == "until":
        return e.at < value  # type: ignore[operator]
    return bool(getattr(e, name) == value)


def _race(workers: int, work: Callable[[int], None]) -> None:
    """Run ``work(worker)`` in ``workers`` threads that start together; re-raise the
    first error any of them met."""
    start = threading.Barrier(workers)
    errors: list[BaseException] = []

    def run(worker: int) -> None:
        try:
            start.wait()
            work(worker)
        except BaseException as error:  # reported by the calling thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
