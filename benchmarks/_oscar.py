"""django-oscar's side of ``bench_evaluate.py``'s comparison, and the promotions both share.

Not a script: ``bench_evaluate.py`` imports it (``import _oscar``). Two parts:

- The offers, engine-neutral (:class:`Offer`), in four kinds that both engines
  have: a percentage off a category range, spend ¥X get ¥Y off, buy 2 get the
  cheapest free, and 2 for a fixed price. :func:`concerning_offers` gives the
  20 that concern the 20-line cart of ``_catalogue.make_cart``;
  :func:`background_offers` any number scoped to SKUs and categories the cart
  does not hold (generated in sequence, like ``_catalogue.background_promotions``,
  so the first 100 of 1,000 are the 100 on their own). :func:`promokit_promotions`
  writes them as promokit promotions (dicts for ``_catalogue.campaign_data``).
  This part imports nothing beyond the standard library.
- :class:`OscarShop`: django-oscar in this process. It configures Django
  (``settings.configure``: oscar's ``INSTALLED_APPS`` and defaults, SQLite in
  memory), creates the tables, the shared catalogue (categories, products,
  stock records with the list prices), the offers as ``ConditionalOffer`` s with
  their ranges, conditions and benefits, and the baskets; it prices a basket with
  oscar's own ``Applicator().apply(basket, user, request)``. Install it with
  ``pip install -r benchmarks/requirements-oscar.txt``; :func:`unavailable` says
  why it cannot be used here.

How the offers map (the concerning ones are laid out so that both engines give
the same result; see :func:`concerning_offers`):

==================  ================================  =======================================
offer               django-oscar                      promokit
==================  ================================  =======================================
``percent``         Count ≥ 1 on the range;           ``percent_off``
                    Percentage benefit on the range
``spend``           Value ≥ X on the range;           ``tiered_threshold``, ``stage =
                    Absolute (Y) benefit on the range  "platform"``, one tier
``multibuy``        Count ≥ 2 on the range;           ``buy_x_get_y``, buy 1 get 1
                    Multibuy benefit on the range
``fixed``           Count ≥ 2 on the range;           ``bundle_price``, one component:
                    Fixed price benefit                the range, quantity 2
==================  ================================  =======================================

Every oscar offer is a site offer, exclusive (oscar's default: a unit one offer
has used is not available to another), applied by priority. promokit gets the
same priorities, and the rivals (two offers on the same lines) share a ``group``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import _catalogue as data

__all__ = [
    "Offer",
    "OscarShop",
    "background_offers",
    "concerning_offers",
    "promokit_promotions",
    "unavailable",
    "versions",
]

REQUIREMENTS = "benchmarks/requirements-oscar.txt"
#: What oscar's Count condition of a ``fixed`` offer asks for, and the bundle's size.
BUNDLE = 2


@dataclass(frozen=True)
class Offer:
    """One offer, for either engine. Its range is ``categories`` (each with its
    sub-categories) or ``skus``, never both."""

    id: str
    kind: str
    """``percent``, ``spend``, ``multibuy`` or ``fixed``."""
    value: Decimal
    """The percent (``percent``), the money off (``spend``), the price of 2 (``fixed``);
    unused for ``multibuy``."""
    categories: tuple[str, ...] = ()
    skus: tuple[str, ...] = ()
    spend: Decimal | None = None
    """``spend`` only: the threshold."""
    priority: int = 0
    group: str | None = None
    """promokit's ``group`` for rivals; oscar needs none (exclusive offers)."""


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


# -- the offers that concern the cart ----------------------------------------------------


