"""What a channel adapter is: :class:`ChannelAdapter` and its :class:`Capabilities`.

An adapter stands between a channel (the web shop, the app, a WeChat mini
program, a live-stream room, a store's POS …) and the engine. It reads the
channel's own cart payload into a :class:`~promokit.cart.Cart`
(:meth:`ChannelAdapter.to_cart`), writes a :class:`~promokit.result.PriceResult`
back in the channel's shape (:meth:`ChannelAdapter.from_result`), says what the
channel can do (:attr:`ChannelAdapter.capabilities`) and, if the channel signs
its webhooks, checks the signature (:meth:`ChannelAdapter.verify`).

A malformed payload raises :class:`~promokit.errors.PayloadError` listing every
problem with its path in the payload (``goods_list[1].price``); it is read with
:class:`~promokit.params.Params`, so unknown keys are problems too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

import attrs

from ..cart import Cart
from ..errors import InputError, PayloadError, Problem, SignatureError
from ..inputs import DEFAULT_LIMITS, InputLimits, decode_json
from ..money import MAX_AMOUNT, currency
from ..params import Params
from ..result import PriceResult
from .signing import verify_hmac

__all__ = ["Capabilities", "ChannelAdapter", "HmacSignedAdapter", "copy", "copy_customer",
           "copy_lines", "fen", "read_payload", "to_fen"]


def _frozen(values: Iterable[str]) -> frozenset[str]:
    return frozenset(values)


@attrs.frozen(kw_only=True)
class Capabilities:
    """What a channel can carry and show. ``promokit plugins`` lists them; a shop's
    backend reads them to decide what to offer where."""

    share_links: bool = False
    """Customers can share a link that opens in the channel (拼團, 砍價 invitations)."""
    coupon_codes: bool = True
    """Customers can type or scan coupon codes."""
    games: bool = True
    """Games can be played in the channel (whether a profile forbids some is separate)."""
    payment_kinds: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen)
    """How customers pay: ``card``, ``alipay``, ``wechat_pay``, ``cash``, ``member_card`` …"""
    max_lines: int | None = None
    """The most lines one cart of the channel carries (``None``: the engine's bound)."""
    money: str = "decimal"
    """How its payloads write money: ``decimal`` (strings, DESIGN §5) or ``fen``
    (whole minor units, as WeChat Pay does)."""
    signature: str | None = None
    """How its webhooks are signed (``hmac-sha256``, ``wechat-sha1``), if they are."""

    def to_json(self) -> dict[str, Any]:
        return {"share_links": self.share_links, "coupon_codes": self.coupon_codes,
                "games": self.games, "payment_kinds": sorted(self.payment_kinds),
                "max_lines": self.max_lines, "money": self.money,
                "signature": self.signature}


class ChannelAdapter:
    """Base class of channel adapters. Subclass it and register an instance through
    ``promokit_register_adapters``.

    ``name`` is the adapter's registry name (``wechat_mini_program``); the carts it
    builds carry ``channel``, which is ``name`` unless the shop's campaign files call
    the channel otherwise (``WeChatMiniProgramAdapter(channel="miniprogram")``).
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    capabilities: ClassVar[Capabilities] = Capabilities()

    def __init__(self, *, channel: str | None = None) -> None:
        self.channel = channel or self.name

    def to_cart(self, payload: Mapping[str, Any] | str | bytes) -> Cart:
        """The channel's cart payload (a mapping, or JSON text) as a cart.

        Raises :class:`~promokit.errors.PayloadError` listing every problem by its
        path in the payload."""
        data = read_payload(payload, channel=self.name)
        problems: list[Problem] = []
        paths: dict[str, str] = {}
        cart_json = self.translate(Params(data, "", problems), paths)
        try:
            cart = Cart.from_json(cart_json)
        except InputError as error:
            # the cart's own checks, at the payload's paths; a value the adapter already
            # refused (and so left out of the cart) is not reported twice
            seen = {problem.path for problem in problems}
            problems.extend(found for found in (
                Problem(path=_payload_path(paths, problem.path), message=problem.message)
                for problem in error.problems) if found.path not in seen)
        if problems:
            raise PayloadError(problems, channel=self.name)
        return cart

    def translate(self, p: Params, paths: dict[str, str]) -> dict[str, Any]:
        """The payload read through ``p`` as a cart's JSON (DESIGN §5).

        Check the payload's own shape through ``p`` (its problems go to
        ``p.problems``; call ``finish()`` on every table so unknown keys are
        reported) and record in ``paths`` where each cart path comes from
        (``"lines[0].unit_price"`` → ``"goods_list[0].price"``): the cart's own
        checks then name the payload's paths. :func:`copy` does both."""
        raise NotImplementedError

    def from_cart(self, cart: Cart) -> dict[str, Any]:
        """The channel's payload for ``cart``: ``to_cart(from_cart(c)) == c`` for a
        cart the channel can express."""
        raise NotImplementedError

    def from_result(self, result: PriceResult, cart: Cart) -> dict[str, Any]:
        """``result`` (of pricing ``cart``) in the channel's shape."""
        raise NotImplementedError

    def verify(self, headers: Mapping[str, str], body: bytes, *, secret: str | bytes,
               now: datetime | None = None) -> None:
        """Check an inbound webhook's signature; raise
        :class:`~promokit.errors.SignatureError` unless it verifies. Channels that
        do not sign webhooks refuse every call."""
        raise SignatureError(f"the {self.name} channel does not sign its webhooks",
                             channel=self.name)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} channel={self.channel!r}>"


