"""Verifying a revealed draw log: the seed matches its commitment, every config
its hash, the header its entries, and the game's kind recomputes every draw to
its logged outcome (docs/games.md, "Verifying a draw log")."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError
from ..games import DrawLog, GameSpec, VerifyReport, commitment
from ..games.audit import entry_hash, hash_config
from ..loading.games import legacy_config_hash, parse_game_table
from ..registry import Registry

__all__ = ["verify_log"]


def verify_log(log: DrawLog, registry: Registry, *, draws: int | None = None,
               head: str | None = None) -> VerifyReport:
    """Check a revealed draw log: the seed matches the commitment, each config its
    hash, the header's config is the one it names, a chained log's length and head
    are its entries', and the game's kind recomputes every draw to the logged
    outcome (and every fallback was due).

    ``draws`` and ``head`` are the count and chain head the reveal published (the
    ``revealed`` event, ``promokit game play GAME reveal``): given, the log must
    end exactly there, so a log with its last entries cut off, or rewritten
    wholesale, fails."""
    problems: list[str] = []
    if log.seed is None:
        return VerifyReport(len(log.entries), ("the seed is not revealed yet: verify after "
                                               "`promokit game reveal`",))
    try:
        seed_ok = hmac.compare_digest(commitment(log.seed), log.commitment)
    except (ValueError, TypeError):
        seed_ok = False
    if not seed_ok:
        problems.append("the revealed seed does not hash to the published commitment")
    chained = _chained(log)
    problems.extend(_header_problems(log, legacy=not chained))
    specs: dict[str, GameSpec] = {}
    for logged_hash, table in sorted(log.configs.items()):
        if not _hashes_to(table, logged_hash, legacy=not chained):
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
    published = _published_problems(log, chained, draws, head)
    if not specs:
        return VerifyReport(len(log.entries), tuple(problems + published
                                                    or ["the log holds no config"]))
    kind = next(iter(specs.values())).kind_impl
    for number, entry in enumerate(log.entries, 1):
        if entry.get("config_hash") not in specs:
            problems.append(f"draw {number}: ran under a config the log does not hold")
    if not problems:  # with a wrong seed or config, a replay would only add noise
        problems.extend(kind.verify(specs, log.seed, log.entries))
    return VerifyReport(len(log.entries), tuple(published + problems))


def _chained(log: DrawLog) -> bool:
    """Whether the log is hash-chained (lotteries and blind boxes): then its configs
    are named by canonical JSON only, and its length and head are checked."""
    return log.draws is not None or log.head is not None or any(
        "prev" in entry for entry in log.entries)


def _hashes_to(table: Mapping[str, Any], logged: str, *, legacy: bool) -> bool:
    """Whether ``table`` is the config named ``logged``: SHA-256 of its canonical JSON
    (RFC 8785). An unchained log (a bargain's) may still name its configs by the
    hash configs were named by before logs were chained (another serialization of
    the same table, so it never names another table)."""
    try:
        if hmac.compare_digest(hash_config(table), str(logged)):
            return True
    except ValueError:
        return False
    return legacy and hmac.compare_digest(legacy_config_hash(table), str(logged))


def _header_problems(log: DrawLog, *, legacy: bool) -> list[str]:
    """The header's readable ``config`` must be the config it names, held in
    ``configs``: an edited copy fails instead of being shown beside a good one."""
    held = log.configs.get(log.config_hash)
    if held is None:
        return [f"the header's config_hash {str(log.config_hash)[:12]}… names no config of "
                "the log"]
    if not _hashes_to(log.config, log.config_hash, legacy=legacy) or dict(held) != dict(log.config):
        return [f"the header's config is not the config {str(log.config_hash)[:12]}… it "
                "names"]
    return []


def _published_problems(log: DrawLog, chained: bool, draws: int | None,
                        head: str | None) -> list[str]:
    """A chained log's length and head against its header and against what the
    reveal published."""
    if not chained:
        return [] if draws is None and head is None else [
            "the log is not chained: it cannot be checked against a published head"]
    problems = []
    try:
        last = entry_hash(log.entries[-1]) if log.entries else log.commitment
    except ValueError as error:
        return [f"draw {len(log.entries)}: cannot be hashed ({error})"]
    if log.draws != len(log.entries):
        problems.append(f"the header says {log.draws} draw(s), the log holds "
                        f"{len(log.entries)}")
    if log.head != last:
        problems.append(f"the header's head {str(log.head)[:12]}… is not the hash of the "
                        "last entry")
    if draws is not None and draws != len(log.entries):
        problems.append(f"the reveal published {draws} draw(s), the log holds "
                        f"{len(log.entries)}")
    if head is not None and head != last:
        problems.append(f"the reveal published the head {head[:12]}…, the log ends at "
                        f"{last[:12]}…")
    return problems