def concerning_offers(catalogue: data.Catalogue, seed: int = data.SEED) -> list[Offer]:
    """The 20 offers whose ranges hold lines of the 20-line cart (14 apply, 6 do not).

    They are laid out on the cart's lines (fixed by the seed) so that the two
    engines' semantics coincide: the lines an offer may discount are no other
    offer's, except for three rival pairs, where the better offer has the higher
    priority (oscar applies it first and its rival finds the units used; promokit
    puts the two in one ``group`` and keeps the better). So no line carries two
    discounts, a threshold measures list prices in both, a percentage of a price
    in steps of ¥0.10 at 10 % or 20 % is exact to the cent, a multibuy range
    holds at most 3 units and a fixed-price one at most 2, where oscar's "the
    cheapest free, once" and "the cheapest 2" and promokit's "the cheapest
    given" and "the dearest 2" come to the same.

    Applied: 6 percentages, 3 spend-300-get-50, 2 buy-2-cheapest-free, 3 fixed
    prices. Not applied: 3 rivals that lose, a spend offer below ¥300, a multibuy
    and a fixed price with 1 unit in range.
    """
    lines = data.make_cart(catalogue, 20, seed)["lines"]

    def sub(i: int) -> tuple[str, ...]:
        return (lines[i]["category"],)

    def top(i: int) -> tuple[str, ...]:
        return (lines[i]["category"].split("/")[0],)

    def sku(i: int) -> tuple[str, ...]:
        return (lines[i]["sku"],)

    def pair_price(i: int, share: str) -> Decimal:
        # The price of 2 units of line i at about ``share`` of their list price.
        return (2 * Decimal(lines[i]["unit_price"]) * Decimal(share)).quantize(Decimal(1))

    ten, twenty, five = Decimal(10), Decimal(20), Decimal(5)
    spend, off = Decimal(300), Decimal(50)
    offers = [
        # Percentages on category ranges; three rival pairs on the same lines.
        Offer("eq-pct-a", "percent", ten, categories=sub(0), priority=1, group="eq-rival-a"),
        Offer("eq-pct-a-low", "percent", five, categories=sub(0), group="eq-rival-a"),
        Offer("eq-pct-b", "percent", twenty, categories=top(3)),
        Offer("eq-pct-c", "percent", ten, categories=sub(8)),
        Offer("eq-pct-d", "percent", twenty, categories=top(19), priority=1,
              group="eq-rival-d"),
        Offer("eq-pct-d-low", "percent", five, categories=sub(19), group="eq-rival-d"),
        Offer("eq-pct-e", "percent", ten, categories=sub(7), priority=1, group="eq-rival-e"),
        Offer("eq-pct-e-low", "percent", five, categories=top(7), group="eq-rival-e"),
        Offer("eq-pct-f", "percent", twenty, categories=sub(5)),
        # Spend ¥300, get ¥50 off (the last one's range holds ¥52.80: below threshold).
        Offer("eq-spend-a", "spend", off, categories=sub(1), spend=spend),
        Offer("eq-spend-b", "spend", off, categories=top(4), spend=spend),
        Offer("eq-spend-c", "spend", off, skus=sku(11), spend=spend),
        Offer("eq-spend-d", "spend", off, categories=top(14), spend=spend),
        # Buy 2, get the cheapest free (the last one: 1 unit in range).
        Offer("eq-multi-a", "multibuy", Decimal(0), skus=sku(2)),
        Offer("eq-multi-b", "multibuy", Decimal(0), skus=sku(10)),
        Offer("eq-multi-c", "multibuy", Decimal(0), skus=sku(15)),
        # 2 for a fixed price (the last one: 1 unit in range).
        Offer("eq-fixed-a", "fixed", pair_price(6, "0.75"), skus=sku(6)),
        Offer("eq-fixed-b", "fixed", pair_price(9, "0.76"), skus=sku(9)),
        Offer("eq-fixed-c", "fixed", pair_price(17, "0.78"), skus=sku(17)),
        Offer("eq-fixed-d", "fixed", pair_price(15, "0.8"), skus=sku(15)),
    ]
    _check_layout(offers, lines)
    return offers


def _covers(offer: Offer, line: dict[str, Any]) -> bool:
    if offer.skus:
        return line["sku"] in offer.skus
    return any(line["category"] == c or line["category"].startswith(c + "/")
               for c in offer.categories)


def _check_layout(offers: Sequence[Offer], lines: Sequence[dict[str, Any]]) -> None:
    """What :func:`concerning_offers` promises, checked on the cart, so that a change
    in the catalogue or the cart shows here rather than as a quiet mismatch: every
    offer concerns a line; the offers that can apply (at list prices) share no line
    but with their rival; a multibuy holds at most 3 units, a fixed price at most 2."""
    def met(offer: Offer) -> bool:
        covered = [x for x in lines if _covers(offer, x)]
        units = sum(x["quantity"] for x in covered)
        if offer.kind == "spend":
            assert offer.spend is not None
            return sum(Decimal(x["unit_price"]) * x["quantity"] for x in covered) >= offer.spend
        return units >= (1 if offer.kind == "percent" else BUNDLE)

    for offer in offers:
        covered = [x for x in lines if _covers(offer, x)]
        assert covered, f"{offer.id} concerns no line of the cart"
        units = sum(x["quantity"] for x in covered)
        assert units <= {"multibuy": 3, "fixed": BUNDLE}.get(offer.kind, units), offer.id
    for line in lines:
        rivals = {o.group or o.id for o in offers if met(o) and _covers(o, line)}
        assert len(rivals) <= 1, f"{line['id']} is in the ranges of {sorted(rivals)}"


