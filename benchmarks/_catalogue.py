"""Deterministic test data for the benchmarks: a catalogue, carts and campaign files.

Everything comes from seeded :class:`random.Random` instances (no hash
ordering, no clock), so the same seed gives the same catalogue, carts and
promotions on every run; ``bench_evaluate.py`` prints the priced totals, so a
change in the data would show.

- :func:`make_catalogue`: 2,000 SKUs (``SKU-0000`` …) in 12 × 6 categories
  (``cat-07/sub-3``), 40 brands and 5 shops, with list prices and a few tags.
- :func:`make_cart`: a 20-line cart (4 lines from each shop) with a full
  customer, channel, time, shipping and a coupon code; ``lines=5`` gives the
  first 5 of those lines.
- :func:`core_promotions`: the fixed set of 22 promotions that concern the
  20-line cart (20 pass their checks, 2 are rejected; of the 20, two lose to a
  rival in their group or to an exclusive one, so 18 are applied); their ids
  and outcome do not depend on how many other promotions are active.
- :func:`background_promotions`: any number of realistic promotions scoped to
  SKUs, brands and categories the 20-line cart does not contain. They are
  generated in sequence, so the first 100 of 1,000 are the 100 on their own.
- :func:`campaign_data`: the parsed form of a campaign file (as from
  ``tomllib``) holding the campaigns and a list of promotions.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = [
    "CAMPAIGN_CODE",
    "Catalogue",
    "Product",
    "background_promotions",
    "campaign_data",
    "core_promotions",
    "make_cart",
    "make_catalogue",
]

SEED = 20261111
SHOPS = tuple(f"shop-{n}" for n in range(1, 6))
TOP_CATEGORIES = 12
SUBCATEGORIES = 6
BRANDS = 40
SKUS = 2000
LINES_PER_SHOP = 4

#: The coupon code the benchmark carts carry (accepted by ``core-coupon-50``).
CAMPAIGN_CODE = "D11-BENCH-50"
#: The moment the carts are priced: 00:30 on 11 November, inside the flash windows.
NOW = "2026-11-11T00:30:00+08:00"


@dataclass(frozen=True)
class Product:
    sku: str
    category: str
    brand: str
    shop: str
    price: Decimal
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Catalogue:
    products: tuple[Product, ...]
    categories: tuple[str, ...]
    brands: tuple[str, ...]
    shops: tuple[str, ...]

    def by_sku(self) -> dict[str, Product]:
        return {p.sku: p for p in self.products}


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def make_catalogue(seed: int = SEED) -> Catalogue:
    """2,000 products spread over categories, brands and shops."""
    rng = random.Random(seed)
    categories = tuple(f"cat-{top:02d}/sub-{sub}"
                       for top in range(TOP_CATEGORIES) for sub in range(SUBCATEGORIES))
    brands = tuple(f"brand-{n:02d}" for n in range(BRANDS))
    products = []
    for n in range(SKUS):
        tags = []
        roll = rng.random()
        if roll < 0.04:
            tags.append("no-promo")
        elif roll < 0.14:
            tags.append("import")
        elif roll < 0.24:
            tags.append("new-arrival")
        # List prices from 19.90 to 899.00 in steps of 0.10, skewed towards cheap.
        price = Decimal(int(1990 + (89900 - 1990) * rng.random() ** 2) // 10 * 10) / 100
        products.append(Product(sku=f"SKU-{n:04d}", category=rng.choice(categories),
                                brand=rng.choice(brands), shop=rng.choice(SHOPS),
                                price=price, tags=tuple(tags)))
    return Catalogue(products=tuple(products), categories=categories, brands=brands,
                     shops=SHOPS)


def _cart_products(catalogue: Catalogue, seed: int) -> list[tuple[Product, int]]:
    rng = random.Random(seed + 1)
    chosen: list[tuple[Product, int]] = []
    for shop in catalogue.shops:
        in_shop = [p for p in catalogue.products if p.shop == shop]
        for product in rng.sample(in_shop, LINES_PER_SHOP):
            chosen.append((product, rng.choice((1, 1, 1, 2, 2, 3))))
    # Interleave the shops, as a real cart is in the order things were added.
    rng.shuffle(chosen)
    return chosen


def make_cart(catalogue: Catalogue, lines: int = 20, seed: int = SEED) -> dict[str, Any]:
    """A cart in its JSON form (DESIGN §5) with every field filled in.

    ``lines`` is at most 20; a shorter cart is the first ``lines`` lines of the
    20-line one.
    """
    chosen = _cart_products(catalogue, seed)
    if not 1 <= lines <= len(chosen):
        raise ValueError(f"lines must be 1..{len(chosen)}")
    return {
        "currency": "CNY",
        "lines": [
            {"id": f"l{n + 1}", "sku": p.sku, "quantity": quantity,
             "unit_price": _money(p.price), "category": p.category, "brand": p.brand,
             "shop": p.shop, "tags": list(p.tags)}
            for n, (p, quantity) in enumerate(chosen[:lines])
        ],
        "shipping": "12.00",
        "customer": {"id": "c-000042", "tier": "gold", "tags": ["student"],
                     "orders_count": 7, "last_order_at": "2026-08-30T21:14:00+08:00",
                     "region": "CN-31", "birthday": "1998-11-20"},
        "channel": "app",
        "now": NOW,
        "codes": [CAMPAIGN_CODE],
    }


def campaign_data(promotions: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A campaign file (as ``tomllib`` would parse it) holding ``promotions``."""
    return {
        "currency": "CNY",
        "timezone": "Asia/Shanghai",
        "jurisdiction": "cn",
        "hint_within": "0.5",
        "campaign": [
            {"id": "d11", "name": "雙11全民狂歡", "start": "2026-11-10T20:00:00",
             "end": "2026-11-11T23:59:59", "budget": "5000000.00",
             "funding": {"platform": "0.7", "merchant": "0.3"}},
            {"id": "brand-week", "name": "品牌周", "start": "2026-11-01T00:00:00",
             "end": "2026-11-15T23:59:59", "funding": {"brand": "0.5", "merchant": "0.5"}},
            {"id": "flash", "name": "整點秒殺", "start": "2026-11-10T00:00:00",
             "end": "2026-11-12T23:59:59", "funding": {"merchant": "1"}},
        ],
        "promotion": list(promotions),
    }


