"""The contract checks behind :func:`promokit.testing.check_kind` and
:func:`promokit.testing.check_condition`, and the registry and TOML helpers they
share with the fixtures."""


from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, cast

import attrs

from ..campaign_set import CampaignSet
from ..cart import Cart
from ..conditions import ConditionContext, ConditionType
from ..engine import Engine
from ..errors import ConfigError, PromokitError
from ..kinds import (
    Application,
    DiscountKind,
    Gifts,
    HintProposal,
    NoDeal,
    Outcome,
    PerLine,
    Rewards,
    ShippingOff,
    Total,
    UnitDeal,
)
from ..loading import parse_campaigns
from ..money import currency as currency_of
from ..params import Params
from ..reasons import REASON_CODES
from ..registry import RESERVED_RULES, Registry
from ..result import PriceResult
from ..rules_text import rules_text
from ..terms import STAGES
from ..text import LANGUAGES, Text

#: The id of the one promotion :func:`check_kind` and :func:`check_condition` build.
PROMOTION_ID = "under-test"

_CONDITION_HOST = 'kind = "percent_off"\npercent = "10"\n'
_KIND_ATTRIBUTES = ("name", "default_stage", "monotone", "quantity_deal", "benefit",
                    "stock_counts")


def registry_with(*plugins: object) -> Registry:
    """The built-in plugins and ``plugins`` (modules or instances), with installed
    entry points switched off, so what a test sees does not depend on the machine."""
    return Registry.default(plugins, load_entry_points=False)


def registry_for(plugins: Iterable[object], registry: Registry | None) -> Registry:
    """``registry``, or a fresh :func:`registry_with` ``plugins`` (not both)."""
    plugins = tuple(plugins)
    if registry is None:
        return registry_with(*plugins)
    if plugins:
        raise ValueError("pass plugins or a registry, not both")
    return registry


def load_toml(text: str, registry: Registry, currency: str, timezone: str) -> CampaignSet:
    """Campaigns from TOML text, in ``currency`` and ``timezone`` unless it says."""
    data = tomllib.loads(text)
    data.setdefault("currency", currency)
    data.setdefault("timezone", timezone)
    return parse_campaigns(data, registry)


# -- contract checkers ----------------------------------------------------------------


def is_reason_code(code: str) -> bool:
    """Whether ``code`` is a stable reason code of :data:`promokit.reasons.REASON_CODES`
    (``not_eligible:<rule>``, ``excluded_by:<id>`` and ``guard:<name>`` with any
    non-empty detail)."""
    head, colon, detail = code.partition(":")
    if colon:
        return bool(detail) and any(c.startswith(head + ":") for c in REASON_CODES)
    return code in REASON_CODES