# -- the offers that do not concern the cart ---------------------------------------------


def background_offers(catalogue: data.Catalogue, count: int,
                      seed: int = data.SEED) -> list[Offer]:
    """``count`` offers scoped to SKUs and categories the 20-line cart does not hold:
    40 % percentages (1–3 categories), 20 % spend offers (a category), 20 % multibuys
    and 20 % fixed prices (1–3 SKUs)."""
    return list(_background(catalogue, seed, count))


def _background(catalogue: data.Catalogue, seed: int, count: int) -> Iterator[Offer]:
    rng = random.Random(seed + 3)
    lines = data.make_cart(catalogue, 20, seed)["lines"]
    cart_skus = {x["sku"] for x in lines}
    cart_subs = {x["category"] for x in lines}
    cart_tops = {c.split("/")[0] for c in cart_subs}
    products = [p for p in catalogue.products if p.sku not in cart_skus]
    categories = ([c for c in catalogue.categories if c not in cart_subs]
                  + sorted({c.split("/")[0] for c in catalogue.categories} - cart_tops))
    for n in range(count):
        oid = f"bg-{n:04d}"
        roll = rng.random()
        if roll < 0.4:
            yield Offer(oid, "percent", Decimal(rng.choice((5, 10, 15, 20, 30))),
                        categories=tuple(rng.sample(categories, rng.randrange(1, 4))))
        elif roll < 0.6:
            spend = Decimal(rng.choice((199, 299, 399)))
            yield Offer(oid, "spend", spend // 10 * 2, categories=(rng.choice(categories),),
                        spend=spend)
        elif roll < 0.8:
            skus = rng.sample(products, rng.randrange(1, 4))
            yield Offer(oid, "multibuy", Decimal(0), skus=tuple(p.sku for p in skus))
        else:
            skus = rng.sample(products, rng.randrange(1, 4))
            price = (BUNDLE * min(p.price for p in skus) * Decimal("0.8")).quantize(Decimal(1))
            yield Offer(oid, "fixed", price, skus=tuple(p.sku for p in skus))


# -- promokit ------------------------------------------------------------------------------


def promokit_promotions(offers: Sequence[Offer]) -> list[dict[str, Any]]:
    """The offers as promokit promotions (the ``[[promotion]]`` tables of a campaign file)."""
    return [_promotion(offer) for offer in offers]


def _promotion(offer: Offer) -> dict[str, Any]:
    scope = {"skus": list(offer.skus)} if offer.skus else {"categories": list(offer.categories)}
    common: dict[str, Any] = {"id": offer.id, "name": offer.id}
    if offer.priority:
        common["priority"] = offer.priority
    if offer.group:
        common["group"] = offer.group
    if offer.kind == "percent":
        return {**common, "kind": "percent_off", "percent": str(offer.value), "scope": scope}
    if offer.kind == "spend":
        assert offer.spend is not None
        return {**common, "kind": "tiered_threshold", "stage": "platform", "scope": scope,
                "tiers": [{"spend": _money(offer.spend), "off": _money(offer.value)}]}
    if offer.kind == "multibuy":
        return {**common, "kind": "buy_x_get_y", "buy": 1, "get": 1, "scope": scope}
    if offer.kind == "fixed":
        return {**common, "kind": "bundle_price", "price": _money(offer.value),
                "components": [{"scope": scope, "quantity": BUNDLE}]}
    raise ValueError(f"unknown offer kind {offer.kind!r}")


# -- django-oscar --------------------------------------------------------------------------


def unavailable() -> str | None:
    """Why django-oscar cannot be benchmarked in this environment, or ``None``."""
    try:
        import django  # noqa: F401
        import oscar  # noqa: F401
    except ImportError as error:
        return (f"django-oscar is not installed (no module {error.name!r}): "
                f"pip install -r {REQUIREMENTS}")
    return None


def versions() -> dict[str, str]:
    from importlib.metadata import version

    return {"django-oscar": version("django-oscar"), "django": version("django")}


class _NoMigrations:
    """``MIGRATION_MODULES`` that says no app has migrations: ``migrate`` then creates
    the tables from the models (as Django's test runner does with migrations off),
    in well under a second instead of oscar's ~15 s of migrations."""

    def __contains__(self, item: object) -> bool:
        return True

    def __getitem__(self, item: object) -> None:
        return None


