"""The draw-log replay behind :meth:`BlindBox.verify`: every draw
recomputed in log order, with the pool's counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from promokit.games import GameSpec, draw_digest

from .config import BlindBoxConfig


class Replay:
    """Recompute a revealed draw log entry by entry, keeping what the game kept:
    each customer's nonce and pity count, and the pool's counts in log order."""

    def __init__(self, specs: Mapping[str, GameSpec], seed: str) -> None:
        self.specs = specs
        self.seed = seed
        self.nonces: Counter[str] = Counter()
        self.since: Counter[str] = Counter()
        self.drawn: Counter[str] = Counter()
        self.pool_draws = 0
        self.prizes = 0

    def run(self, entries: Sequence[Mapping[str, Any]]) -> list[str]:
        problems: list[str] = []
        for number, entry in enumerate(entries, 1):
            try:
                problems.extend(f"draw {number}: {p}" for p in self.entry(entry))
            except (KeyError, TypeError, ValueError) as error:
                problems.append(f"draw {number}: malformed entry ({error!r})")
        return problems

    def entry(self, entry: Mapping[str, Any]) -> list[str]:
        spec = self.specs[entry["config_hash"]]
        config: BlindBoxConfig = spec.config
        customer, nonce = str(entry["customer"]), entry["nonce"]
        problems = []
        if nonce != self.nonces[customer] + 1:
            problems.append(f"customer {customer!r}'s nonce is {nonce}, expected "
                            f"{self.nonces[customer] + 1}")
        self.nonces[customer] = max(self.nonces[customer], int(nonce))
        digest = draw_digest(self.seed, str(entry["client_seed"]), int(nonce),
                             entry["config_hash"])
        if entry.get("digest") != digest.hex():
            problems.append("the digest does not match the seed, client seed and nonce")
        counts = config.counts(self.drawn)
        if config.finite:
            if entry.get("pool_draw") != self.pool_draws + 1:
                problems.append(f"pool draw {entry.get('pool_draw')} is out of order "
                                f"(expected {self.pool_draws + 1})")
            if not sum(counts.values()):
                return [*problems, "drawn from an empty pool"]
            if entry.get("remaining") != sum(counts.values()) - 1:
                problems.append(f"{entry.get('remaining')} boxes left logged, "
                                f"{sum(counts.values()) - 1} replayed")
        if entry.get("price") != config.amount(config.price):
            problems.append(f"price {entry.get('price')!r} logged, the config's is "
                            f"{config.amount(config.price)!r}")
        since = self.since[customer]
        if entry.get("since_pity") != since:
            problems.append(f"pity count {entry.get('since_pity')} logged, {since} replayed")
        item, reason = config.pick(digest, counts, since)
        logged = config.item(str(entry["item"]))
        if logged is None:
            return [*problems, f"item {entry['item']!r} is not in the series"]
        if logged.id != item.id:
            problems.append(f"logged {logged.id!r}, the digest draws {item.id!r}")
        if entry.get("reason") != reason:
            problems.append(f"reason {entry.get('reason')!r} logged, {reason!r} due")
        if (entry.get("tier"), entry.get("value"), entry.get("hidden")) != (
                logged.tier, config.amount(logged.value), logged.hidden):
            problems.append(f"tier, value or hidden of {logged.id!r} differ from the config")
        self.since[customer] = 0 if config.counts_for_pity(logged) else since + 1
        self.drawn[logged.id] += 1
        self.pool_draws += 1
        if config.finite and logged.quantity is not None and \
                self.drawn[logged.id] > logged.quantity:
            problems.append(f"{logged.id!r} drawn {self.drawn[logged.id]} times, more than "
                            f"its released {logged.quantity}")
        problems.extend(self.last_prize(config, entry))
        return problems

    def last_prize(self, config: BlindBoxConfig, entry: Mapping[str, Any]) -> list[str]:
        expected = None
        if (config.finite and config.last_prize is not None and not self.prizes
                and not sum(config.counts(self.drawn).values())):
            prize = config.last_prize
            expected = {"name": prize.name, "value": config.amount(prize.value)}
            self.prizes += 1
        if entry.get("last_prize") != expected:
            return [f"last prize {entry.get('last_prize')!r} logged, {expected!r} due"]
        return []
