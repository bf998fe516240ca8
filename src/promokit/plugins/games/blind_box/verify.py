"""The draw-log replay behind :meth:`BlindBox.verify`: every draw
recomputed in log order, with the pool's counts (docs/games.md, "Verifying a
draw log")."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from promokit.games import GameSpec, commitment, draw_digest
from promokit.games.audit import Chain

from .config import BlindBoxConfig


class Replay:
    """Recompute a revealed draw log entry by entry, keeping what the game kept: the
    chain, each customer's nonce and pity count, and the pool's counts in log order."""

    def __init__(self, specs: Mapping[str, GameSpec], seed: str) -> None:
        self.specs = specs
        self.seed = seed
        self.chain = Chain(commitment(seed))
        self.nonces: Counter[str] = Counter()
        self.since: Counter[str] = Counter()
        self.drawn: Counter[str] = Counter()
        self.pool_draws = 0
        self.prizes = 0

    def run(self, entries: Sequence[Mapping[str, Any]]) -> list[str]:
        problems: list[str] = []
        for number, entry in enumerate(entries, 1):
            try:
                problems.extend(f"draw {number}: {p}" for p in self.chain.follow(entry))
                problems.extend(f"draw {number}: {p}" for p in self.entry(entry))
            except (KeyError, TypeError, ValueError) as error:
                problems.append(f"draw {number}: malformed entry ({error!r})")
        return problems

    def entry(self, entry: Mapping[str, Any]) -> list[str]:
        spec = self.specs[entry["config_hash"]]
        config: BlindBoxConfig = spec.config
        customer, nonce, client_seed = entry["customer"], entry["nonce"], entry["client_seed"]
        if not isinstance(customer, str) or not isinstance(nonce, int) \
                or isinstance(nonce, bool) or not isinstance(client_seed, str | None):
            raise TypeError("customer must be a string, nonce a whole number, client_seed a "
                            "string or null")
        problems = []
        if nonce != self.nonces[customer] + 1:
            problems.append(f"customer {customer!r}'s nonce is {nonce}, expected "
                            f"{self.nonces[customer] + 1}")
        self.nonces[customer] = max(self.nonces[customer], nonce)
        digest = draw_digest(self.seed, customer=customer,
                             client_seed=str(entry["prev"]) if client_seed is None
                             else client_seed,
                             nonce=nonce, config_hash=str(entry["config_hash"]))
        if entry.get("digest") != digest.hex():
            problems.append("the digest does not match the seed, customer, client seed, "
                            "nonce and config")
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
        elif (entry.get("pool_draw"), entry.get("remaining")) != (None, None):
            problems.append("a fixed pool logs no pool_draw and no remaining")
        if not _same_amount(entry.get("price"), config.amount(config.price)):
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
        if (entry.get("tier"), entry.get("hidden")) != (logged.tier, logged.hidden) \
                or not _same_amount(entry.get("value"), config.amount(logged.value)):
            problems.append(f"tier, value or hidden of {logged.id!r} differ from the config")
        if entry.get("won") is not config.wins(logged):
            problems.append(f"won {entry.get('won')!r} logged; {logged.id!r} is "
                            + ("a win (hidden or of the rarest tier)" if config.wins(logged)
                               else "not a win"))
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
        logged = entry.get("last_prize")
        if expected is None and logged is None:
            return []
        if expected is None or not isinstance(logged, Mapping) or set(logged) != {
                "name", "value"} or logged["name"] != expected["name"] \
                or not _same_amount(logged["value"], expected["value"]):
            return [f"last prize {logged!r} logged, {expected!r} due"]
        return []


def _same_amount(logged: Any, expected: str) -> bool:
    """Whether a logged amount is the expected decimal string's number (``"59.0"`` is
    ``"59.00"``; a number that is not a string is not an amount)."""
    if not isinstance(logged, str):
        return False
    try:
        return Decimal(logged) == Decimal(expected)
    except InvalidOperation:
        return False