class HmacSignedAdapter(ChannelAdapter):
    """An adapter whose channel signs its webhooks ``hmac-sha256`` over
    ``"<timestamp>.<body>"`` (:func:`~promokit.channels.signing.verify_hmac`)."""

    def verify(self, headers: Mapping[str, str], body: bytes, *, secret: str | bytes,
               now: datetime | None = None) -> None:
        verify_hmac(headers, body, secret=secret, channel=self.name, now=now)


def copy(p: Params, out: dict[str, Any], fields: Mapping[str, str], paths: dict[str, str],
         at: str = "") -> None:
    """Copy payload keys to cart keys (``fields``: payload key → cart key) as they are,
    recording where each cart key comes from; the cart checks the values."""
    for source, target in fields.items():
        paths[_join(at, target)] = p.path_of(source)
        if p.has(source):
            out[target] = p.raw(source)


def copy_customer(p: Params, key: str, out: dict[str, Any], fields: Mapping[str, str],
                  paths: dict[str, str]) -> Params | None:
    """Copy the payload's customer table ``key`` (if any) to the cart's ``customer``
    (``fields``: payload key → customer key); the table, finished, or ``None``."""
    table = p.table(key)
    if table is not None:
        copy(table, out.setdefault("customer", {}), fields, paths, "customer")
        table.finish()
    return table


def copy_lines(p: Params, key: str, fields: Mapping[str, str], paths: dict[str, str], *,
               each: Callable[[Params, dict[str, Any], str], None] | None = None
               ) -> list[dict[str, Any]]:
    """The payload's required list of item tables ``key`` as cart lines: each item's
    ``fields`` copied (payload key → line key), then ``each(item, line, at)`` adding
    what else the channel's items hold (``at``: the line's cart path); every path is
    recorded, so a problem the cart finds is reported where the payload has it."""
    paths["lines"] = p.path_of(key)
    lines = []
    for index, item in enumerate(p.tables(key, required=True) or []):
        at = f"lines[{index}]"
        line: dict[str, Any] = {}
        paths[at] = item.path
        copy(item, line, fields, paths, at)
        if each is not None:
            each(item, line, at)
        item.finish()
        lines.append(line)
    return lines


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _payload_path(paths: Mapping[str, str], cart_path: str) -> str:
    """The payload path a cart path came from: the longest recorded prefix, with the
    rest of the path kept (``lines[0].tags[1]`` → ``items[0].labels[1]``)."""
    if cart_path in paths:
        return paths[cart_path]
    best = ""
    for known in paths:
        if cart_path.startswith(known) and cart_path[len(known):][:1] in (".", "[") \
                and len(known) > len(best):
            best = known
    return paths[best] + cart_path[len(best):] if best else cart_path


def read_payload(payload: Mapping[str, Any] | str | bytes, *, channel: str,
                 limits: InputLimits = DEFAULT_LIMITS) -> Mapping[str, Any]:
    """A payload as a mapping: JSON text is decoded within ``limits``; anything but an
    object is a :class:`~promokit.errors.PayloadError`."""
    if isinstance(payload, (str, bytes)):
        try:
            payload = decode_json(payload, error=InputError, limits=limits)
        except InputError as error:
            raise PayloadError(error.problems, channel=channel) from None
    if not isinstance(payload, Mapping):
        raise PayloadError([Problem(path="", message="must be a JSON object")], channel=channel)
    return payload


#: WeChat Pay's amounts are whole fen of CNY.
_CNY = currency("CNY")
_MISSING = object()


def fen(p: Params, key: str, *, required: bool = True) -> Decimal | None:
    """A WeChat Pay amount, a whole number of fen (``39900`` is ¥399.00), read from
    ``p`` as yuan, exactly. Strings, floats, negative and huge numbers are problems."""
    value = p.raw(key, _MISSING)
    if value is _MISSING:
        if required:
            p.problem("is required", key)
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        p.problem(f"must be a whole number of fen (39900 for ¥399.00), got {value!r}", key)
        return None
    amount = _CNY.to_decimal(value)
    if value < 0:
        p.problem(f"must be >= 0, got {value}", key)
        return None
    if amount > MAX_AMOUNT:
        p.problem(f"{value:,} fen is too large (at most {MAX_AMOUNT:,} CNY)", key)
        return None
    return amount


def to_fen(amount: Decimal) -> int:
    """An amount of CNY (yuan, at most two decimals, as results hold them) as whole
    fen, exactly: ``Decimal("399.00")`` → ``39900``."""
    minor = amount.scaleb(2)
    if minor != minor.to_integral_value():
        raise ValueError(f"{amount} CNY is not a whole number of fen")
    return int(minor)
