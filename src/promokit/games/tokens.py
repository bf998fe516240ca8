"""Signed share tokens for group-buy and bargain invitations (分享連結).

A token is ``<payload>.<signature>``, both base64url without padding. The
payload is compact JSON naming the game, the group or bargain, the inviter
and the expiry (seconds since the epoch); the signature is HMAC-SHA256 of
the payload text under the engine's secret, compared in constant time. A
token cannot be moved to another game, another group or another inviter, and
stops working at its expiry.

>>> token = sign_token(b"k" * 32, game="pin", subject="g-1", inviter="c1", expires=2000)
>>> verify_token(b"k" * 32, token, game="pin", now=1999).subject
'g-1'
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json

import attrs

from ..errors import GameError

__all__ = ["ShareToken", "sign_token", "verify_token"]


@attrs.frozen
class ShareToken:
    """What a valid token says."""

    game: str
    subject: str
    """The group id or bargain id it invites to."""
    inviter: str
    expires: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


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
    payload, dot, signature = token.partition(".")
    try:
        given = _unb64(signature)
    except (binascii.Error, ValueError):
        given = b""
    if not dot or not payload.isascii() or not hmac.compare_digest(
            _signature(secret, payload), given):
        raise GameError("the share token is not valid (tampered or not ours)",
                        reason="token_invalid", game=game)
    data = json.loads(_unb64(payload))
    found = ShareToken(game=data["g"], subject=data["s"], inviter=data["i"],
                       expires=data["e"])
    if found.game != game:
        raise GameError(f"the share token is for game {found.game!r}, not {game!r}",
                        reason="token_other_game", game=game)
    if now >= found.expires:
        raise GameError("the share token has expired", reason="token_expired", game=game)
    return found
