"""The presale's customer rules (:func:`rules`), in every language of
:class:`~promokit.text.Text`."""

from __future__ import annotations

from datetime import datetime, tzinfo
from decimal import Decimal

from promokit.games import GameSpec
from promokit.money import MONEY_CONTEXT
from promokit.text import Text

from .config import DEPOSIT_CAP_SHARE, PresaleConfig, aware
from .terms import Terms


def rules(spec: GameSpec, cfg: PresaleConfig, text: Text, *, tz: tzinfo | None = None,
          terms: Terms | None = None, promotion_name: str | None = None) -> list[str]:
    """The presale's customer rules, one line each, in ``text.lang``. ``tz`` is the
    file's timezone (else the times' own offsets, or none shown); ``terms`` the
    promotion's, when known."""
    amount = text.amount
    price, deposit = amount(cfg.presale_price), amount(cfg.deposit)
    share = MONEY_CONTEXT.divide(Decimal(cfg.deposit * 100), Decimal(cfg.presale_price))
    share = share.quantize(Decimal("0.01"), context=MONEY_CONTEXT).normalize()
    lines = [
        text.gettext("{game}: presale of {sku} at {price} per unit.", game=spec.name,
                     sku=cfg.sku, price=price),
        text.gettext("Deposit: {deposit} per unit ({share} of the presale price). By law a "
                     "deposit may be at most {most} of the price (PRC Civil Code, art. 586): "
                     "here at most {cap}.", deposit=deposit, share=f"{text.number(share)}%",
                     most=f"{text.number(DEPOSIT_CAP_SHARE * 100)}%", cap=amount(cfg.deposit_cap)),
    ]
    if terms is not None:
        worth = terms.worth(cfg.deposit, cfg.presale_price)
        cap = "" if terms.cap is None else text.gettext(
            ", the extra at most {cap} per order line", cap=amount(terms.cap))
        lines.append(text.gettext(
            "When you pay the balance, each unit's deposit of {deposit} counts as {worth} "
            "against the price (deposit × {times}{cap}): the balance is {balance} per unit "
            "before other offers.", deposit=deposit, worth=amount(worth),
            times=text.number(terms.multiplier), cap=cap,
            balance=amount(cfg.presale_price - worth)))
    elif cfg.promotion is not None:
        lines.append(text.gettext("When you pay the balance, the deposit counts against the "
                                  "price as the promotion “{promotion}” sets out.",
                                  promotion=promotion_name or cfg.promotion))
    else:
        lines.append(text.gettext(
            "When you pay the balance the deposit counts at its face value: the balance is "
            "{balance} per unit before other offers.",
            balance=amount(cfg.presale_price - cfg.deposit)))
    lines += [
        text.gettext("Deposits: {period}. Pay the deposit within {minutes} minutes of "
                     "ordering, and before deposits close, or the order is cancelled and its "
                     "units go back on sale. You may cancel an order before paying its "
                     "deposit.", period=_period(text, cfg.deposit_start, cfg.deposit_end, tz),
                     minutes=text.number(cfg.pay_within_minutes)),
        text.gettext("Balance: {period}.",
                     period=_period(text, cfg.balance_start, cfg.balance_end, tz)),
    ]
    stock = text.number(cfg.stock)
    limit = cfg.max_units_per_customer
    if limit is None:
        lines.append(text.gettext("{stock} units only, while stocks last.", stock=stock))
    else:
        lines.append(text.gettext("{stock} units only, while stocks last; up to {limit} per "
                                  "customer.", stock=stock, limit=text.number(limit)))
    lines.append(text.gettext(
        "A paid deposit is not refunded: if the balance is not paid by {end}, the deposit "
        "is forfeited (PRC Civil Code, art. 587: the party who fails to perform cannot "
        "claim the deposit back; a seller who fails to deliver returns twice the deposit).",
        end=_moment(text, cfg.balance_end, tz)))
    if spec.organiser:
        lines.append(text.gettext("Organiser: {organiser}.", organiser=spec.organiser))
    return lines


def _period(text: Text, start: datetime, end: datetime, tz: tzinfo | None) -> str:
    zone = tz or start.tzinfo
    if zone is not None:
        period = text.period(aware(start, zone), aware(end, zone), zone)
        assert period is not None
        return period
    return text.gettext("{start} – {end} (local time)", start=text.datetime(start),
                        end=text.datetime(end))


def _moment(text: Text, moment: datetime, tz: tzinfo | None) -> str:
    zone = tz or moment.tzinfo
    if zone is None:
        return text.gettext("{moment} (local time)", moment=text.datetime(moment))
    local = aware(moment, zone).astimezone(zone)
    return text.gettext("{text} ({note})", text=text.datetime(local),
                        note=text.timezone(zone, short=True))
