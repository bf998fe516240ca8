"""Auditable randomness: commit, draw, chain, reveal, verify.

Before the first draw a game makes a secret **server seed** (32 random bytes
from :mod:`secrets`, written as 64 hex digits) and publishes its
**commitment**, SHA-256 of those 32 bytes. Every draw's randomness is

    HMAC-SHA256(key = the seed's 32 bytes,
                message = JCS({"client_seed", "config_hash", "customer", "nonce"}))

(JCS: canonical JSON, :mod:`promokit.games.canonical`), where the nonce counts the
customer's draws 1, 2, 3 … and the config hash is SHA-256 of the config's canonical
JSON (:func:`hash_config`). The **client seed** is the customer's own, or, when
they give none, the hash of the draw log up to their draw (the entry's ``prev``):
a value nobody knows when the seed is committed to, so the server cannot grind
its seed for a customer's default draws. Only a customer's own client seed,
chosen after the commitment is published, makes their outcome independent of
the server: docs/games.md says what a customer must do to be sure.

Every draw's log entry carries its **position** (the game's draw counter after
it, taken in the same atomic store change as the draw) and ``prev``, the hash of
the entry before it (the commitment for the first): a **hash chain** whose
**head** (the last entry's hash) and length the reveal publishes, so a changed,
removed or reordered entry shows. After the reveal anyone holding the log
recomputes everything: :func:`promokit.gameplay.verify_log`,
``promokit game verify LOG``, or a verifier of their own written from
docs/games.md.

Random numbers are the digest's first 8 bytes read as a big-endian integer ``u``
in [0, 2⁶⁴): :func:`below` maps it to [0, n) as ``u · n >> 64``.
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
from ..stores.base import Store
from .canonical import canonical_bytes, canonical_json, sha256_hex

__all__ = [
    "LOG_FORMAT",
    "MAX_TOTAL_WEIGHT",
    "Chain",
    "DrawLog",
    "VerifyReport",
    "below",
    "chain_tail",
    "chained",
    "commitment",
    "draw_digest",
    "draw_input",
    "entry_hash",
    "hash_config",
    "new_seed",
    "pick_weighted",
    "seed_stream",
]

#: What the first line of an exported draw log says it is (``format``).
LOG_FORMAT = "promokit-draw-log/2"
#: The most the weights (or boxes) a draw picks among may add up to: 10¹⁵, the bound
#: of every whole number in a campaign file. Each prize's chance is then its weight
#: over the total to within 2⁻⁶³ (see :func:`pick_weighted`).
MAX_TOTAL_WEIGHT = 10**15


def new_seed() -> str:
    """A fresh secret server seed, 64 hex digits."""
    return secrets.token_hex(32)


def commitment(seed: str) -> str:
    """SHA-256 of the seed's 32 bytes, hex: what is published before the first draw."""
    return hashlib.sha256(bytes.fromhex(seed)).hexdigest()


def hash_config(table: Mapping[str, Any]) -> str:
    """SHA-256 of a ``[[game]]`` table's canonical JSON (RFC 8785), hex: what a draw is
    bound to."""
    return sha256_hex(table)


def entry_hash(entry: Mapping[str, Any]) -> str:
    """SHA-256 of a log entry's canonical JSON, hex: the next entry's ``prev``, and the
    customer's receipt for their draw."""
    return sha256_hex(entry)


def draw_input(*, customer: str, client_seed: str, nonce: int,
               config_hash: str) -> dict[str, Any]:
    """The object whose canonical JSON is the HMAC message of a draw."""
    return {"client_seed": client_seed, "config_hash": config_hash, "customer": customer,
            "nonce": nonce}


def draw_digest(seed: str, *, customer: str, client_seed: str, nonce: int,
                config_hash: str) -> bytes:
    """The 32 random bytes of one draw: HMAC-SHA256 keyed with the seed's bytes over
    the canonical JSON of :func:`draw_input`."""
    message = canonical_bytes(draw_input(customer=customer, client_seed=client_seed,
                                         nonce=nonce, config_hash=config_hash))
    return hmac.new(bytes.fromhex(seed), message, hashlib.sha256).digest()


def below(digest: bytes, n: int, offset: int = 0) -> int:
    """A number in [0, n) from 8 bytes of ``digest`` at ``offset`` (big-endian)."""
    if n <= 0:
        raise ValueError("n must be positive")
    return int.from_bytes(digest[offset:offset + 8], "big") * n >> 64


def pick_weighted(digest: bytes, weights: Sequence[int], offset: int = 0) -> int:
    """The index picked by ``digest`` among whole-number weights: with total ``W``
    (1 … :data:`MAX_TOTAL_WEIGHT`) the point ``u · W >> 64`` falls in index i's
    interval [Σ w<i, Σ w≤i). A weight of 0 is never picked."""
    if any(isinstance(w, bool) or not isinstance(w, int) or w < 0 for w in weights):
        raise ValueError(f"weights must be whole numbers ≥ 0, got {list(weights)}")
    total = sum(weights)
    if not 0 < total <= MAX_TOTAL_WEIGHT:
        raise ValueError(f"the weights add up to {total:,}; they must add up to 1 … "
                         f"{MAX_TOTAL_WEIGHT:,}")
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


# -- the hash chain ---------------------------------------------------------------------------


def chain_tail(store: Store, stream: str, count: int, start: str) -> str:
    """The hash of entry ``count`` (1, 2, 3 …) of a chained journal ``stream``, or
    ``start`` (the commitment) when ``count`` is 0: the ``prev`` of entry ``count + 1``,
    and the chain's head when ``count`` entries were written."""
    if count == 0:
        return start
    found = store.journal(stream, after=count - 1, limit=1)
    if not found or found[0][0] != count:
        raise GameError(f"the journal {stream!r} lacks entry {count}: the store's draw "
                        "counter and its journal disagree", reason="bad_log")
    return entry_hash(json.loads(found[0][1]))


