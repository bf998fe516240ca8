"""Signing and verifying promokit's outbound webhooks, in the Standard Webhooks
layout (https://www.standardwebhooks.com/).

Each request carries three headers: ``webhook-id`` (the event's stable id, also
sent as ``idempotency-key``), ``webhook-timestamp`` (Unix seconds when this
attempt was signed) and ``webhook-signature``, one or more space-separated
``v1,<base64>`` entries, each the HMAC-SHA256 of ``"<id>.<timestamp>.<body>"``.
The secret is ``whsec_`` followed by the base64 of the key (as the standard's
libraries take it), or any other text, whose UTF-8 bytes are the key.

A receiver checks a request with :func:`verify`::

    >>> secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    >>> body = b'{"id":"evt_1","type":"order.committed"}'
    >>> headers = sign(secret, "evt_1", 1_796_000_000, body)
    >>> verify(secret, headers, body, now=1_796_000_010)
    {'id': 'evt_1', 'type': 'order.committed'}
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from .errors import SignatureError

__all__ = ["DEFAULT_TOLERANCE", "sign", "signature", "verify"]

#: Seconds a request's timestamp may be from the receiver's clock (the replay window).
DEFAULT_TOLERANCE = 300

_CHANNEL = "promokit webhook"


def _key(secret: str | bytes) -> bytes:
    if isinstance(secret, bytes):
        return secret
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret[len("whsec_"):], validate=True)
        except binascii.Error as error:
            raise ValueError("a whsec_ secret must be base64 after the prefix") from error
    if not secret:
        raise ValueError("the webhook secret is empty")
    return secret.encode()


def signature(secret: str | bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``v1,<base64>`` signature of one request."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def sign(secret: str | bytes, message_id: str, timestamp: int, body: bytes
         ) -> dict[str, str]:
    """The headers of a signed request: ``webhook-id``, ``webhook-timestamp``,
    ``webhook-signature``."""
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(secret, message_id, timestamp, body)}


def verify(secret: str | bytes, headers: Mapping[str, str], body: bytes, *,
           tolerance: float = DEFAULT_TOLERANCE, now: float | None = None) -> Any:
    """Check a received webhook and return its JSON body.

    ``headers`` may be any mapping (header names are matched without regard to
    case); ``body`` is the raw request body, before any parsing. Raises
    :class:`~promokit.errors.SignatureError` when a header is missing, the
    timestamp is more than ``tolerance`` seconds from ``now`` (the clock, by
    default; a replayed request is refused) or no ``v1`` signature matches.
    Signatures are compared in constant time."""
    lower = {name.lower(): value for name, value in headers.items()}
    missing = [name for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
               if not lower.get(name)]
    if missing:
        raise SignatureError(f"missing header(s): {', '.join(missing)}", channel=_CHANNEL)
    message_id, stamp = lower["webhook-id"], lower["webhook-timestamp"]
    try:
        timestamp = int(stamp)
    except ValueError:
        raise SignatureError(f"webhook-timestamp {stamp[:40]!r} is not Unix seconds",
                             channel=_CHANNEL) from None
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise SignatureError(f"webhook-timestamp is {now - timestamp:+.0f} s from the clock, "
                             f"outside the {tolerance:g} s window (a replay?)",
                             channel=_CHANNEL)
    expected = signature(secret, message_id, timestamp, body)
    matched = False
    for given in lower["webhook-signature"].split():
        matched |= hmac.compare_digest(given.encode(), expected.encode())
    if not matched:
        raise SignatureError("no webhook-signature matches the body", channel=_CHANNEL)
    return json.loads(body)