def check_kind(kind: DiscountKind, params_toml: str, carts: Iterable[Cart], *,
               plugins: Iterable[object] = (), currency: str = "CNY",
               timezone: str = "Asia/Shanghai", require_applied: bool = True) -> None:
    """Assert the contract every discount kind keeps, on ``carts``.

    Builds one promotion (id :data:`PROMOTION_ID`) of ``kind`` from
    ``params_toml`` (the promotion table without ``id`` and ``kind``: the kind's
    keys and any common ones such as ``scope``), with the built-ins and
    ``plugins``. ``kind`` need not be registered by them; if a plugin registers
    a kind of the same name, ``kind`` takes its place. Each cart is priced in
    every language, twice, and the checker asserts that:

    - ``name`` is a non-empty string, ``default_stage`` a stage, and ``describe``
      a non-empty string in every language; the rule text renders;
    - every outcome of ``compute`` fits ``app.lines`` (a ``PerLine`` amount and a
      ``UnitDeal`` count per line, whole minor units ≥ 0) and ``compute`` returns
      an equal outcome when called again with the same application (it is pure);
    - every ``NoDeal`` (from ``compute`` or ``precheck``) has a stable reason code
      (:func:`is_reason_code`) and a message;
    - the result reconciles: each line's discounts add up to its subtotal minus
      its total; subtotal − discounts + shipping = total; nothing is negative;
      the applied amounts add up to the line and shipping discounts; every
      funding split adds up to its amount;
    - pricing is deterministic (the same JSON twice) and the language changes
      only the words;
    - with ``require_applied``, the promotion applies to at least one cart, so
      the invariants were checked on a real deal.

    Raises :class:`AssertionError` naming the kind, the cart and the invariant.
    """
    label = f"kind {getattr(kind, 'name', type(kind).__name__)!r}"
    _check_kind_attributes(kind, label)
    findings = _Findings()
    probe = _kind_probe(kind, findings)
    registry = registry_for(plugins, None)
    registry = attrs.evolve(registry, kinds={**registry.kinds, kind.name: probe})
    table = _table(params_toml, label, reserved={"id": PROMOTION_ID, "kind": kind.name})
    campaigns = _campaigns(table, registry, currency, timezone, label)
    params = campaigns.promotions[0].params
    for lang in LANGUAGES:
        _check_words(label, "describe(params, text)",
                     lambda text: kind.describe(params, text), lang, campaigns)
        _check_words(label, "the rule text", lambda text: rules_text(campaigns, text.lang),
                     lang, campaigns)
    outcomes = _price(label, campaigns, registry, _carts(carts, label), findings)
    if require_applied and "applied" not in outcomes.values():
        raise AssertionError(
            f"{label}: none of the carts made promotion {PROMOTION_ID!r} apply "
            f"({_listing(outcomes)}); add a cart it applies to, so the invariants are "
            "checked on a real deal (or pass require_applied=False)")


def check_condition(condition: ConditionType, params_toml: str, carts: Iterable[Cart], *,
                    plugins: Iterable[object] = (), host_toml: str = _CONDITION_HOST,
                    currency: str = "CNY", timezone: str = "Asia/Shanghai",
                    require_both: bool = True) -> None:
    """Assert the contract every condition keeps, on ``carts``.

    Builds one promotion (id :data:`PROMOTION_ID`, by default 10% off
    everything: ``host_toml``) whose only condition is ``condition`` with
    ``params_toml`` (its table without ``rule``), with the built-ins and
    ``plugins``, and prices each cart in every language, twice. It asserts that
    ``name`` is a non-empty, unreserved string; ``message(params)`` and
    ``describe(params, text)`` in every language are non-empty strings; ``check``
    returns a ``bool``, the same when called again; a failing condition is
    reported as ``not_eligible:<name>`` with a message; results reconcile and
    are deterministic as in :func:`check_kind`; and, with ``require_both``, the
    condition holds for one cart and fails for another.

    Raises :class:`AssertionError` naming the condition, the cart and the invariant.
    """
    name = getattr(condition, "name", None)
    label = f"condition {name if name is not None else type(condition).__name__!r}"
    if not isinstance(name, str) or not name.strip():
        raise AssertionError(f"{label}: name must be a non-empty string, got {name!r}")
    if name in RESERVED_RULES:
        raise AssertionError(f"{label}: {name!r} is reserved for the kernel's combinators")
    if not isinstance(condition.uses_amounts, bool):
        raise AssertionError(f"{label}: uses_amounts must be a bool, "
                             f"got {condition.uses_amounts!r}")
    findings = _Findings()
    probe = _condition_probe(condition, findings)
    registry = registry_for(plugins, None)
    registry = attrs.evolve(registry, conditions={**registry.conditions, name: probe})
    host = _table(host_toml, label, reserved={"id": PROMOTION_ID})
    rule = _table(params_toml, label, reserved={"rule": name})
    if "conditions" in host:
        raise AssertionError(f"{label}: host_toml must not have conditions of its own")
    campaigns = _campaigns({**host, "conditions": [rule]}, registry, currency, timezone, label)
    params = campaigns.promotions[0].conditions[0].params
    message = _call(label, "message(params)", lambda: condition.message(params))
    if not isinstance(message, str) or not message.strip():
        raise AssertionError(f"{label}: message(params) must be a non-empty string, "
                             f"got {message!r}")
    for lang in LANGUAGES:
        _check_words(label, "describe(params, text)",
                     lambda text: condition.describe(params, text), lang, campaigns)
    outcomes = _price(label, campaigns, registry, _carts(carts, label), findings)
    failed = f"not_eligible:{name}"
    if require_both and not {"applied", failed} <= set(outcomes.values()):
        raise AssertionError(
            f"{label}: give carts for which it holds (the promotion applies) and fails "
            f"({failed}); got {_listing(outcomes)} (or pass require_both=False)")


