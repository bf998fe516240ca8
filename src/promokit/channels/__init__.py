"""Channel adapters and channel profiles: the interface plugins implement.

- :class:`ChannelAdapter` reads a channel's cart payload into a
  :class:`~promokit.cart.Cart`, writes a result back in the channel's shape,
  declares the channel's :class:`Capabilities` and verifies its webhooks
  (:mod:`promokit.channels.signing`).
- :class:`ChannelProfile` says what a channel forbids (:class:`Restriction`);
  :class:`ChannelRules` adds a campaign file's ``[channels.<name>] allow``.

The built-in adapters and the ``wechat_h5`` profile are plugins of
:mod:`promokit.adapters`; docs/channels.md shows each payload.
"""

from __future__ import annotations

from .base import (
    Capabilities,
    ChannelAdapter,
    HmacSignedAdapter,
    copy,
    copy_customer,
    copy_lines,
    fen,
    read_payload,
    to_fen,
)
from .profiles import ChannelProfile, ChannelRules, Refusal, Restriction, Uses
from .signing import TOLERANCE, hmac_signature, verify_hmac, verify_wechat, wechat_signature

__all__ = [
    "TOLERANCE",
    "Capabilities",
    "ChannelAdapter",
    "ChannelProfile",
    "ChannelRules",
    "HmacSignedAdapter",
    "Refusal",
    "Restriction",
    "Uses",
    "copy",
    "copy_customer",
    "copy_lines",
    "fen",
    "hmac_signature",
    "read_payload",
    "to_fen",
    "verify_hmac",
    "verify_wechat",
    "wechat_signature",
]