class Chain:
    """Follows a chained log entry by entry: each must hold ``position`` 1, 2, 3 … in
    order and ``prev``, the hash of the entry before it (``start``, the commitment,
    for the first). :attr:`head` is the hash of the last entry followed."""

    def __init__(self, start: str) -> None:
        self.head = start
        self.count = 0

    def follow(self, entry: Mapping[str, Any]) -> list[str]:
        """Problems of ``entry`` as the next link (without the ``draw N:`` prefix)."""
        problems = []
        self.count += 1
        position = entry.get("position")
        if position != self.count or isinstance(position, bool):
            problems.append(f"position {position!r} logged, but it is entry {self.count} of "
                            "the log (positions go 1, 2, 3 … in log order)")
        if entry.get("prev") != self.head:
            what = ("the hash of the entry before it (an entry was changed, removed or "
                    "moved)" if self.count > 1 else "the commitment")
            problems.append(f"prev {str(entry.get('prev'))[:12]}… is not {what}")
        self.head = entry_hash(entry)
        return problems


# -- the published record ---------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class DrawLog:
    """A game's published audit record: the configs it ran under, its commitment, the
    revealed seed (``None`` before the reveal), every draw in order, and the chain's
    length and head.

    :meth:`dumps` writes it as JSON lines (docs/games.md, "The draw log"): a header
    line, then one line per entry, each line the canonical JSON of its object."""

    game: str
    kind: str
    config: Mapping[str, Any]
    """The ``[[game]]`` table in force at the end (``configs[config_hash]``)."""
    config_hash: str
    currency: str
    timezone: str
    commitment: str
    seed: str | None
    entries: tuple[Mapping[str, Any], ...]
    configs: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    """Every config the game ran under, by hash (a game changed in customers'
    favour after its start ran under two); each entry names its ``config_hash``."""
    draws: int | None = None
    """Entries in a chained log (the count the reveal publishes); ``None`` unchained."""
    head: str | None = None
    """The hash of the last entry of a chained log (the commitment when there is
    none): what the reveal publishes; ``None`` unchained."""
    format: str = LOG_FORMAT

    def header(self) -> dict[str, Any]:
        """The first line's object."""
        return {"format": self.format, "game": self.game, "kind": self.kind,
                "config": self.config, "config_hash": self.config_hash,
                "configs": dict(self.configs), "currency": self.currency,
                "timezone": self.timezone, "commitment": self.commitment, "seed": self.seed,
                "draws": self.draws, "head": self.head}

    def dumps(self) -> str:
        """JSON lines: a header line, then one line per entry, each canonical JSON."""
        lines = [canonical_json(self.header())]
        lines.extend(canonical_json(entry) for entry in self.entries)
        return "\n".join(lines) + "\n"

    @classmethod
    def loads(cls, text: str) -> DrawLog:
        """Read :meth:`dumps` output; a malformed log is a :class:`GameError`
        (``bad_log``) naming the line. Lines are strict JSON: no duplicate names, no
        fractions or exponents, nothing canonical JSON cannot hold."""
        rows: list[dict[str, Any]] = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line, object_pairs_hook=_unique_names,
                                 parse_float=_no_float, parse_constant=_no_float)
                canonical_json(row)
            except (json.JSONDecodeError, ValueError) as error:
                raise GameError(f"draw log line {number}: not valid JSON for a draw log "
                                f"({error})", reason="bad_log") from None
            if not isinstance(row, dict):
                raise GameError(f"draw log line {number}: not an object", reason="bad_log")
            rows.append(row)
        if not rows:
            raise GameError("draw log is empty", reason="bad_log")
        header, *entries = rows
        if header.get("format") != LOG_FORMAT:
            raise GameError(f"draw log line 1: format {header.get('format')!r}; this is "
                            f"promokit's {LOG_FORMAT!r} reader", reason="bad_log")
        missing = [key for key in ("game", "kind", "config", "config_hash", "configs",
                                   "currency", "timezone", "commitment", "seed", "draws",
                                   "head") if key not in header]
        if missing:
            raise GameError(f"draw log line 1: header lacks {', '.join(missing)}",
                            reason="bad_log")
        return cls(game=header["game"], kind=header["kind"], config=header["config"],
                   config_hash=header["config_hash"], currency=header["currency"],
                   timezone=header["timezone"], commitment=header["commitment"],
                   seed=header["seed"], entries=tuple(entries), configs=header["configs"],
                   draws=header["draws"], head=header["head"], format=header["format"])


def chained(log: DrawLog) -> DrawLog:
    """``log`` as a chained game publishes it: configs named by :func:`hash_config`,
    and the chain's length and head from its entries."""
    head = entry_hash(log.entries[-1]) if log.entries else log.commitment
    return attrs.evolve(log, config_hash=hash_config(log.config),
                        configs={hash_config(table): table for table in log.configs.values()},
                        draws=len(log.entries), head=head)


def _unique_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, value in pairs:
        if name in found:
            raise ValueError(f"the name {name!r} appears twice in one object")
        found[name] = value
    return found


def _no_float(text: str) -> Any:
    raise ValueError(f"number {text} is not a whole number")


@attrs.frozen
class VerifyReport:
    """What :func:`~promokit.gameplay.verify_log` found: ``ok`` when ``problems`` is empty."""

    draws: int
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

