"""The wording of a blind box's rules (in every language of
:class:`~promokit.text.Text`): price, pool, every item's probability and value,
last prize, pity, caps, age rule and audit."""

from __future__ import annotations

from collections.abc import Mapping

from promokit.games import GameSpec
from promokit.text import Text

from .config import CN_CONSENT_AGE, CN_MIN_AGE, BlindBoxConfig
from .odds import odds_of, percent_text


def disclosure_lines(spec: GameSpec, text: Text, *, drawn: Mapping[str, int] | None,
                jurisdiction: str | None, commitment: str | None) -> list[str]:
    """The rules, one line each, from the config and (finite pool) the counts drawn."""
    config: BlindBoxConfig = spec.config
    odds = odds_of(config, drawn)
    amount = text.amount
    lines = [text.gettext("Blind box “{series}” ({game}): {price} a box; which item is "
                          "inside is known only once it is opened.", series=config.series,
                          game=spec.name, price=amount(config.price))]
    moment = spec.schedule.start or spec.schedule.end
    if moment is not None and moment.tzinfo is not None:
        period = text.period(spec.schedule.start, spec.schedule.end, moment.tzinfo)
        lines.append(text.gettext("{label}: {value}", label=text.gettext("Period"),
                                  value=str(period)))
    if config.finite:
        left = "" if drawn is None else text.gettext("; {count} left now",
                                                     count=text.number(odds.remaining or 0))
        lines.append(text.gettext(
            "Pool: {count} boxes released in all, drawn without replacement{left}; the "
            "probabilities below are the boxes left of each item over all boxes left, so "
            "they change as the pool is drawn; sold out when all are drawn.",
            count=text.number(odds.released or 0), left=left))
    else:
        lines.append(text.gettext("Every box is drawn with the same fixed probabilities "
                                  "below."))
    for item, chance in zip(config.items, odds.items, strict=True):
        name = text.gettext("hidden item") if item.hidden else item.name
        tier = config.tier(item.tier).name
        parts = [text.gettext("probability {percent}% ({fraction})",
                              percent=percent_text(chance.probability),
                              fraction=str(chance.probability)),
                 text.gettext("market value {worth}", worth=amount(item.value))]
        if item.quantity is not None:
            parts.append(text.gettext("{count} released", count=text.number(item.quantity)))
            if drawn is not None:
                parts.append(text.gettext("{count} left", count=text.number(chance.remaining or 0)))
        # Translators: between the facts of one item (its probability, its value …).
        facts = text.pgettext("facts", ", ").join(parts)
        lines.append(text.gettext("- [{tier}] {item}: {facts}", tier=tier, item=name,
                                  facts=facts))
    tiers = text.join(f"{tier.name} {percent_text(p)}%" for tier, p in odds.tiers)
    lines.append(text.gettext("By tier: {tiers}.", tiers=tiers))
    lines.append(text.gettext("Declared market values range from {low} to {high}.",
                              low=amount(odds.min_value), high=amount(odds.max_value)))
    if config.last_prize is not None:
        prize = config.last_prize
        lines.append(text.gettext(
            "Last prize: whoever draws the last box of the pool also gets {prize} (market "
            "value {worth}).", prize=prize.name, worth=amount(prize.value)))
    if config.pity is not None:
        pity, tier = config.pity, config.tier(config.pity.tier).name
        rarest = config.rank(pity.tier) == len(config.tiers) - 1
        kind = (text.gettext("{tier} item", tier=tier) if rarest
                else text.gettext("{tier} item or rarer", tier=tier))
        caveat = text.gettext(" while the pool still holds such items") if config.finite else ""
        lines.append(text.gettext(
            "Guarantee: every {within} draws of a customer include at least one "
            "{item}{caveat}: after {before} draws without one, the next is drawn among "
            "those items only, by their own probabilities.",
            within=text.number(pity.within), item=kind, caveat=caveat,
            before=text.number(pity.within - 1)))
    caps = []
    if config.draws_per_day is not None:
        caps.append(text.gettext("up to {count} boxes", count=text.number(config.draws_per_day)))
    if config.spend_per_day is not None:
        caps.append(text.gettext("up to {amount}", amount=amount(config.spend_per_day)))
    if caps:
        if len(caps) > 1:
            # Translators: a daily number of boxes and a daily spend, both capped.
            caps = [text.pgettext("daily caps", "{head} and {last}", head=caps[0],
                                  last=caps[1])]
        lines.append(text.gettext("Daily limit per customer: {caps} (local day).",
                                  caps=caps[0]))
    lines.extend(_age_rule(config, text, jurisdiction))
    if spec.organiser:
        lines.append(text.gettext("{label}: {value}", label=text.gettext("Organiser"),
                                  value=spec.organiser))
    published = "" if commitment is None else text.pgettext(
        "commitment", " ({commitment})", commitment=commitment)
    lines.append(text.gettext(
        "Audit: each box is decided by HMAC-SHA256, keyed by a server seed whose SHA-256 "
        "commitment is published before the first draw{published}, of the customer's id, "
        "their client seed (unless they give one, the hash of the draw record before "
        "theirs) and their draw number; to be sure, give your own random client seed after "
        "the commitment is published and keep your receipts. At the end the seed, the "
        "number of draws, the final hash and every draw are published, and anyone can "
        "recompute every draw from the draw log (promokit game verify).",
        published=published))
    return lines


def _age_rule(config: BlindBoxConfig, text: Text, jurisdiction: str | None) -> list[str]:
    if jurisdiction == "cn":
        minimum = max(config.min_age or 0, CN_MIN_AGE)
        return [text.gettext(
            "Not sold to customers under {age}; customers under {consent} need their "
            "guardian's consent.", age=text.number(minimum),
            consent=text.number(CN_CONSENT_AGE))]
    if config.min_age:
        return [text.gettext("Not sold to customers under {age}.",
                             age=text.number(config.min_age))]
    return []
