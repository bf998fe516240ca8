"""Checking a channel's inbound webhook signatures, in constant time.

Two schemes:

``hmac-sha256`` (web, app, live, offline)
    The sender puts the Unix time in ``X-Promokit-Timestamp`` and
    ``v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`` in ``X-Promokit-Signature``
    (several, space-separated, while a secret is being rotated).
``wechat-sha1`` (WeChat mini program and H5 message push)
    WeChat's server sends ``signature``, ``timestamp`` and ``nonce`` as query
    parameters; ``signature`` is the hex SHA-1 of the token, timestamp and nonce
    sorted and joined. The body is not signed (WeChat's plain-text mode).

Both refuse a timestamp more than ``tolerance`` seconds (300) from now, so a
captured request cannot be replayed later; every comparison is
:func:`hmac.compare_digest`.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from datetime import datetime

from ..errors import SignatureError

__all__ = ["TOLERANCE", "hmac_signature", "verify_hmac", "verify_wechat", "wechat_signature"]

#: How far (seconds) a signed timestamp may be from now.
TOLERANCE = 300


def _bytes(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _fresh(timestamp: str | None, now: datetime | None, tolerance: int,
           channel: str) -> None:
    if timestamp is None or not timestamp.isascii() or not timestamp.isdigit() \
            or len(timestamp) > 12:
        raise SignatureError(f"{channel}: the signed timestamp is missing or not Unix "
                             "seconds", channel=channel)
    moment = now.timestamp() if now is not None else time.time()
    if abs(moment - int(timestamp)) > tolerance:
        raise SignatureError(f"{channel}: the signed timestamp is more than {tolerance}s "
                             "from now (a replay, or a clock out of sync)", channel=channel)


def hmac_signature(secret: str | bytes, timestamp: int | str, body: bytes) -> str:
    """The ``X-Promokit-Signature`` value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(_bytes(secret), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={digest.hexdigest()}"


def verify_hmac(headers: Mapping[str, str], body: bytes, *, secret: str | bytes,
                channel: str, now: datetime | None = None,
                tolerance: int = TOLERANCE) -> None:
    """Raise :class:`~promokit.errors.SignatureError` unless one of the
    ``X-Promokit-Signature`` values is the HMAC of this body and a fresh timestamp."""
    timestamp = _header(headers, "X-Promokit-Timestamp")
    _fresh(timestamp, now, tolerance, channel)
    given = (_header(headers, "X-Promokit-Signature") or "").split()
    expected = hmac_signature(secret, str(timestamp), body).encode()
    if not any(hmac.compare_digest(expected, value.encode()) for value in given):
        raise SignatureError(f"{channel}: the webhook signature does not match",
                             channel=channel)


def wechat_signature(token: str, timestamp: str, nonce: str) -> str:
    """WeChat's message-push signature: SHA-1 of the sorted, joined three."""
    return hashlib.sha1("".join(sorted((token, timestamp, nonce))).encode(),
                        usedforsecurity=False).hexdigest()


def verify_wechat(params: Mapping[str, str], *, secret: str | bytes, channel: str,
                  now: datetime | None = None, tolerance: int = TOLERANCE) -> None:
    """Raise :class:`~promokit.errors.SignatureError` unless ``params`` (the query
    parameters) carry WeChat's signature for ``secret`` (the token) and a fresh
    timestamp."""
    timestamp = params.get("timestamp")
    _fresh(timestamp, now, tolerance, channel)
    nonce, given = params.get("nonce"), params.get("signature")
    if not nonce or not given:
        raise SignatureError(f"{channel}: nonce or signature missing", channel=channel)
    token = secret.decode() if isinstance(secret, bytes) else secret
    expected = wechat_signature(token, str(timestamp), nonce)
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise SignatureError(f"{channel}: the webhook signature does not match",
                             channel=channel)