_OSCAR_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
    "django.contrib.sessions", "django.contrib.messages", "django.contrib.staticfiles",
    "django.contrib.sites", "django.contrib.flatpages",
    "oscar.config.Shop",
    *(f"oscar.apps.{app}.apps.{config}Config" for app, config in [
        ("analytics", "Analytics"), ("checkout", "Checkout"), ("address", "Address"),
        ("shipping", "Shipping"), ("catalogue", "Catalogue"),
        ("catalogue.reviews", "CatalogueReviews"), ("communication", "Communication"),
        ("partner", "Partner"), ("basket", "Basket"), ("payment", "Payment"),
        ("offer", "Offer"), ("order", "Order"), ("customer", "Customer"),
        ("search", "Search"), ("voucher", "Voucher"), ("wishlists", "Wishlists"),
        ("dashboard", "Dashboard"), ("dashboard.reports", "ReportsDashboard"),
        ("dashboard.users", "UsersDashboard"), ("dashboard.orders", "OrdersDashboard"),
        ("dashboard.catalogue", "CatalogueDashboard"),
        ("dashboard.offers", "OffersDashboard"), ("dashboard.partners", "PartnersDashboard"),
        ("dashboard.pages", "PagesDashboard"), ("dashboard.ranges", "RangesDashboard"),
        ("dashboard.reviews", "ReviewsDashboard"), ("dashboard.vouchers", "VouchersDashboard"),
        ("dashboard.communications", "CommunicationsDashboard"),
        ("dashboard.shipping", "ShippingDashboard"),
    ]),
    "widget_tweaks", "haystack", "treebeard", "django_tables2",
]


def _configure() -> None:
    """Django with oscar's apps and defaults, SQLite in memory; the tables created."""
    import django
    import oscar.defaults
    from django.conf import settings
    from django.core.management import call_command

    if settings.configured:
        return
    defaults = {k: getattr(oscar.defaults, k) for k in dir(oscar.defaults)
                if k.startswith("OSCAR_")}
    defaults["OSCAR_DEFAULT_CURRENCY"] = "CNY"
    settings.configure(
        DEBUG=False, SECRET_KEY="bench-evaluate", USE_TZ=True, TIME_ZONE="Asia/Shanghai",
        SITE_ID=1, INSTALLED_APPS=_OSCAR_APPS, DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        MIGRATION_MODULES=_NoMigrations(),
        HAYSTACK_CONNECTIONS={"default": {
            "ENGINE": "haystack.backends.simple_backend.SimpleEngine"}},
        **defaults)
    django.setup()
    call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)