# -- the promotions that concern the cart ----------------------------------------------


def core_promotions(catalogue: Catalogue, seed: int = SEED) -> list[dict[str, Any]]:
    """The 22 promotions that touch the 20-line cart: 20 pass their checks (2 of
    those lose in stacking: a group rival, an exclusive one), 2 are rejected.

    They are chosen from the cart's own lines (the cart is fixed by the seed),
    so the set and its outcome never depend on the background promotions.
    """
    chosen = [p for p, _ in _cart_products(catalogue, seed)]
    top = sorted({p.category.split("/")[0] for p in chosen})
    subs = sorted({p.category for p in chosen})
    # The exclusive brand promotion takes one brand of the cart; the member price
    # leaves that brand out, so the two never touch the same line.
    exclusive_brand = chosen[7].brand
    # Two category sales in one group that overlap (a sub-category inside the other's
    # category): at most one of them may discount a line.
    group_top = chosen[2].category.split("/")[0]
    group_sub = next(p.category for p in chosen if p.category.startswith(group_top + "/")
                     and p.category != chosen[2].category)
    return [
        # -- item stage ----------------------------------------------------------------
        {"id": "core-member-price", "name": "會員價 金卡95折、白金92折", "campaign": "d11",
         "kind": "member_price", "percent_by_tier": {"gold": "5", "platinum": "8"},
         "scope": {"exclude_brands": [exclusive_brand], "exclude_tags": ["no-promo"]},
         "funding": {"merchant": "1"}},
        {"id": "core-cat-sale-a", "name": f"{group_top} 全場9折", "campaign": "d11",
         "kind": "percent_off", "percent": "10", "scope": {"categories": [group_top]},
         "group": "category-sale"},
        {"id": "core-cat-sale-b", "name": f"{group_sub} 85折", "campaign": "d11",
         "kind": "percent_off", "percent": "15", "scope": {"categories": [group_sub]},
         "group": "category-sale"},
        {"id": "core-new-arrival", "name": "新品 92折 最高減80", "campaign": "d11",
         "kind": "percent_off", "percent": "8", "max_off": "80",
         "scope": {"categories": top, "tags": ["new-arrival"]}},
        {"id": "core-student", "name": "學生專享 95折", "campaign": "d11",
         "kind": "percent_off", "percent": "5", "scope": {"categories": subs[4:9]},
         "conditions": [{"rule": "customer_tag", "any": ["student"]}]},
        {"id": "core-brand-day", "name": f"{exclusive_brand} 品牌日 8折 (不與其他優惠同享)",
         "campaign": "brand-week", "kind": "percent_off", "percent": "20",
         "scope": {"brands": [exclusive_brand]}, "exclusive": True, "priority": 10},
        {"id": "core-direct-1", "name": "直降¥10", "campaign": "d11", "kind": "amount_off",
         "amount": "10", "scope": {"skus": [chosen[0].sku, chosen[5].sku]}},
        {"id": "core-direct-2", "name": "直降¥15 上海專享", "campaign": "d11",
         "kind": "amount_off", "amount": "15", "scope": {"skus": [chosen[9].sku]},
         "conditions": [{"rule": "region", "in": ["CN-31", "CN-32"]}]},
        {"id": "core-direct-3", "name": "生日月直降¥8", "campaign": "d11", "kind": "amount_off",
         "amount": "8", "scope": {"skus": [chosen[12].sku, chosen[14].sku]},
         "conditions": [{"rule": "birthday", "within_days": 15}]},
        {"id": "core-flash-1", "name": "0點秒殺", "campaign": "flash", "kind": "fixed_price",
         "price": _money((chosen[1].price * Decimal("0.6")).quantize(Decimal("1"))),
         "scope": {"skus": [chosen[1].sku]}, "windows": [{"from": "00:00", "to": "02:00"}],
         "limits": {"stock": 500, "per_customer": 1, "per_order_units": 1}},
        {"id": "core-flash-2", "name": "0點秒殺", "campaign": "flash", "kind": "fixed_price",
         "price": _money((chosen[6].price * Decimal("0.7")).quantize(Decimal("1"))),
         "scope": {"skus": [chosen[6].sku]}, "windows": [{"from": "00:00", "to": "01:00"}],
         "limits": {"stock": 200, "per_customer": 2}},
        # Considered, not applied: outside its window at 00:30.
        {"id": "core-flash-10am", "name": "10點秒殺", "campaign": "flash",
         "kind": "fixed_price",
         "price": _money((chosen[4].price * Decimal("0.5")).quantize(Decimal("1"))),
         "scope": {"skus": [chosen[4].sku]}, "windows": [{"from": "10:00", "to": "10:30"}],
         "limits": {"stock": 100, "per_customer": 1}},
        # -- shop stage: one 滿減 per shop ----------------------------------------------
        *[_shop_threshold(shop, n) for n, shop in enumerate(catalogue.shops)],
        # -- platform stage -------------------------------------------------------------
        {"id": "core-cross-shop", "name": "跨店每滿300減50、滿500減100", "campaign": "d11",
         "kind": "tiered_threshold", "stage": "platform",
         "tiers": [{"spend": "300", "off": "50"}, {"spend": "500", "off": "100"}],
         "scope": {"exclude_tags": ["no-promo"]},
         "conditions": [{"rule": "channel", "in": ["app", "miniprogram"]}],
         "limits": {"per_customer": 3}},
        {"id": "core-coupon-50", "name": "平台券 滿199減50", "campaign": "d11",
         "kind": "order_amount_off", "stage": "platform", "amount": "50",
         "codes": [CAMPAIGN_CODE],
         "conditions": [{"rule": "min_spend", "amount": "199"}],
         "limits": {"per_customer": 1, "total": 100000}},
        {"id": "core-comeback-10", "name": "回流禮 ¥10", "campaign": "d11",
         "kind": "order_amount_off", "stage": "platform", "amount": "10",
         "conditions": [{"rule": "dormant", "days": 30},
                        {"rule": "min_quantity", "quantity": 3}]},
        # Considered, not applied: the customer has ordered before.
        {"id": "core-new-user-20", "name": "新人無門檻券¥20", "campaign": "d11",
         "kind": "order_amount_off", "stage": "platform", "amount": "20",
         "conditions": [{"rule": "new_customer"}]},
        # -- shipping stage -------------------------------------------------------------
        {"id": "core-ship-99", "name": "滿99包郵", "kind": "free_shipping", "threshold": "99"},
    ]


