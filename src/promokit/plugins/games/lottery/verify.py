"""The draw-log replay behind :meth:`Lottery.verify`: every draw
recomputed in log order (docs/games.md, "Verifying a draw log")."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from promokit.games import GameSpec, commitment, draw_digest, pick_weighted
from promokit.games.audit import Chain

from .config import LotteryConfig, Prize
from .draw import guarantee_candidates, guarantee_due, guarantee_pick, primary_outcome


class Replay:
    """The log replayed in order: the chain, wins per prize and per customer, streaks,
    nonces."""

    def __init__(self, specs: Mapping[str, GameSpec], seed: str) -> None:
        self.specs = specs
        self.seed = seed
        self.chain = Chain(commitment(seed))
        self.prize_wins: Counter[str] = Counter()
        self.nonces: dict[str, int] = {}
        self.wins: Counter[str] = Counter()
        self.since: Counter[str] = Counter()
        self.problems: list[str] = []

    def run(self, entries: Sequence[Mapping[str, Any]]) -> list[str]:
        for number, entry in enumerate(entries, 1):
            try:
                self.problems.extend(f"draw {number}: {problem}"
                                     for problem in self.chain.follow(entry))
                self.check(number, entry)
            except (KeyError, TypeError, ValueError) as error:
                self.problems.append(f"draw {number}: malformed entry ({error!r})")
        return self.problems

    def check(self, number: int, entry: Mapping[str, Any]) -> None:
        say = self.problems.append
        spec = self.specs.get(entry["config_hash"])
        if spec is None:
            say(f"draw {number}: ran under a config the log does not hold")
            return
        config: LotteryConfig = spec.config
        customer, nonce, client_seed = entry["customer"], entry["nonce"], entry["client_seed"]
        if not isinstance(customer, str) or not isinstance(nonce, int) \
                or isinstance(nonce, bool) or not isinstance(client_seed, str | None):
            raise TypeError("customer must be a string, nonce a whole number, client_seed a "
                            "string or null")
        position = number  # the chain holds each entry to its place
        expected_nonce = self.nonces.get(customer, 0) + 1
        if nonce != expected_nonce:
            say(f"draw {number}: customer {customer!r} draws with nonce {nonce}, expected "
                f"{expected_nonce} (nonces go 1, 2, 3 … without gaps or repeats)")
        self.nonces[customer] = max(nonce, self.nonces.get(customer, 0))

        digest = draw_digest(self.seed, customer=customer,
                             client_seed=client_seed if client_seed is not None
                             else str(entry["prev"]),
                             nonce=nonce, config_hash=str(entry["config_hash"]))
        drawn = config.prizes[pick_weighted(digest, config.weights)]
        if entry["drawn"] != drawn.id or entry.get("drawn_index") != config.prizes.index(drawn):
            say(f"draw {number}: the randomness picks {drawn.id!r}, the log says "
                f"{entry['drawn']!r}")

        def in_stock(prize: Prize) -> bool:
            return prize.stock is None or self.prize_wins[prize.id] < prize.stock

        award, reason = primary_outcome(config, drawn, position, self.wins[customer], in_stock)
        logged_candidates = entry.get("candidates")
        if guarantee_due(config, award, self.wins[customer], self.since[customer]):
            award, reason = self.guarantee(number, entry, config, digest, position,
                                           award, reason, in_stock)
        elif logged_candidates is not None:
            say(f"draw {number}: lists guarantee candidates, but no guarantee was due")
        if entry["prize"] != award.id or entry.get("reason") != reason:
            say(f"draw {number}: should award {award.id!r} (reason {reason}), the log says "
                f"{entry['prize']!r} (reason {entry.get('reason')})")
        awarded = config.prize(str(entry["prize"]))
        if awarded is None:
            say(f"draw {number}: awards {entry['prize']!r}, which is not a prize")
            return
        self.prize_wins[awarded.id] += 1
        if awarded.stock is not None and self.prize_wins[awarded.id] > awarded.stock:
            say(f"draw {number}: prize {awarded.id!r} won {self.prize_wins[awarded.id]} times, "
                f"beyond its stock of {awarded.stock}")
        if awarded.fallback:
            self.since[customer] += 1
        else:
            self.wins[customer] += 1
            self.since[customer] = 0

    def guarantee(self, number: int, entry: Mapping[str, Any], config: LotteryConfig,
                  digest: bytes, position: int, award: Prize, reason: str | None,
                  in_stock: Callable[[Prize], bool]) -> tuple[Prize, str | None]:
        """The award of a draw on which the guarantee was due: picked among exactly the
        paid prizes unlocked and in stock at its position, which the log lists."""
        say = self.problems.append
        listed = entry.get("candidates")
        if not isinstance(listed, list):
            say(f"draw {number}: the guarantee was due but the log lists no candidates")
            return award, reason
        available = guarantee_candidates(config, position, in_stock)
        candidates = [config.prize(str(item)) for item in listed]
        usable = [p for p in candidates if p is not None and not p.fallback
                  and not p.locked(position - 1)]
        if len(usable) != len(candidates):
            say(f"draw {number}: guarantee candidates {listed} include a prize that is not "
                "a paid, unlocked prize")
            return award, reason
        left_out = [p.id for p in available if p not in usable]
        if left_out:
            say(f"draw {number}: the guarantee left out {left_out}, which were in stock")
        if [p.id for p in usable] != [p.id for p in available] and not left_out:
            say(f"draw {number}: guarantee candidates {listed}, but "
                f"{[p.id for p in available]} were in stock, in that order")
        if not usable:
            return award, reason
        picked = guarantee_pick(digest, usable)
        if not in_stock(picked):
            say(f"draw {number}: the guarantee gave {picked.id!r}, which was out of stock")
        return picked, "guarantee"
