"""Signed share tokens for group-buy and bargain invitations (分享連結).

A token is ``<payload>.<signature>``, both base64url without padding. The
payload is compact JSON naming the game, the group or bargain, the inviter
and the expiry (seconds since the epoch); the signature is HMAC-SHA256 of
the payload text under the engine's secret, compared in constant time. A
token cannot be moved to another game, another group or another inviter, and
stops working at its expiry. A token has one spelling: characters outside the
base64url alphabet, padding, stray bits in a last character or a signature of
another length are refused, as is a validly signed payload that is not the JSON
object :func:`sign_token` writes (``token_invalid`` for each).

>>> token = sign_token(b"k" * 32, game="pin", subject="g-1", inviter="c1", expires=2000)
>>> verify_token(b"k" * 32, token, game="pin", now=1999).subject
'g-1'
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re

import attrs

from ..errors import GameError

__all__ = ["ShareToken", "is_token_shaped", "sign_token", "verify_token"]


@attrs.frozen
class ShareToken:
    """What a valid token says."""

    game: str
    subject: str
    """The group id or bargain id it invites to."""
    inviter: str
    expires: int


#: One spelling of base64url without padding: the alphabet only.
_B64URL = re.compile(r"[A-Za-z0-9_-]+")
_LOOSE_B64 = re.compile(r"[A-Za-z0-9_=+/-]+")  # what a damaged token may still look like
#: An HMAC-SHA256 signature: 32 bytes, 43 characters.
SIGNATURE_LENGTH = 43
#: The payload's fields and their types.
_FIELDS = {"g": str, "s": str, "i": str, "e": int}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes | None:
    """The bytes ``text`` encodes, if it is their one canonical spelling (alphabet
    only, no padding, no stray bits in the last character); else ``None``."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        return None
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return data if _b64(data) == text else None


def is_token_shaped(text: str) -> bool:
    """Whether ``text`` is spelled like a share token (``<payload>.<signature>``, the
    signature at least 32 characters), so that an id (``pin.59348333a4e8``) can be
    told from a token, even a damaged one, before any signature is checked."""
    payload, dot, signature = text.partition(".")
    return bool(dot and _LOOSE_B64.fullmatch(payload)
                and len(signature) >= 32 and _LOOSE_B64.fullmatch(signature))


def _signature(secret: bytes, payload: str) -> bytes:
    return hmac.new(secret, payload.encode("ascii"), hashlib.sha256).digest()


def sign_token(secret: bytes, *, game: str, subject: str, inviter: str, expires: int) -> str:
    """A token inviting to ``subject`` of ``game`` on behalf of ``inviter``."""
    if len(secret) < 16:
        raise GameError("the share-token secret must be at least 16 bytes",
                        reason="secret_required", game=game)
    body = json.dumps({"g": game, "s": subject, "i": inviter, "e": int(expires)},
                      separators=(",", ":"), ensure_ascii=False).encode()
    payload = _b64(body)
    return f"{payload}.{_b64(_signature(secret, payload))}"


def verify_token(secret: bytes, token: str, *, game: str, now: float) -> ShareToken:
    """The token's content, if it is signed with ``secret``, is for ``game`` and has
    not expired at ``now``; otherwise :class:`GameError` with reason
    ``token_invalid``, ``token_other_game`` or ``token_expired``."""
    invalid = GameError("the share token is not valid (tampered or not ours)",
                        reason="token_invalid", game=game)
    payload, dot, signature = token.partition(".")
    body = _unb64(payload)
    given = _unb64(signature) if dot and len(signature) == SIGNATURE_LENGTH else None
    if body is None or given is None or not hmac.compare_digest(
            _signature(secret, payload), given):
        raise invalid
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        data = None
    if not isinstance(data, dict) or data.keys() != _FIELDS.keys() or any(
            type(data[key]) is not kind for key, kind in _FIELDS.items()):
        raise invalid  # signed with our secret, yet not a token we wrote
    found = ShareToken(game=data["g"], subject=data["s"], inviter=data["i"],
                       expires=data["e"])
    if found.game != game:
        raise GameError(f"the share token is for game {found.game!r}, not {game!r}",
                        reason="token_other_game", game=game)
    if now >= found.expires:
        raise GameError("the share token has expired", reason="token_expired", game=game)
    return found
