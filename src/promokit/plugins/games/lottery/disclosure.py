"""The wording of a lottery's disclosure: prize lines, draws and tickets, in
every language of :class:`~promokit.text.Text`."""

from __future__ import annotations

from promokit.text import N_, Text

from .config import LotteryConfig, Prize

_KIND_WORDS = {"cash": N_("cash"), "coupon": N_("coupon"), "goods": N_("goods"),
               "points": N_("points"), "none": N_("no prize")}
_ACTION_WORDS = {"purchase": N_("each purchase earns {count}"),
                 "share": N_("each share earns {count}"),
                 "quiz": N_("each quiz answered earns {count}")}


def prize_line(config: LotteryConfig, prize: Prize, text: Text) -> str:
    what = text.gettext(_KIND_WORDS[prize.kind])
    if prize.value is not None:
        worth = text.amount(prize.value)
        if prize.kind == "cash":
            what = text.pgettext("cash", "{kind} {worth}", kind=what, worth=worth)
        elif prize.kind == "goods":
            what = text.gettext("{kind}, market value {worth}", kind=what, worth=worth)
        elif prize.kind == "coupon":
            what = text.pgettext("coupon", "{kind}, worth {worth}", kind=what, worth=worth)
        elif prize.kind == "points":
            what = text.pgettext("points", "{kind}, worth {worth}", kind=what, worth=worth)
    odds = f"{config.probability(prize)}%"
    if prize.fallback:
        return text.gettext(
            "- {prize} ({what}): unlimited, probability {odds}; also given whenever the "
            "prize drawn is out of stock, not yet unlocked, or beyond your win limit",
            prize=prize.name, what=what, odds=odds)
    line = text.gettext("- {prize} ({what}): {stock} in total, probability {odds}",
                        prize=prize.name, what=what, stock=text.number(prize.stock or 0),
                        odds=odds)
    if prize.locked_until is not None:
        line += text.gettext("; it can be won only after the game has had {after} draws in "
                             "total", after=text.number(prize.locked_until))
    return line


def draws_text(config: LotteryConfig, text: Text) -> str:
    free = text.times(config.free_draws_per_day)
    parts = []
    if config.draws_per_day is not None:
        parts.append(text.pgettext("draws", "up to {times} a day per customer",
                                   times=text.times(config.draws_per_day)))
    if config.tickets:
        parts.append(text.gettext("{times} a day free, each further draw uses one entry ticket",
                                  times=free))
    else:
        parts.append(text.gettext("{times} a day free", times=free))
    if config.max_wins is not None:
        parts.append(text.gettext("each customer wins at most {times} (prizes other than "
                                  "{fallback})", times=text.times(config.max_wins),
                                  fallback=config.fallback.name))
    parts.append(text.gettext("days are local days"))
    return text.gettext("; ").join(parts)


def tickets_text(config: LotteryConfig, text: Text) -> str:
    earns = [text.gettext(_ACTION_WORDS[action], count=text.number(count))
             for action, count in config.tickets]
    parts = [text.join(earns)]
    if config.max_tickets_per_day is not None:
        parts.append(text.pgettext("tickets", "at most {count} a day per customer",
                                   count=text.number(config.max_tickets_per_day)))
    parts.append(text.gettext("tickets stay valid until the game ends"))
    return text.gettext("; ").join(parts)
