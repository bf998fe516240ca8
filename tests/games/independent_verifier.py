"""An independent verifier of promokit draw logs, written from docs/games.md alone.

It imports nothing from promokit, only the standard library, as an outsider's
verifier in another language would: the sections it follows are named in the
comments ("V1" … are the numbered checks of "Verifying a draw log"). Use::

    problems = verify(log_text, draws=published_draws, head=published_head)
    outcomes = replay(log_text)      # what each entry recomputes to

An empty list of problems means the log verifies.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal, InvalidOperation
from typing import Any

FORMAT = "promokit-draw-log/2"
MAX_SAFE = 2**53 - 1
MAX_TOTAL_WEIGHT = 10**15


class Malformed(Exception):
    """A line or a field that the specification does not allow."""


# -- bytes: canonical JSON (RFC 8785, restricted to the audit's values) ----------------


def jcs(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        if not -MAX_SAFE <= value <= MAX_SAFE:
            raise Malformed(f"integer {value} outside ±(2^53-1)")
        return str(value)
    if isinstance(value, str):
        return _jcs_string(value)
    if isinstance(value, list):
        return "[" + ",".join(jcs(item) for item in value) + "]"
    if isinstance(value, dict):
        if not all(isinstance(name, str) for name in value):
            raise Malformed("an object name is not a string")
        names = sorted(value, key=lambda name: name.encode("utf-16-be", "surrogatepass"))
        return "{" + ",".join(_jcs_string(n) + ":" + jcs(value[n]) for n in names) + "}"
    raise Malformed(f"{type(value).__name__} cannot be hashed")


def _jcs_string(text: str) -> str:
    short = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
             "\t": "\\t"}
    out = []
    for char in text:
        if char in short:
            out.append(short[char])
        elif ord(char) < 0x20:
            out.append(f"\\u{ord(char):04x}")
        elif 0xD800 <= ord(char) <= 0xDFFF:
            raise Malformed("lone surrogate")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def sha256_of(value: Any) -> str:
    return hashlib.sha256(jcs(value).encode("utf-8")).hexdigest()


def digest_of(seed: str, customer: str, client_seed: str, nonce: int,
              config_hash: str) -> bytes:
    message = jcs({"client_seed": client_seed, "config_hash": config_hash,
                   "customer": customer, "nonce": nonce}).encode("utf-8")
    return hmac.new(bytes.fromhex(seed), message, hashlib.sha256).digest()


def u64(digest: bytes, offset: int) -> int:
    return int.from_bytes(digest[offset:offset + 8], "big")


def pick(digest: bytes, weights: list[int], offset: int = 0) -> int:
    total = sum(weights)
    if not 1 <= total <= MAX_TOTAL_WEIGHT:
        raise Malformed(f"weights add up to {total}")
    point = u64(digest, offset) * total >> 64
    for index, weight in enumerate(weights):
        if point < weight:
            return index
        point -= weight
    raise AssertionError("unreachable")


# -- reading the log ---------------------------------------------------------------------------


def _strict_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, value in pairs:
        if name in found:
            raise Malformed(f"duplicate name {name!r}")
        found[name] = value
    return found


def _no_fraction(text: str) -> Any:
    raise Malformed(f"number {text} is not an integer")


def parse(text: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    rows = []
    for line in text.split("\n"):
        if not line.strip():
            continue
        row = json.loads(line, object_pairs_hook=_strict_object, parse_float=_no_fraction,
                         parse_constant=_no_fraction)
        if not isinstance(row, dict):
            raise Malformed("a line is not an object")
        jcs(row)  # integers in range, valid strings
        rows.append(row)
    if not rows:
        raise Malformed("empty log")
    return rows[0], rows[1:]


def whole(value: Any, default: int | None = None) -> int | None:
    """A config integer: a JSON integer or a string of decimal digits."""
    if value is None:
        return default
    if isinstance(value, bool):
        raise Malformed("a boolean is not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() \
            and value.strip().lstrip("-").isascii():
        return int(value.strip())
    raise Malformed(f"{value!r} is not an integer")


def amount(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise Malformed(f"{value!r} is not an amount")
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        raise Malformed(f"{value!r} is not an amount") from None


# -- verifying ---------------------------------------------------------------------------------


def verify(text: str, *, draws: int | None = None, head: str | None = None) -> list[str]:
    """Every problem of the log; ``draws`` and ``head`` are the published values."""
    try:
        return _Verifier(text, draws, head).run()
    except (Malformed, ValueError, KeyError, TypeError, IndexError) as error:
        return [f"malformed: {error!r}"]


def replay(text: str) -> list[dict[str, Any]]:
    """What each entry recomputes to (raises on a malformed log)."""
    verifier = _Verifier(text, None, None)
    verifier.run()
    return verifier.outcomes


class _Verifier:
    def __init__(self, text: str, draws: int | None, head: str | None) -> None:
        self.header, self.entries = parse(text)
        self.draws, self.head = draws, head
        self.problems: list[str] = []
        self.outcomes: list[dict[str, Any]] = []

    def say(self, problem: str) -> None:
        self.problems.append(problem)

    def run(self) -> list[str]:
        h = self.header
        # V1: the format and the seed
        if h["format"] != FORMAT:
            self.say("unknown format")
            return self.problems
        seed = h["seed"]
        if not isinstance(seed, str) or len(seed) != 64:
            self.say("the seed is not revealed")
            return self.problems
        if hashlib.sha256(bytes.fromhex(seed)).hexdigest() != h["commitment"]:
            self.say("the seed does not hash to the commitment")
        # V2: every config hashes to its name; the header's config is the one named
        configs = h["configs"]
        for name, table in configs.items():
            if sha256_of(table) != name:
                self.say(f"config {name[:12]} does not hash to its name")
            if table.get("id") != h["game"] or table.get("kind") != h["kind"]:
                self.say(f"config {name[:12]} is another game's")
        if h["config_hash"] not in configs or sha256_of(h["config"]) != h["config_hash"]:
            self.say("the header's config is not the config it names")
        # V3: the chain
        previous = h["commitment"]
        for index, entry in enumerate(self.entries, 1):
            if entry.get("position") != index or isinstance(entry.get("position"), bool):
                self.say(f"entry {index}: position {entry.get('position')!r}")
            if entry.get("prev") != previous:
                self.say(f"entry {index}: prev is not the hash of the entry before it")
            previous = sha256_of(entry)
        # V4: the count and the head, as the header and the reveal published them
        for name, published in (("header", (h["draws"], h["head"])),
                                ("reveal", (self.draws, self.head))):
            count, last = published
            if name == "reveal" and count is None and last is None:
                continue
            if count != len(self.entries):
                self.say(f"the {name} says {count} draws, the log holds {len(self.entries)}")
            if last != previous:
                self.say(f"the {name}'s head is not the hash of the last entry")
        if self.problems:
            return self.problems
        # V5 … : the draws
        state = _Lottery() if h["kind"] == "lottery" else _BlindBox() \
            if h["kind"] == "blind_box" else None
        if state is None:
            self.say(f"no rules for kind {h['kind']!r}")
            return self.problems
        nonces: dict[str, int] = {}
        for index, entry in enumerate(self.entries, 1):
            table = configs.get(entry["config_hash"])
            if table is None:
                self.say(f"entry {index}: its config is not in the log")
                continue
            customer, nonce = entry["customer"], entry["nonce"]
            if not isinstance(customer, str) or isinstance(nonce, bool) \
                    or not isinstance(nonce, int):
                raise Malformed(f"entry {index}: customer or nonce")
            if nonce != nonces.get(customer, 0) + 1:
                self.say(f"entry {index}: nonce {nonce}, expected {nonces.get(customer, 0) + 1}")
            nonces[customer] = max(nonce, nonces.get(customer, 0))
            client_seed = entry["client_seed"]
            if client_seed is None:
                client_seed = entry["prev"]
            if not isinstance(client_seed, str):
                raise Malformed(f"entry {index}: client_seed")
            digest = digest_of(seed, customer, client_seed, nonce, entry["config_hash"])
            outcome = {"position": index, "hash": sha256_of(entry), "digest": digest.hex(),
                       "u": u64(digest, 0)}
            outcome.update(state.draw(self, index, entry, table, digest))
            self.outcomes.append(outcome)
        return self.problems


class _Lottery:
    """V6: the lottery's rules."""

    def __init__(self) -> None:
        self.prize_wins: dict[str, int] = {}
        self.wins: dict[str, int] = {}
        self.since: dict[str, int] = {}

    def draw(self, v: _Verifier, index: int, entry: dict[str, Any], table: dict[str, Any],
             digest: bytes) -> dict[str, Any]:
        prizes = table["prizes"]
        ids = [p["id"] for p in prizes]
        weights = [whole(p["weight"]) or 0 for p in prizes]
        fallback = next(p for p in prizes if p.get("fallback") is True)
        max_wins = whole(table.get("max_wins"))
        every = whole(table.get("guarantee_every"))
        customer = entry["customer"]
        wins = self.wins.get(customer, 0)
        since = self.since.get(customer, 0)

        def locked(prize: dict[str, Any]) -> bool:
            until = whole(prize.get("locked_until"))
            return until is not None and index <= until

        def in_stock(prize: dict[str, Any]) -> bool:
            stock = whole(prize.get("stock"))
            return stock is None or self.prize_wins.get(prize["id"], 0) < stock

        drawn_index = pick(digest, weights)
        drawn = prizes[drawn_index]
        if entry["drawn_index"] != drawn_index or entry["drawn"] != drawn["id"]:
            v.say(f"entry {index}: drawn {entry['drawn']!r}, the digest picks {drawn['id']!r}")
        award, reason = drawn, None
        if drawn.get("fallback") is not True:
            if max_wins is not None and wins >= max_wins:
                award, reason = fallback, "max_wins"
            elif locked(drawn):
                award, reason = fallback, "locked"
            elif not in_stock(drawn):
                award, reason = fallback, "out_of_stock"
        due = (every is not None and award is fallback
               and (max_wins is None or wins < max_wins) and since + 1 >= every)
        if due:
            candidates = [p for p in prizes if p.get("fallback") is not True
                          and not locked(p) and in_stock(p)]
            if entry.get("candidates") != [p["id"] for p in candidates]:
                v.say(f"entry {index}: guarantee candidates {entry.get('candidates')!r}, "
                      f"expected {[p['id'] for p in candidates]!r}")
            if candidates:
                chosen = pick(digest, [whole(p["weight"]) or 0 for p in candidates], 8)
                award, reason = candidates[chosen], "guarantee"
        elif "candidates" in entry:
            v.say(f"entry {index}: lists candidates, but no guarantee was due")
        if entry["prize"] != award["id"] or entry["reason"] != reason:
            v.say(f"entry {index}: awards {entry['prize']!r} ({entry['reason']}), the rules "
                  f"give {award['id']!r} ({reason})")
        if entry["prize"] not in ids:
            v.say(f"entry {index}: {entry['prize']!r} is not a prize")
        # count what the log says was given (a wrong award is reported above)
        given = next((p for p in prizes if p["id"] == entry["prize"]), award)
        self.prize_wins[given["id"]] = self.prize_wins.get(given["id"], 0) + 1
        if given.get("fallback") is True:
            self.since[customer] = since + 1
        else:
            self.wins[customer] = wins + 1
            self.since[customer] = 0
        return {"drawn": drawn["id"], "prize": award["id"], "reason": reason}


