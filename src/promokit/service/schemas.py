"""The documented shapes of the request bodies (DESIGN §5), from which Litestar
generates the OpenAPI document's schemas. They describe the JSON; they do not read
it (:mod:`.wire` does, with promokit's own readers)."""

from __future__ import annotations

from typing import Literal

import attrs

__all__ = ["CampaignDocument", "Cart", "CodeAttempt", "CodeCount", "Codes", "Customer",
           "GameAction", "Line", "RefundRequest"]


@attrs.define(kw_only=True)
class Customer:
    """The customer of a cart (DESIGN §5); every field optional."""

    id: str | None = None
    tier: str | None = None
    tags: list[str] | None = None
    orders_count: int | None = None
    last_order_at: str | None = None
    region: str | None = None
    birthday: str | None = None


@attrs.define(kw_only=True)
class Line:
    """A cart line; money as a string to the currency's minor unit ("399.00")."""

    id: str
    sku: str
    quantity: int
    unit_price: str
    category: str | None = None
    brand: str | None = None
    shop: str | None = None
    tags: list[str] | None = None
    deposit_paid: str | None = None
    group_id: str | None = None
    bargain_id: str | None = None


@attrs.define(kw_only=True)
class Cart:
    """A cart (DESIGN §5). ``now`` steers evaluation only: checkout runs on the
    service's clock."""

    currency: str
    lines: list[Line]
    shipping: str | None = None
    customer: Customer | None = None
    channel: str | None = None
    now: str | None = None
    codes: list[str] | None = None


@attrs.define(kw_only=True)
class RefundRequest:
    """Units to refund per line id (default: all not refunded yet) and the policy."""

    units: dict[str, int] | None = None
    policy: Literal["proportional", "reevaluate"] = "proportional"


@attrs.define(kw_only=True)
class GameAction:
    """Who plays (as a cart's customer) and the action's arguments, as strings."""

    customer: Customer | None = None
    args: dict[str, str] | None = None


@attrs.define(kw_only=True)
class CodeAttempt:
    """A code a customer typed, and who typed it (wrong codes count against them)."""

    code: str
    customer: str | None = None


@attrs.define(kw_only=True)
class CodeCount:
    """How many codes to generate (default: the batch's ``count``)."""

    count: int | None = None


@attrs.define(kw_only=True)
class Codes:
    """Codes made elsewhere, to register in a batch."""

    codes: list[str]


@attrs.define(kw_only=True)
class CampaignDocument:
    """A campaign file in its JSON form (DESIGN §5; TOML with
    ``Content-Type: application/toml``)."""

    currency: str
    timezone: str | None = None




# -- answers (documented; written by the library's own ``to_json``) ---------------------


@attrs.define(kw_only=True)
class LineDiscount:
    promotion: str
    amount: str


@attrs.define(kw_only=True)
class ResultLine:
    id: str
    sku: str
    quantity: int
    unit_price: str
    subtotal: str
    discounts: list[LineDiscount]
    total: str
    deposit_paid: str | None = None


@attrs.define(kw_only=True)
class Applied:
    promotion: str
    stage: str
    amount: str
    funding: dict[str, str]


@attrs.define(kw_only=True)
class NotApplied:
    """A promotion that did not apply, with its stable reason code (DESIGN §7)."""

    promotion: str
    reason: str
    message: str


@attrs.define(kw_only=True)
class Hint:
    promotion: str
    missing: str
    saving: str
    message: str
    shop: str | None = None


@attrs.define(kw_only=True)
class Reward:
    promotion: str
    kind: str
    amount: str


@attrs.define(kw_only=True)
class GiftLine:
    promotion: str
    sku: str
    name: str
    quantity: int
    value: str


@attrs.define(kw_only=True)
class PriceResult:
    """The result of DESIGN §5, as ``PriceResult.to_json`` writes it."""

    currency: str
    subtotal: str
    discount_total: str
    shipping_discount: str
    shipping: str
    total: str
    balance_due: str
    lines: list[ResultLine]
    applied: list[Applied]
    not_applied: list[NotApplied]
    hints: list[Hint]
    rewards: list[Reward]
    gifts: list[GiftLine]
    optimal: bool
    rejected_codes: list[NotApplied] | None = None
    store_unavailable: bool | None = None


@attrs.define(kw_only=True)
class Order:
    """An order as ``Order.to_json`` writes it (the cart, the result, its state,
    what it holds and its refunds)."""

    order_id: str
    status: str
    """``reserved``, ``committed``, ``released``, ``expired`` or ``refunded``."""
    campaign_version: str
    cart: Cart
    result: PriceResult
    created_at: str | None
    expires_at: str | None
    committed_at: str | None
    closed_at: str | None


@attrs.define(kw_only=True)
class Refund:
    """A refund as ``Refund.to_json`` writes it."""

    refund_id: str
    units: dict[str, int]
    policy: str
    amount: str
    clawback: str
    at: str