# -- the checks ------------------------------------------------------------------


@attrs.define
class _Findings:
    """What the probes saw while the kernel priced the current cart."""

    where: str = ""
    problems: list[str] = attrs.field(factory=list)

    def add(self, problem: str) -> None:
        self.problems.append(f"{self.where}: {problem}" if self.where else problem)


def _check_kind_attributes(kind: DiscountKind, label: str) -> None:
    name = getattr(kind, "name", None)
    if not isinstance(name, str) or not name.strip():
        raise AssertionError(f"{label}: name must be a non-empty string, got {name!r}")
    if kind.default_stage not in STAGES:
        raise AssertionError(f"{label}: default_stage {kind.default_stage!r} is not one of "
                             f"{', '.join(STAGES)}")
    for attribute, allowed in (("monotone", (True, False)), ("quantity_deal", (True, False)),
                               ("benefit", ("price", "gift", "reward")),
                               ("stock_counts", ("units", "own"))):
        value = getattr(kind, attribute)
        if value not in allowed or (isinstance(value, int) and not isinstance(value, bool)):
            raise AssertionError(f"{label}: {attribute} must be one of {allowed}, got {value!r}")


def _table(source: str, label: str, *, reserved: Mapping[str, str]) -> dict[str, Any]:
    try:
        table = tomllib.loads(source)
    except tomllib.TOMLDecodeError as error:
        raise AssertionError(f"{label}: the params are not valid TOML: {error}") from error
    for key, value in reserved.items():
        if table.get(key, value) != value:
            raise AssertionError(f"{label}: the params set {key} = {table[key]!r}; "
                                 f"leave {key!r} out, the checker sets it")
    return {**reserved, **table}


def _campaigns(promotion: dict[str, Any], registry: Registry, currency: str, timezone: str,
               label: str) -> CampaignSet:
    data = {"currency": currency, "timezone": timezone, "promotion": [promotion]}
    try:
        return parse_campaigns(data, registry)
    except ConfigError as error:
        raise AssertionError(f"{label}: the params do not load: {error}") from error


def _carts(carts: Iterable[Cart], label: str) -> list[Cart]:
    found = list(carts)
    if not found:
        raise AssertionError(f"{label}: no carts to check")
    for index, item in enumerate(found):
        if not isinstance(item, Cart):
            raise AssertionError(f"{label}: cart[{index}] is {item!r}, not a Cart "
                                 "(build one with promokit.testing.cart)")
    return found


def _call(label: str, what: str, call: Callable[[], object]) -> object:
    try:
        return call()
    except Exception as error:
        raise AssertionError(f"{label}: {what} raised {error!r}") from error


def _check_words(label: str, what: str, write: Callable[[Text], object], lang: str,
                 campaigns: CampaignSet) -> None:
    text = Text(lang, currency=campaigns.currency)
    words = _call(label, f"{what} in {lang}", lambda: write(text))
    if not isinstance(words, str) or not words.strip():
        raise AssertionError(f"{label}: {what} in {lang} must be a non-empty string, "
                             f"got {words!r}")


def _describe_cart(index: int, item: Cart) -> str:
    lines = ", ".join(f"{line.sku}×{line.quantity} at {line.unit_price}" for line in item.lines)
    return f"cart[{index}] ({lines or 'no lines'})"


def _listing(outcomes: Mapping[str, str]) -> str:
    return "; ".join(f"{where}: {what}" for where, what in outcomes.items())