def _shop_threshold(shop: str, n: int) -> dict[str, Any]:
    if n % 2:
        return {"id": f"core-{shop}-every", "name": f"{shop} 每滿200減20 最多減60",
                "campaign": "d11", "kind": "tiered_threshold", "every": True,
                "tiers": [{"spend": "200", "off": "20"}], "cap": "60",
                "scope": {"shops": [shop]}, "funding": {"merchant": "1"}}
    return {"id": f"core-{shop}-tiers", "name": f"{shop} 滿200減20、滿400減50",
            "campaign": "d11", "kind": "tiered_threshold",
            "tiers": [{"spend": "200", "off": "20"}, {"spend": "400", "off": "50"}],
            "scope": {"shops": [shop]}, "funding": {"merchant": "1"}}


# -- promotions that exist but do not concern the cart -----------------------------------


def background_promotions(catalogue: Catalogue, count: int,
                          seed: int = SEED) -> list[dict[str, Any]]:
    """``count`` promotions scoped to SKUs, brands and categories the cart does not hold.

    A mix like a marketplace's during a sale: category and brand discounts,
    直降 on SKUs, flash sales, brand 滿減, member prices, coupons, free
    shipping; some with conditions, groups, limits or priorities.
    """
    return list(_background(catalogue, seed, count))


