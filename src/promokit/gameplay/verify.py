"""Verifying a revealed draw log: the seed matches its commitment, every config
its hash, and the game's kind recomputes every draw to its logged outcome."""

from __future__ import annotations

import hmac

from ..errors import ConfigError
from ..games import DrawLog, GameSpec, VerifyReport, commitment
from ..loading.games import config_hash, parse_game_table
from ..registry import Registry

__all__ = ["verify_log"]


def verify_log(log: DrawLog, registry: Registry) -> VerifyReport:
    """Check a revealed draw log: the seed matches the commitment, the config
    matches its hash, and the game's kind recomputes every draw to the logged
    outcome (and every fallback was due)."""
    problems: list[str] = []
    if log.seed is None:
        return VerifyReport(len(log.entries), ("the seed is not revealed yet: verify after "
                                               "`promokit game reveal`",))
    try:
        seed_ok = hmac.compare_digest(commitment(log.seed), log.commitment)
    except ValueError:
        seed_ok = False
    if not seed_ok:
        problems.append("the revealed seed does not hash to the published commitment")
    configs = dict(log.configs)
    configs.setdefault(log.config_hash, log.config)
    specs: dict[str, GameSpec] = {}
    for logged_hash, table in sorted(configs.items()):
        if config_hash(table) != logged_hash:
            problems.append(f"a config does not hash to its logged hash {logged_hash[:12]}…")
            continue
        try:
            spec = parse_game_table(table, registry, currency=log.currency,
                                    timezone=log.timezone)
        except ConfigError as error:
            problems.append(f"config {logged_hash[:12]}… is invalid: {error}")
            continue
        if spec.kind != log.kind or spec.id != log.game:
            problems.append(f"config {logged_hash[:12]}… is {spec.kind!r} game {spec.id!r}, "
                            f"the log is {log.kind!r} game {log.game!r}")
            continue
        specs[logged_hash] = spec
    if not specs:
        return VerifyReport(len(log.entries), tuple(problems))
    kind = next(iter(specs.values())).kind_impl
    for number, entry in enumerate(log.entries, 1):
        if entry.get("config_hash") not in specs:
            problems.append(f"draw {number}: ran under a config the log does not hold")
    if not problems:
        problems.extend(kind.verify(specs, log.seed, log.entries))
    return VerifyReport(len(log.entries), tuple(problems))