class _BlindBox:
    """V7: the blind box's rules."""

    def __init__(self) -> None:
        self.drawn: dict[str, int] = {}
        self.since: dict[str, int] = {}
        self.last_prizes = 0

    def draw(self, v: _Verifier, index: int, entry: dict[str, Any], table: dict[str, Any],
             digest: bytes) -> dict[str, Any]:
        finite = table.get("pool", "fixed") == "finite"
        tiers = [t["id"] for t in table["tiers"]]
        items = table["items"]
        pity = table.get("pity")
        customer = entry["customer"]
        since = self.since.get(customer, 0)
        counts = {i["id"]: (whole(i["quantity"]) or 0) - self.drawn.get(i["id"], 0) if finite
                  else whole(i["weight"]) or 0 for i in items}
        left = sum(counts.values())
        if entry["digest"] != digest.hex():
            v.say(f"entry {index}: digest")
        if finite:
            if left == 0:
                v.say(f"entry {index}: drawn from an empty pool")
                return {"item": None, "reason": None}
            if entry["pool_draw"] != index or entry["remaining"] != left - 1:
                v.say(f"entry {index}: pool_draw or remaining")
        elif entry["pool_draw"] is not None or entry["remaining"] is not None:
            v.say(f"entry {index}: a fixed pool logs null pool_draw and remaining")
        if entry["since_pity"] != since:
            v.say(f"entry {index}: since_pity {entry['since_pity']}, expected {since}")

        def rarity(item: dict[str, Any]) -> int:
            return tiers.index(item["tier"])

        def pity_tier(item: dict[str, Any]) -> bool:
            return pity is not None and rarity(item) >= tiers.index(pity["tier"])

        candidates = [i for i in items if counts[i["id"]] > 0]
        reason = "draw"
        if pity is not None and since + 1 >= (whole(pity["within"]) or 0):
            eligible = [i for i in candidates if pity_tier(i)]
            reason = "pity" if eligible else "pity_unavailable"
            candidates = eligible or candidates
        item = candidates[pick(digest, [counts[i["id"]] for i in candidates])]
        if entry["item"] != item["id"] or entry["reason"] != reason:
            v.say(f"entry {index}: {entry['item']!r} ({entry['reason']}), the digest draws "
                  f"{item['id']!r} ({reason})")
        if (entry["tier"], entry["hidden"]) != (item["tier"], item.get("hidden", False)) \
                or amount(entry["value"]) != amount(item["value"]) \
                or amount(entry["price"]) != amount(table["price"]):
            v.say(f"entry {index}: tier, hidden, value or price")
        won = item.get("hidden", False) is True or rarity(item) == len(tiers) - 1
        if entry["won"] is not won:
            v.say(f"entry {index}: won")
        self.since[customer] = 0 if pity_tier(item) else since + 1
        self.drawn[item["id"]] = self.drawn.get(item["id"], 0) + 1
        expected = None
        prize = table.get("last_prize")
        if finite and prize is not None and self.last_prizes == 0 and left - 1 == 0:
            expected = prize
            self.last_prizes += 1
        logged = entry["last_prize"]
        if (expected is None) != (logged is None) or (expected is not None and (
                logged["name"] != expected["name"]
                or amount(logged["value"]) != amount(expected["value"])
                or set(logged) != {"name", "value"})):
            v.say(f"entry {index}: last_prize")
        return {"item": item["id"], "reason": reason}