def _price(label: str, campaigns: CampaignSet, registry: Registry, carts: Sequence[Cart],
           findings: _Findings) -> dict[str, str]:
    """Price every cart in every language, twice; check each result. Returns, per
    cart, ``"applied"``, the promotion's reason code, or ``"no line in scope"`` when
    the kernel did not consider it."""
    outcomes: dict[str, str] = {}
    for index, item in enumerate(carts):
        where = _describe_cart(index, item)
        results: dict[str, PriceResult] = {}
        for lang in LANGUAGES:
            findings.where = f"{label}, {where}, {lang}"
            engine = Engine(campaigns, registry=registry, lang=lang)
            first = _evaluate(engine, item, findings)
            again = _evaluate(engine, item, findings)
            if first.to_json_text() != again.to_json_text():
                raise AssertionError(f"{findings.where}: not deterministic: pricing the same "
                                     f"cart twice gave\n{first.to_json_text()}\n"
                                     f"and\n{again.to_json_text()}")
            problems = _reconcile(first, item)
            if problems:
                raise AssertionError(f"{findings.where}: the result does not reconcile: "
                                     + "; ".join(problems))
            results[lang] = first
        numbers = {lang: _numbers(result) for lang, result in results.items()}
        if len({repr(n) for n in numbers.values()}) > 1:
            raise AssertionError(f"{label}, {where}: the language changed more than the "
                                 f"words: {numbers}")
        result = results[LANGUAGES[0]]
        applied = any(a.promotion == PROMOTION_ID for a in result.applied)
        outcomes[where] = ("applied" if applied
                           else result.reason(PROMOTION_ID) or "no line in scope")
    return outcomes


def _evaluate(engine: Engine, item: Cart, findings: _Findings) -> PriceResult:
    try:
        result = engine.evaluate(item)
    except PromokitError as error:
        if findings.problems:
            raise AssertionError(findings.problems[0]) from error
        raise AssertionError(f"{findings.where}: the kernel rejected it: {error}") from error
    if findings.problems:
        raise AssertionError("; ".join(findings.problems))
    return result


def _numbers(result: PriceResult) -> dict[str, Any]:
    """The result without its words (messages, hint texts)."""
    data = result.to_json()
    data["not_applied"] = [(n["promotion"], n["reason"]) for n in data["not_applied"]]
    data["hints"] = [{k: v for k, v in h.items() if k != "message"} for h in data["hints"]]
    for code in data.get("rejected_codes", ()):
        code.pop("message", None)
    return data


def _reconcile(result: PriceResult, item: Cart) -> list[str]:
    """Every way ``result`` fails to add up, in words."""
    money = currency_of(result.currency)
    problems: list[str] = []

    def minor(amount: Decimal, what: str) -> int:
        try:
            value = money.parse(amount, allow_negative=True)
        except ValueError:
            problems.append(f"{what} {amount} is not in whole minor units")
            return 0
        if value < 0:
            problems.append(f"{what} is negative ({amount})")
        return value

    subtotal = minor(result.subtotal, "subtotal")
    discount_total = minor(result.discount_total, "discount_total")
    shipping_discount = minor(result.shipping_discount, "shipping_discount")
    shipping = minor(result.shipping, "shipping")
    total = minor(result.total, "total")
    minor(result.balance_due, "balance_due")
    charged = money.parse(item.shipping)
    if shipping + shipping_discount != charged:
        problems.append(f"shipping {result.shipping} + shipping_discount "
                        f"{result.shipping_discount} is not the cart's shipping {item.shipping}")
    line_discounts = 0
    by_promotion: dict[str, int] = {}
    lines_subtotal = 0
    for line in result.lines:
        line_subtotal = minor(line.subtotal, f"line {line.id!r} subtotal")
        line_total = minor(line.total, f"line {line.id!r} total")
        discounts = 0
        for part in line.discounts:
            amount = minor(part.amount, f"line {line.id!r} discount of {part.promotion!r}")
            discounts += amount
            by_promotion[part.promotion] = by_promotion.get(part.promotion, 0) + amount
        if line_subtotal - discounts != line_total:
            problems.append(f"line {line.id!r}: subtotal {line.subtotal} − discounts "
                            f"{line.discount} ≠ total {line.total}")
        line_discounts += discounts
        lines_subtotal += line_subtotal
    if lines_subtotal != subtotal:
        problems.append(f"the lines' subtotals add up to {money.to_decimal(lines_subtotal)}, "
                        f"not subtotal {result.subtotal}")
    if line_discounts + shipping_discount != discount_total:
        problems.append(f"line discounts {money.to_decimal(line_discounts)} + shipping_discount "
                        f"{result.shipping_discount} ≠ discount_total {result.discount_total}")
    if subtotal - discount_total + charged != total:
        problems.append(f"subtotal {result.subtotal} − discounts {result.discount_total} + "
                        f"shipping {item.shipping} ≠ total {result.total}")
    applied_total = 0
    for applied in result.applied:
        amount = minor(applied.amount, f"applied amount of {applied.promotion!r}")
        applied_total += amount
        if by_promotion.get(applied.promotion, 0) > amount:
            problems.append(f"{applied.promotion!r} has more on its lines than its applied "
                            f"amount {applied.amount}")
        shares = sum(minor(share, f"{applied.promotion!r} funding share of {party!r}")
                     for party, share in applied.funding)
        if applied.funding and shares != amount:
            problems.append(f"{applied.promotion!r}: funding shares add up to "
                            f"{money.to_decimal(shares)}, not {applied.amount}")
    unknown = set(by_promotion) - {a.promotion for a in result.applied}
    if unknown:
        problems.append(f"line discounts of promotions not in applied: {sorted(unknown)}")
    if applied_total != line_discounts + shipping_discount:
        problems.append(f"applied amounts add up to {money.to_decimal(applied_total)}, not the "
                        f"line and shipping discounts {result.discount_total}")
    for gift in result.gifts:
        minor(gift.value, f"gift {gift.sku!r} value")
    for missed in result.not_applied:
        if not is_reason_code(missed.reason):
            problems.append(f"{missed.promotion!r} has reason {missed.reason!r}, not a stable "
                            "reason code")
        if not missed.message.strip():
            problems.append(f"{missed.promotion!r} ({missed.reason}) has no message")
        if any(a.promotion == missed.promotion for a in result.applied):
            problems.append(f"{missed.promotion!r} is both applied and not applied")
    return problems


# -- probes: the kind or condition under test, watched while the kernel runs it ----------


class _KindProbe(DiscountKind):
    """Delegates to the kind under test, checking each answer as it passes."""

    def __init__(self, inner: DiscountKind, findings: _Findings) -> None:
        self.inner = inner
        self.findings = findings

    def parse(self, params: Params) -> Any:
        return self.inner.parse(params)

    def scopes(self, params: Any) -> Any:
        return self.inner.scopes(params)

    def describe(self, params: Any, text: Text) -> str:
        return self.inner.describe(params, text)

    def threshold_between(self, params: Any, low: int, high: int) -> bool:
        return self.inner.threshold_between(params, low, high)

    def precheck(self, params: Any, app: Application) -> NoDeal | None:
        early = self.inner.precheck(params, app)
        if early is not None:
            self._no_deal(early, "precheck")
        return early

    def hint(self, params: Any, app: Application) -> HintProposal | None:
        proposal = self.inner.hint(params, app)
        if proposal is not None and not (
                isinstance(proposal, HintProposal)
                and all(_minor_units(v) for v in (proposal.missing, proposal.saving,
                                                  proposal.target))):
            self.findings.add(f"hint returned {proposal!r}; expected None or a HintProposal "
                              "in whole minor units >= 0")
        return proposal

    def compute(self, params: Any, app: Application) -> Outcome:
        outcome = self.inner.compute(params, app)
        self._outcome(outcome, app)
        again = self.inner.compute(params, app)
        if again != outcome:
            self.findings.add(f"compute is not pure: the same application gave {outcome!r}, "
                              f"then {again!r}")
        return outcome

    def _outcome(self, outcome: object, app: Application) -> None:
        lines = len(app.lines)
        if isinstance(outcome, PerLine):
            if len(outcome.amounts) != lines:
                self.findings.add(f"compute returned PerLine with {len(outcome.amounts)} "
                                  f"amounts for {lines} lines in app.lines")
            elif not all(_minor_units(a) for a in outcome.amounts):
                self.findings.add(f"compute returned {outcome!r}; amounts are whole minor "
                                  "units >= 0")
        elif isinstance(outcome, UnitDeal):
            if len(outcome.units) != lines or not all(
                    _minor_units(count) and count <= view.quantity
                    for count, view in zip(outcome.units, app.lines, strict=False)):
                self.findings.add(f"compute returned {outcome!r}; UnitDeal needs one unit count "
                                  f"per line in app.lines ({lines}), each within its quantity")
            if not _minor_units(outcome.amount):
                self.findings.add(f"compute returned {outcome!r}; the amount is whole minor "
                                  "units >= 0")
        elif isinstance(outcome, (Total, ShippingOff)):
            if not _minor_units(outcome.amount):
                self.findings.add(f"compute returned {outcome!r}; the amount is whole minor "
                                  "units >= 0")
        elif isinstance(outcome, Gifts):
            if not all(g.sku and g.name and _minor_units(g.value) and _minor_units(g.quantity)
                       and g.quantity > 0 for g in outcome.items):
                self.findings.add(f"compute returned {outcome!r}; gifts need a sku, a name, a "
                                  "quantity >= 1 and a value in whole minor units >= 0")
        elif isinstance(outcome, Rewards):
            if not all(isinstance(r.kind, str) and r.kind and isinstance(r.amount, str)
                       and r.amount for r in outcome.items):
                self.findings.add(f"compute returned {outcome!r}; rewards need a kind and an "
                                  "amount written as text")
        elif isinstance(outcome, NoDeal):
            self._no_deal(outcome, "compute")
        else:
            self.findings.add(f"compute returned {outcome!r}; expected PerLine, Total, "
                              "ShippingOff, UnitDeal, Gifts, Rewards or NoDeal")

    def _no_deal(self, no_deal: object, method: str) -> None:
        if not isinstance(no_deal, NoDeal):
            self.findings.add(f"{method} returned {no_deal!r}; expected None or a NoDeal")
        elif not is_reason_code(no_deal.reason):
            self.findings.add(f"{method} returned NoDeal reason {no_deal.reason!r}, which is "
                              f"not a stable reason code ({', '.join(REASON_CODES)})")
        elif not isinstance(no_deal.message, str) or not no_deal.message.strip():
            self.findings.add(f"{method} returned NoDeal({no_deal.reason!r}) without a message")


class _ConditionProbe(ConditionType):
    """Delegates to the condition under test, checking ``check`` as it passes."""

    def __init__(self, inner: ConditionType, findings: _Findings) -> None:
        self.inner = inner
        self.findings = findings

    def parse(self, params: Params) -> Any:
        return self.inner.parse(params)

    def check(self, params: Any, ctx: ConditionContext) -> bool:
        holds = self.inner.check(params, ctx)
        if not isinstance(holds, bool):
            self.findings.add(f"check returned {holds!r}, not a bool")
        elif self.inner.check(params, ctx) is not holds:
            self.findings.add("check is not pure: the same context gave two answers")
        return holds

    def message(self, params: Any) -> str:
        return self.inner.message(params)

    def describe(self, params: Any, text: Text) -> str:
        return self.inner.describe(params, text)

    def threshold_between(self, params: Any, low: int, high: int) -> bool:
        return self.inner.threshold_between(params, low, high)


def _minor_units(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _kind_probe(kind: DiscountKind, findings: _Findings) -> DiscountKind:
    attributes = {name: getattr(kind, name) for name in _KIND_ATTRIBUTES}
    probe = type(f"Probed{type(kind).__name__}", (_KindProbe,), attributes)
    return cast(DiscountKind, probe(kind, findings))


def _condition_probe(condition: ConditionType, findings: _Findings) -> ConditionType:
    attributes = {"name": condition.name, "uses_amounts": condition.uses_amounts}
    probe = type(f"Probed{type(condition).__name__}", (_ConditionProbe,), attributes)
    return cast(ConditionType, probe(condition, findings))