def _background(catalogue: Catalogue, seed: int, count: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed + 2)
    in_cart = [p for p, _ in _cart_products(catalogue, seed)]
    cart_skus = {p.sku for p in in_cart}
    cart_tops = {p.category.split("/")[0] for p in in_cart}
    cart_subs = {p.category for p in in_cart}
    cart_brands = {p.brand for p in in_cart}
    products = [p for p in catalogue.products if p.sku not in cart_skus]
    brands = [b for b in catalogue.brands if b not in cart_brands]
    subs = [c for c in catalogue.categories if c not in cart_subs]
    tops = sorted({c.split("/")[0] for c in catalogue.categories} - cart_tops)
    # Sub-categories of categories the cart touches, and whole categories it does not.
    categories = subs + tops
    conditions = [
        [{"rule": "member_tier", "in": ["gold", "platinum"]}],
        [{"rule": "channel", "in": ["app"]}],
        [{"rule": "region", "in": ["CN-11", "CN-31", "CN-44"]}],
        [{"rule": "new_customer"}],
        [{"rule": "min_quantity", "quantity": 2}],
        [{"rule": "customer_tag", "any": ["student", "teacher"]}],
    ]
    for n in range(count):
        pid = f"bg-{n:04d}"
        roll = rng.random()
        extra: dict[str, Any] = {}
        if rng.random() < 0.25:
            extra["conditions"] = rng.choice(conditions)
        if rng.random() < 0.1:
            extra["priority"] = rng.randrange(1, 5)
        if roll < 0.30:
            promotion = {"kind": "percent_off", "name": "品類折扣", "campaign": "d11",
                         "percent": str(rng.choice((5, 10, 12, 15, 20, 30))),
                         "scope": {"categories": rng.sample(categories, rng.randrange(1, 4))}}
            if rng.random() < 0.3:
                promotion["max_off"] = str(rng.choice((30, 50, 100)))
        elif roll < 0.52:
            skus = rng.sample(products, rng.randrange(1, 4))
            amount = min(p.price for p in skus) * Decimal("0.1")
            promotion = {"kind": "amount_off", "name": "直降", "campaign": "d11",
                         "amount": _money(max(Decimal(1), amount.quantize(Decimal(1)))),
                         "scope": {"skus": [p.sku for p in skus]}}
        elif roll < 0.62:
            product = rng.choice(products)
            hour = rng.randrange(0, 24)
            promotion = {"kind": "fixed_price", "name": "整點秒殺", "campaign": "flash",
                         "price": _money((product.price * Decimal("0.6")).quantize(Decimal(1))),
                         "scope": {"skus": [product.sku]},
                         "windows": [{"from": f"{hour:02d}:00",
                                      "to": f"{(hour + 1) % 24:02d}:00"}],
                         "limits": {"stock": rng.choice((50, 100, 500)), "per_customer": 1}}
        elif roll < 0.74:
            spend = rng.choice((199, 299, 399))
            promotion = {"kind": "tiered_threshold", "name": "品牌滿減", "campaign": "brand-week",
                         "tiers": [{"spend": str(spend), "off": str(spend // 10)},
                                   {"spend": str(spend * 2), "off": str(spend // 4)}],
                         "scope": {"brands": [rng.choice(brands)]}}
        elif roll < 0.80:
            promotion = {"kind": "member_price", "name": "品牌會員價", "campaign": "brand-week",
                         "percent_by_tier": {"silver": "3", "gold": "5", "platinum": "8"},
                         "scope": {"brands": [rng.choice(brands)]}}
        elif roll < 0.88:
            promotion = {"kind": "order_amount_off", "name": "品類券", "campaign": "d11",
                         "amount": str(rng.choice((5, 10, 20, 30))),
                         "codes": [f"BG-{n:04d}-{rng.randrange(16**6):06X}"],
                         "scope": {"categories": [rng.choice(categories)]},
                         "limits": {"per_customer": 1}}
        elif roll < 0.94:
            promotion = {"kind": "free_shipping", "name": "品牌包郵",
                         "threshold": str(rng.choice((49, 69, 99))),
                         "scope": {"brands": [rng.choice(brands)]}}
        else:
            skus = rng.sample(products, 2)
            promotion = {"kind": "percent_off", "name": "專享折扣", "campaign": "d11",
                         "percent": str(rng.choice((10, 20))),
                         "scope": {"skus": [p.sku for p in skus]},
                         "group": f"bg-group-{rng.randrange(20)}"}
            if rng.random() < 0.3:
                promotion["exclusive"] = True
        yield {"id": pid, **promotion, **extra}
