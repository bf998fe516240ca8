""":class:`BlindBox`, the ``blind_box`` game kind: parsing, the ``cn``
check, the disclosure, and config changes judged for customers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any, ClassVar

from promokit.games import ConfigChange, GameKind, GameRuntime, GameSpec, compare
from promokit.params import Params
from promokit.text import Text

from .config import CN_MIN_AGE, BlindBoxConfig, LastPrize, Pity, read_items, read_pity, read_tiers
from .disclosure import disclosure_lines
from .game import BlindBoxGame
from .odds import odds_of
from .verify import Replay


class BlindBox(GameKind):
    """The ``blind_box`` game kind (see the module docstring for its keys)."""

    name = "blind_box"
    chance_based = True
    actions: ClassVar[Mapping[str, str]] = {
        "open": "start the game and print the seed commitment",
        "draw": "open one box (--customer, --set client_seed=…, "
                "--set guardian_consent=true)",
        "odds": "every item's probability now, released and remaining quantities",
        "state": "a customer's draws, day totals and pity count (--customer)",
        "reveal": "end the game's chance and publish the server seed",
    }

    def parse(self, params: Params, spec: GameSpec) -> BlindBoxConfig | None:
        price = params.money("price", positive=True)
        series = params.string("series")
        pool = params.string("pool", required=False, default="fixed",
                             choices=("fixed", "finite"))
        tiers = read_tiers(params)
        items = read_items(params, pool, tiers)
        last_prize = None
        prize = params.table("last_prize")
        if prize is not None:
            if pool == "fixed":
                params.problem('only a finite pool (pool = "finite") has a last box to give a '
                               "last prize for", "last_prize")
            name, value = prize.string("name"), prize.money("value", positive=True)
            prize.finish()
            last_prize = LastPrize(name=name, value=value) if name and value else None
        pity = read_pity(params, tiers)
        draws_per_day = params.integer("draws_per_day", required=False, minimum=1)
        spend_per_day = params.money("spend_per_day", required=False, positive=True)
        if spend_per_day is not None and price is not None and spend_per_day < price:
            params.problem(f"is below the price of one box ({params.currency.format(price)})",
                           "spend_per_day")
        min_age = params.integer("min_age", required=False, minimum=0)
        if price is None or series is None or pool is None or not tiers or not items:
            return None
        return BlindBoxConfig(series=series, price=price, pool=pool, tiers=tiers, items=items,
                              currency=params.currency, last_prize=last_prize, pity=pity,
                              draws_per_day=draws_per_day, spend_per_day=spend_per_day,
                              min_age=min_age)

    def check(self, spec: GameSpec, jurisdiction: str, params: Params) -> None:
        """In ``cn`` a ``min_age`` may only raise the law's minimum of 8."""
        config: BlindBoxConfig = spec.config
        if jurisdiction == "cn" and config.min_age is not None and config.min_age < CN_MIN_AGE:
            params.problem(f"jurisdiction cn: blind boxes may not be sold to children under "
                           f"{CN_MIN_AGE}; min_age can only be higher", "min_age")

    def top_prize(self, config: BlindBoxConfig) -> int:
        """The highest declared item value, or the last prize's if higher."""
        values = [item.value for item in config.items]
        if config.last_prize is not None:
            values.append(config.last_prize.value)
        return max(values)

    def disclosure(self, spec: GameSpec, text: Text) -> list[str]:
        """The rules from the config alone (the bound game's adds the counts left,
        the jurisdiction's age rule and the commitment)."""
        return disclosure_lines(spec, text, drawn=None, jurisdiction=spec.jurisdiction,
                           commitment=None)

    def changes(self, old: GameSpec, new: GameSpec) -> list[ConfigChange]:
        return _changes(old.config, new.config)

    def verify(self, specs: Mapping[str, GameSpec], seed: str,
               entries: Sequence[Mapping[str, Any]]) -> list[str]:
        return Replay(specs, seed).run(entries)

    def bind(self, spec: GameSpec, runtime: GameRuntime) -> BlindBoxGame:
        return BlindBoxGame(spec, runtime)


# -- config changes -------------------------------------------------------------------------


def _changes(old: BlindBoxConfig, new: BlindBoxConfig) -> list[ConfigChange]:
    """Worse for customers: a lower probability of any tier or item, a lower value or
    quantity, a later or lower pity, lower caps, a higher price or minimum age."""
    found = [*compare("price", old.price, new.price, better="lower"),
             *compare("pool", old.pool, new.pool, better="same"),
             *compare("series", old.series, new.series, better="neutral")]
    before, after = odds_of(old), odds_of(new)
    new_tiers = dict(after.tiers)
    for tier, share in before.tiers:
        now = next((p for t, p in new_tiers.items() if t.id == tier.id), Fraction(0))
        found += compare(f"tiers.{tier.id}.probability", share, now, better="higher")
    for item, chance in zip(old.items, before.items, strict=True):
        later = new.item(item.id)
        path = f"items.{item.id}"
        if later is None:
            found.append(ConfigChange(path, item.name, "removed", True))
            continue
        now = next(o.probability for o in after.items if o.id == item.id)
        found += compare(f"{path}.probability", chance.probability, now, better="higher")
        found += compare(f"{path}.value", item.value, later.value, better="higher")
        found += compare(f"{path}.quantity", item.quantity, later.quantity, better="higher")
        found += compare(f"{path}.tier", item.tier, later.tier, better="same")
        found += compare(f"{path}.name", item.name, later.name, better="neutral")
    for item in new.items:
        if old.item(item.id) is None:  # its share comes out of the others' probabilities
            found.append(ConfigChange(f"items.{item.id}", "none", item.name, False))
    found += _prize_changes(old.last_prize, new.last_prize)
    found += _pity_changes(old, new)
    found += compare("draws_per_day", old.draws_per_day, new.draws_per_day, better="higher")
    found += compare("spend_per_day", old.spend_per_day, new.spend_per_day, better="higher")
    found += compare("min_age", old.min_age or 0, new.min_age or 0, better="lower")
    return found


def _prize_changes(old: LastPrize | None, new: LastPrize | None) -> list[ConfigChange]:
    if old is None and new is None:
        return []
    if new is None:
        assert old is not None
        return [ConfigChange("last_prize", old.name, "none", True)]
    if old is None:
        return [ConfigChange("last_prize", "none", new.name, False)]
    return [*compare("last_prize.value", old.value, new.value, better="higher"),
            *compare("last_prize.name", old.name, new.name, better="neutral")]


def _pity_changes(old: BlindBoxConfig, new: BlindBoxConfig) -> list[ConfigChange]:
    if old.pity is None and new.pity is None:
        return []
    if new.pity is None:
        assert old.pity is not None
        return [ConfigChange("pity", _show_pity(old.pity), "none", True)]
    if old.pity is None:
        return [ConfigChange("pity", "none", _show_pity(new.pity), False)]
    return [*compare("pity.within", old.pity.within, new.pity.within, better="lower"),
            *compare("pity.tier", old.rank(old.pity.tier), new.rank(new.pity.tier),
                     better="higher")]


def _show_pity(pity: Pity) -> str:
    return f"{pity.tier} within {pity.within}"