class OscarShop:
    """django-oscar in this process with the shared catalogue; offers and baskets are
    added with :meth:`add_offers` and :meth:`basket`. Set-up times (ns) are in
    :attr:`setup_ns`: ``django`` (settings, apps, tables), ``catalogue`` and ``offers``."""

    def __init__(self, catalogue: data.Catalogue) -> None:
        self.setup_ns: dict[str, int] = {}
        start = time.perf_counter_ns()
        _configure()
        configured = time.perf_counter_ns()
        self.setup_ns["django"] = configured - start
        self._products = self._create_catalogue(catalogue)
        self.setup_ns["catalogue"] = time.perf_counter_ns() - configured
        self._offer_pks: dict[str, int] = {}
        self._active: frozenset[str] | None = None

    # -- catalogue --

    @staticmethod
    def _create_catalogue(catalogue: data.Catalogue) -> dict[str, Any]:
        from oscar.core.loading import get_model

        category_model = get_model("catalogue", "Category")
        product_class_model = get_model("catalogue", "ProductClass")
        product_model = get_model("catalogue", "Product")
        product_category_model = get_model("catalogue", "ProductCategory")
        partner_model = get_model("partner", "Partner")
        stock_record_model = get_model("partner", "StockRecord")

        nodes: dict[str, Any] = {}
        for path in catalogue.categories:
            top_name, sub_name = path.split("/")
            if top_name not in nodes:
                nodes[top_name] = category_model.add_root(name=top_name, slug=top_name)
            nodes[path] = nodes[top_name].add_child(name=sub_name, slug=sub_name)
        kind = product_class_model.objects.create(name="Goods", track_stock=False)
        product_model.objects.bulk_create([
            product_model(title=p.sku, slug=p.sku.lower(), upc=p.sku, product_class=kind,
                          structure="standalone", is_discountable=True)
            for p in catalogue.products], batch_size=500)
        products = {p.upc: p for p in product_model.objects.all()}
        product_category_model.objects.bulk_create([
            product_category_model(product=products[p.sku], category=nodes[p.category])
            for p in catalogue.products], batch_size=500)
        partner = partner_model.objects.create(name="bench")
        stock_record_model.objects.bulk_create([
            stock_record_model(product=products[p.sku], partner=partner, partner_sku=p.sku,
                               price_currency="CNY", price=p.price, num_in_stock=100000)
            for p in catalogue.products], batch_size=500)
        return {"categories": nodes, "products": products}

    # -- offers --

    def add_offers(self, offers: Sequence[Offer]) -> int:
        """Create ``offers`` (suspended: :meth:`activate` opens them); the time taken (ns)
        is added to ``setup_ns["offers"]`` and returned."""
        from oscar.core.loading import get_model

        range_model = get_model("offer", "Range")
        condition_model = get_model("offer", "Condition")
        benefit_model = get_model("offer", "Benefit")
        offer_model = get_model("offer", "ConditionalOffer")
        start = time.perf_counter_ns()
        for offer in offers:
            if offer.id in self._offer_pks:
                continue
            scope = range_model.objects.create(name=f"range {offer.id}")
            if offer.skus:
                scope.included_products.add(*(self._products["products"][s] for s in offer.skus))
            else:
                scope.included_categories.add(
                    *(self._products["categories"][c] for c in offer.categories))
            if offer.kind == "percent":
                condition = condition_model(type="Count", value=1, range=scope)
                benefit = benefit_model(type="Percentage", value=offer.value, range=scope)
            elif offer.kind == "spend":
                condition = condition_model(type="Value", value=offer.spend, range=scope)
                benefit = benefit_model(type="Absolute", value=offer.value, range=scope)
            elif offer.kind == "multibuy":
                condition = condition_model(type="Count", value=BUNDLE, range=scope)
                benefit = benefit_model(type="Multibuy", range=scope)
            elif offer.kind == "fixed":
                condition = condition_model(type="Count", value=BUNDLE, range=scope)
                benefit = benefit_model(type="Fixed price", value=offer.value)
            else:
                raise ValueError(f"unknown offer kind {offer.kind!r}")
            condition.full_clean()
            benefit.full_clean()
            condition.save()
            benefit.save()
            created = offer_model.objects.create(
                name=offer.id, offer_type="Site", exclusive=True, priority=offer.priority,
                condition=condition, benefit=benefit, status="Suspended")
            self._offer_pks[offer.id] = created.pk
        took = time.perf_counter_ns() - start
        self.setup_ns["offers"] = self.setup_ns.get("offers", 0) + took
        return took

    def activate(self, ids: frozenset[str]) -> None:
        """Open the offers ``ids`` and suspend every other (two UPDATEs, skipped when
        that is already the active set): how the scenarios of one cart, timed
        interleaved, each get their own N active offers in one database."""
        if ids == self._active:
            return
        from oscar.core.loading import get_model

        offer_model = get_model("offer", "ConditionalOffer")
        pks = [self._offer_pks[i] for i in ids]
        offer_model.objects.exclude(pk__in=pks).update(status="Suspended")
        offer_model.objects.filter(pk__in=pks).update(status="Open")
        self._active = ids

    # -- baskets --

    def basket(self, cart: dict[str, Any]) -> Any:
        """A saved basket holding ``cart``'s lines (its JSON form, from
        ``_catalogue.make_cart``), with oscar's default strategy (first stock record,
        no tax)."""
        from oscar.apps.partner.strategy import Default
        from oscar.core.loading import get_model

        basket = get_model("basket", "Basket").objects.create()
        basket.strategy = Default()
        for line in cart["lines"]:
            basket.add_product(self._products["products"][line["sku"]], line["quantity"])
        return basket

    @staticmethod
    def apply(basket: Any) -> Any:
        """One full application: drop the basket's discounts and cached lines, then
        ``Applicator().apply`` (it loads the active site offers, the basket's lines and
        each offer's condition, benefit and range afresh)."""
        from oscar.apps.offer.applicator import Applicator

        basket.reset_offer_applications()
        Applicator().apply(basket, None, None)
        return basket

    @staticmethod
    def summary(basket: Any) -> dict[str, Any]:
        """What a priced basket says: the lines' total before and after discounts, the
        discount, and the offers that gave one."""
        applied = sorted(a["name"] for a in basket.offer_applications.offer_discounts)
        return {
            "subtotal": str(basket.total_excl_tax_excl_discounts),
            "lines_total": str(basket.total_excl_tax),
            "discount": str(basket.total_discount.quantize(Decimal("0.01"))),
            "applied": applied,
        }
