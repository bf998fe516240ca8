"""Auditable randomness: commit, draw, reveal, verify.

Before the first draw a game makes a secret **server seed** (32 bytes from
:mod:`secrets`) and publishes its **commitment**, SHA-256 of the seed. Every
draw's randomness is

    HMAC-SHA256(key = server seed, message = "<client seed>:<nonce>:<config hash>")

where the client seed is the customer's (they may choose it), the nonce counts
that customer's draws 1, 2, 3 … with no gaps, and the config hash binds the
draw to the exact rules in force. The server cannot pick outcomes (the seed is
fixed before the customer's seed is known), the customer cannot predict them
(the seed is secret until the reveal), and after the reveal anyone holding the
draw log can recompute every draw: :func:`promokit.gameplay.verify_log`, or
``promokit game verify LOG``.

Random numbers come from the digest's first 8 bytes as an integer ``u`` in
[0, 2⁶⁴): :func:`below` maps it to [0, n) as ``u · n >> 64`` (bias below
n / 2⁶⁴, far under anything a draw log can show).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs

from ..errors import GameError

__all__ = [
    "DrawLog",
    "VerifyReport",
    "below",
    "commitment",
    "draw_digest",
    "new_seed",
    "pick_weighted",
    "seed_stream",
]


def new_seed() -> str:
    """A fresh secret server seed, 64 hex digits."""
    return secrets.token_hex(32)


def commitment(seed: str) -> str:
    """SHA-256 of the seed's bytes, hex: what is published before the first draw."""
    return hashlib.sha256(bytes.fromhex(seed)).hexdigest()


def draw_digest(seed: str, client_seed: str, nonce: int, config_hash: str) -> bytes:
    """The 32 random bytes of one draw."""
    message = f"{client_seed}:{nonce}:{config_hash}".encode()
    return hmac.new(bytes.fromhex(seed), message, hashlib.sha256).digest()


def below(digest: bytes, n: int, offset: int = 0) -> int:
    """A number in [0, n) from 8 bytes of ``digest`` at ``offset``."""
    if n <= 0:
        raise ValueError("n must be positive")
    return int.from_bytes(digest[offset:offset + 8], "big") * n >> 64


def pick_weighted(digest: bytes, weights: Sequence[int], offset: int = 0) -> int:
    """The index picked by ``digest`` among positive integer weights: index i owns
    the interval [Σ w<i, Σ w≤i) of [0, Σ w)."""
    total = sum(weights)
    point = below(digest, total, offset)
    for index, weight in enumerate(weights):
        if point < weight:
            return index
        point -= weight
    raise AssertionError("unreachable: point below the total weight")


def seed_stream(seed: str, label: str) -> Iterator[bytes]:
    """An endless, reproducible stream of 32-byte blocks for ``label`` (a bargain's
    cut sequence): HMAC-SHA256(seed, "<label>:<i>") for i = 0, 1, 2 …"""
    key = bytes.fromhex(seed)
    index = 0
    while True:
        yield hmac.new(key, f"{label}:{index}".encode(), hashlib.sha256).digest()
        index += 1


@attrs.frozen(kw_only=True)
class DrawLog:
    """A game's published audit record: the config it ran, its commitment, the
    revealed seed (``None`` before the reveal), and every draw in order."""

    game: str
    kind: str
    config: Mapping[str, Any]
    """The ``[[game]]`` table in force at the end."""
    config_hash: str
    currency: str
    timezone: str
    commitment: str
    seed: str | None
    entries: tuple[Mapping[str, Any], ...]
    configs: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    """Every config the game ran under, by hash (a game changed in customers'
    favour after its start ran under two); each entry names its ``config_hash``."""

    def dumps(self) -> str:
        """JSON lines: a header line, then one line per draw."""
        header = {"game": self.game, "kind": self.kind, "config": self.config,
                  "config_hash": self.config_hash, "currency": self.currency,
                  "timezone": self.timezone, "commitment": self.commitment,
                  "seed": self.seed, "configs": dict(self.configs)}
        lines = [json.dumps(header, ensure_ascii=False, sort_keys=True)]
        lines.extend(json.dumps(entry, ensure_ascii=False, sort_keys=True)
                     for entry in self.entries)
        return "\n".join(lines) + "\n"

    @classmethod
    def loads(cls, text: str) -> DrawLog:
        """Read :meth:`dumps` output; a malformed log is a :class:`GameError`
        naming the line."""
        rows: list[Mapping[str, Any]] = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise GameError(f"draw log line {number}: not JSON ({error})",
                                reason="bad_log") from None
            if not isinstance(row, dict):
                raise GameError(f"draw log line {number}: not an object", reason="bad_log")
            rows.append(row)
        if not rows:
            raise GameError("draw log is empty", reason="bad_log")
        header, *entries = rows
        missing = [key for key in ("game", "kind", "config", "config_hash", "currency",
                                   "timezone", "commitment", "seed") if key not in header]
        if missing:
            raise GameError(f"draw log line 1: header lacks {', '.join(missing)}",
                            reason="bad_log")
        return cls(game=header["game"], kind=header["kind"], config=header["config"],
                   config_hash=header["config_hash"], currency=header["currency"],
                   timezone=header["timezone"], commitment=header["commitment"],
                   seed=header["seed"], entries=tuple(entries),
                   configs=header.get("configs") or {header["config_hash"]: header["config"]})


@attrs.frozen
class VerifyReport:
    """What :func:`~promokit.gameplay.verify_log` found: ``ok`` when ``problems`` is empty."""

    draws: int
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems
