""":class:`Bargain`, the ``bargain`` game kind: parsing, the disclosure,
config changes, the audit of the help log, and the price of a bargain line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from promokit.cart import Customer, Line
from promokit.games import ConfigChange, GameKind, GameRuntime, GameSpec, compare
from promokit.kinds import NoDeal
from promokit.params import Params
from promokit.stores import Delta
from promokit.terms import Scope
from promokit.text import Text

from .game import BargainGame
from .keys import bargain_code, bargain_key
from .plan import cached_cut_plan
from .values import BargainConfig


class Bargain(GameKind):
    """The ``bargain`` game kind (砍價)."""

    name = "bargain"
    price_field = "bargain_id"
    actions: ClassVar[Mapping[str, str]] = {
        "start": "start a bargain for --customer",
        "help": "--customer helps a bargain (--set bargain=<id> or --set token=<token>)",
        "share": "a share token for a bargain, --customer inviting (--set bargain=<id>)",
        "state": "a bargain as it stands (--set bargain=<id>)",
    }

    def parse(self, params: Params, spec: GameSpec) -> BargainConfig | None:
        """Read the bargain's keys; a floor at or above the price, fewer than one help
        or more helps than minor units between price and floor are problems."""
        sku = params.string("sku")
        price = params.money("price", positive=True)
        floor = params.money("floor")
        helps = params.integer("helps", minimum=1)
        window = params.integer("window_hours", required=False, minimum=1, default=24)
        buy_within = params.integer("buy_within_hours", required=False, minimum=0,
                                    default=window if window is not None else 24)
        per_day = params.integer("helps_per_day", required=False, minimum=1)
        bonus = params.integer("new_helper_bonus", required=False, minimum=1, default=1)
        most = params.integer("max_bargains_per_customer", required=False, minimum=1,
                              default=1)
        if price is not None and floor is not None:
            if floor >= price:
                params.problem(f"must be below price ({params.currency.format(price)}), "
                               f"got {params.currency.format(floor)}", "floor")
            elif helps is not None and helps > price - floor:
                params.problem(
                    f"{helps} helps cannot finish: each cuts at least one minor unit and "
                    f"there are only {price - floor} between price and floor "
                    f"({params.currency.format(price - floor)})", "helps")
        if None in (sku, price, floor, helps, window, buy_within, bonus, most):
            return None
        assert sku is not None and price is not None and floor is not None
        assert helps is not None and window is not None and buy_within is not None
        assert bonus is not None and most is not None
        return BargainConfig(sku=sku, price=price, floor=floor, helps=helps,
                             window_hours=window, buy_within_hours=buy_within,
                             helps_per_day=per_day, new_helper_bonus=bonus,
                             max_bargains_per_customer=most)

    def disclosure(self, spec: GameSpec, text: Text) -> list[str]:
        """The rules, generated from the config."""
        c: BargainConfig = spec.config
        helps = text.number(c.helps)
        lines = [text.gettext(
            "{game} — bargain (砍價) on {sku}: every bargain starts at the list price "
            "{price}; friends' helps cut it down to the floor price {floor}.", game=spec.name,
            sku=c.sku, price=text.amount(c.price), floor=text.amount(c.floor))]
        if c.new_helper_bonus > 1:
            lines.append(text.gettext(
                "Exactly {helps} helps reach the floor: at most {helps}, fewer when new "
                "customers help, since a new customer's help (no orders yet) cuts like "
                "{bonus} helps. Every bargain shows how many more helps it needs at most.",
                helps=helps, bonus=text.number(c.new_helper_bonus)))
        else:
            lines.append(text.gettext(
                "Exactly {helps} helps reach the floor; the page always shows how many more "
                "are needed.", helps=helps))
        lines.append(text.gettext(
            "Earlier helps cut more; every help cuts at least {least} and the cuts add up "
            "exactly to {total}.", least=text.amount(1), total=text.amount(c.total_cut)))
        lines.append(text.gettext(
            "A bargain takes helps for {hours} hours from its start; its starter may buy one "
            "unit at the price reached within {buy_hours} hours of the start, once.",
            hours=text.number(c.window_hours),
            buy_hours=text.number(c.window_hours + c.buy_within_hours)))
        if c.helps_per_day is not None:
            lines.append(text.ngettext(
                "Any signed-in customer except the bargain's starter may help, once per "
                "bargain, and {count} help a calendar day at most across this game's "
                "bargains.",
                "Any signed-in customer except the bargain's starter may help, once per "
                "bargain, and {count} helps a calendar day at most across this game's "
                "bargains.", c.helps_per_day, count=text.number(c.helps_per_day)))
        else:
            lines.append(text.gettext(
                "Any signed-in customer except the bargain's starter may help, once per "
                "bargain."))
        if c.max_bargains_per_customer > 1:
            lines.append(text.gettext("Each customer may start up to {count} bargains in this "
                                      "game.", count=text.number(c.max_bargains_per_customer)))
        else:
            lines.append(text.gettext("Each customer may start one bargain in this game."))
        tz = (spec.schedule.start or spec.schedule.end)
        period = (text.period(spec.schedule.start, spec.schedule.end, tz.tzinfo)
                  if tz is not None and tz.tzinfo is not None else None)
        if period is not None:
            lines.append(text.gettext("Runs {period}.", period=period))
        if spec.organiser:
            lines.append(text.gettext("Organiser: {organiser}.", organiser=spec.organiser))
        lines.append(text.gettext(
            "Audit: every bargain's cuts are fixed when it starts, from a secret seed whose "
            "SHA-256 commitment is published before the first bargain; after the game the "
            "seed is revealed and anyone can recompute every cut from the published log."))
        return lines

    def changes(self, old: GameSpec, new: GameSpec) -> list[ConfigChange]:
        """A higher price or floor, more helps, a shorter window, lower caps are worse;
        the opposite is better; another product is worse."""
        a: BargainConfig = old.config
        b: BargainConfig = new.config
        return [*compare("sku", a.sku, b.sku, better="same"),
                *compare("price", a.price, b.price, better="lower"),
                *compare("floor", a.floor, b.floor, better="lower"),
                *compare("helps", a.helps, b.helps, better="lower"),
                *compare("window_hours", a.window_hours, b.window_hours, better="higher"),
                *compare("buy_within_hours", a.buy_within_hours, b.buy_within_hours,
                         better="higher"),
                *compare("helps_per_day", a.helps_per_day, b.helps_per_day, better="higher"),
                *compare("new_helper_bonus", a.new_helper_bonus, b.new_helper_bonus,
                         better="higher"),
                *compare("max_bargains_per_customer", a.max_bargains_per_customer,
                         b.max_bargains_per_customer, better="higher")]

    def verify(self, specs: Mapping[str, GameSpec], seed: str,
               entries: Sequence[Mapping[str, Any]]) -> list[str]:
        """Recompute every logged help: its cut is the sum of the planned cuts it
        took, a bargain's helps take its plan in order without gaps, a help takes
        one planned cut (up to ``new_helper_bonus`` for a new customer, never past
        the last), nobody helps one bargain twice or their own, and no bargain is
        cut by more than price − floor."""
        problems: list[str] = []
        progress: dict[str, tuple[int, int, str]] = {}  # bargain: (used, cut, config hash)
        helpers: dict[str, set[str]] = {}
        for number, entry in enumerate(entries, 1):
            try:
                problems.extend(f"help {number}: {problem}" for problem in self._verify_one(
                    specs, seed, entry, progress, helpers))
            except (KeyError, TypeError, ValueError) as error:
                problems.append(f"help {number}: malformed entry ({error!r})")
        return problems

    @staticmethod
    def _verify_one(specs: Mapping[str, GameSpec], seed: str, entry: Mapping[str, Any],
                    progress: dict[str, tuple[int, int, str]],
                    helpers: dict[str, set[str]]) -> list[str]:
        spec = specs[entry["config_hash"]]
        config: BargainConfig = spec.config
        bargain = str(entry["bargain"])
        if bargain_code(spec.id, bargain) is None:
            return [f"{bargain!r} is not a bargain id of game {spec.id!r}"]
        used, cut_total, config_hash = progress.get(bargain, (0, 0, entry["config_hash"]))
        problems = []
        if entry["config_hash"] != config_hash:
            problems.append(f"bargain {bargain}: ran under two configs")
        index, cuts, cut = int(entry["index"]), int(entry["cuts"]), int(entry["cut"])
        if index != used:
            problems.append(f"bargain {bargain}: takes planned cut {index + 1}, "
                            f"but {used} were taken before it")
        left = config.helps - used
        allowed = min(config.new_helper_bonus if entry["new"] else 1, left)
        if cuts != allowed or cuts < 1:
            problems.append(f"bargain {bargain}: makes {cuts} planned cut(s), "
                            f"{allowed} were due")
        plan = cached_cut_plan(seed, bargain, config.total_cut, config.helps)
        expected = sum(plan[index:index + cuts])
        if cut != expected:
            problems.append(f"bargain {bargain}: logged cut {cut}, the plan gives {expected}")
        cut_total += cut
        if cut_total > config.total_cut:
            problems.append(f"bargain {bargain}: cut {cut_total} in total, more than "
                            f"price − floor = {config.total_cut}")
        if int(entry["cut_total"]) != cut_total:
            problems.append(f"bargain {bargain}: logged cut total {entry['cut_total']}, "
                            f"the helps add up to {cut_total}")
        seen = helpers.setdefault(bargain, set())
        if entry["helper"] in seen or entry["helper"] == entry.get("owner"):
            problems.append(f"bargain {bargain}: {entry['helper']!r} may not help it again "
                            "or help their own")
        seen.add(entry["helper"])
        progress[bargain] = (index + cuts, cut_total, config_hash)
        return problems

    def bind(self, spec: GameSpec, runtime: GameRuntime) -> BargainGame:
        """The playable bargain game."""
        return BargainGame(spec, runtime)

    # -- the price of a bargain line ----------------------------------------------------

    def price_scope(self, spec: GameSpec) -> Scope:
        """The bargain's product."""
        return Scope(skus=frozenset({spec.config.sku}))

    def covers(self, spec: GameSpec, line: Line) -> bool:
        """Lines whose ``bargain_id`` is one of this game's."""
        return (line.bargain_id or "").startswith(spec.id + ".")

    def price_keys(self, spec: GameSpec, line: Line, customer: Customer) -> Sequence[str]:
        """The bargain's owner mark for ``customer``, list price, cut and buy-by time."""
        code = bargain_code(spec.id, line.bargain_id)
        if code is None:
            return ()
        keys = [bargain_key(spec.id, code, name) for name in ("price", "cut", "buy_by")]
        if customer.id is not None:
            keys.append(bargain_key(spec.id, code, "owner", customer.id))
        return keys

    def unit_price(self, spec: GameSpec, line: Line, customer: Customer,
                   counters: Mapping[str, int], now: datetime, text: Text) -> int | NoDeal:
        """List price − cut, for the bargain's owner, until its buy-by time."""
        code = bargain_code(spec.id, line.bargain_id)
        price = counters.get(bargain_key(spec.id, code, "price"), 0) if code is not None else 0
        if code is None or not price:
            # Translators: {game} is the game's id; a translation may leave it out
            # ("not a bargain of this game").
            return NoDeal("not_eligible:bargain", text.gettext(
                "{bargain!r} is not a bargain of game {game!r}", bargain=line.bargain_id,
                game=spec.id))
        owner = None if customer.id is None else bargain_key(spec.id, code, "owner", customer.id)
        if owner is None or counters.get(owner) != 1:
            return NoDeal("not_eligible:bargain_owner", text.gettext(
                "only the customer who started the bargain buys at its price"))
        if now.timestamp() >= counters.get(bargain_key(spec.id, code, "buy_by"), 0):
            return NoDeal("ended", text.gettext(
                "the time to buy at the bargained price has passed"))
        return price - counters.get(bargain_key(spec.id, code, "cut"), 0)

    def price_units(self, spec: GameSpec, line: Line) -> int:
        """One unit per bargain."""
        return 1

    def price_holds(self, spec: GameSpec, line: Line, customer: Customer) -> Sequence[Delta]:
        """A bargain is bought once."""
        code = bargain_code(spec.id, line.bargain_id)
        return () if code is None else (Delta(bargain_key(spec.id, code, "bought"), 1, 1),)
