"""The presale's customer rules (:func:`rules`), in English and Chinese."""

from __future__ import annotations

from datetime import datetime, tzinfo
from decimal import Decimal

from promokit.games import GameSpec
from promokit.money import MONEY_CONTEXT
from promokit.text import Text

from .config import PresaleConfig, aware
from .terms import Terms


def rules(spec: GameSpec, cfg: PresaleConfig, text: Text, *, tz: tzinfo | None = None,
          terms: Terms | None = None, promotion_name: str | None = None) -> list[str]:
    """The presale's customer rules, one line each, in ``text.lang``. ``tz`` is the
    file's timezone (else the times' own offsets, or none shown); ``terms`` the
    promotion's, when known."""
    amount, pick = text.amount, text.pick
    price, deposit = amount(cfg.presale_price), amount(cfg.deposit)
    share = MONEY_CONTEXT.divide(Decimal(cfg.deposit * 100), Decimal(cfg.presale_price))
    share = share.quantize(Decimal("0.01"), context=MONEY_CONTEXT).normalize()
    lines = [
        pick(f"{spec.name}: presale of {cfg.sku} at {price} per unit.",
             f"{spec.name}：商品{cfg.sku}預售價{price}/件。"),
        pick(f"Deposit: {deposit} per unit ({text.number(share)}% of the presale price). By "
             "law a deposit may be at most 20% of the price (PRC Civil Code, art. 586): here "
             f"at most {amount(cfg.deposit_cap)}.",
             f"定金：{deposit}/件（預售價的{text.number(share)}%）。依《民法典》第五百八十六條，"
             f"定金不得超過合同金額的20%，本商品定金最多{amount(cfg.deposit_cap)}。"),
    ]
    if terms is not None:
        worth = terms.worth(cfg.deposit, cfg.presale_price)
        times = text.number(terms.multiplier)
        cap = "" if terms.cap is None else pick(
            f", the extra at most {amount(terms.cap)} per order line",
            f"，每個訂單行最多多抵{amount(terms.cap)}")
        lines.append(pick(
            f"When you pay the balance, each unit's deposit of {deposit} counts as "
            f"{amount(worth)} against the price (deposit × {times}{cap}): the balance is "
            f"{amount(cfg.presale_price - worth)} per unit before other offers.",
            f"支付尾款時，每件定金{deposit}可抵{amount(worth)}（定金×{times}{cap}），"
            f"每件尾款{amount(cfg.presale_price - worth)}（未計其他優惠）。"))
    elif cfg.promotion is not None:
        name = promotion_name or cfg.promotion
        lines.append(pick(f"When you pay the balance, the deposit counts against the price "
                          f"as the promotion “{name}” sets out.",
                          f"支付尾款時，定金按活動「{name}」的規則抵扣。"))
    else:
        lines.append(pick(
            f"When you pay the balance the deposit counts at its face value: the balance is "
            f"{amount(cfg.presale_price - cfg.deposit)} per unit before other offers.",
            f"支付尾款時，定金按原額抵扣，每件尾款{amount(cfg.presale_price - cfg.deposit)}"
            "（未計其他優惠）。"))
    minutes = text.number(cfg.pay_within_minutes)
    lines += [
        pick(f"Deposits: {_period(text, cfg.deposit_start, cfg.deposit_end, tz)}. Pay the "
             f"deposit within {minutes} minutes of ordering, and before deposits close, or "
             "the order is cancelled and its units go back on sale. You may cancel an order "
             "before paying its deposit.",
             f"定金支付時間：{_period(text, cfg.deposit_start, cfg.deposit_end, tz)}。"
             f"下單後須在{minutes}分鐘內（且不晚於定金支付截止時間）支付定金，逾時訂單自動取消，"
             "庫存釋放；支付定金前可取消訂單。"),
        pick(f"Balance: {_period(text, cfg.balance_start, cfg.balance_end, tz)}.",
             f"尾款支付時間：{_period(text, cfg.balance_start, cfg.balance_end, tz)}。"),
    ]
    stock = text.number(cfg.stock)
    limit = cfg.max_units_per_customer
    lines.append(pick(
        f"{stock} units only, while stocks last"
        + (f"; up to {text.number(limit)} per customer." if limit is not None else "."),
        f"限量{stock}件，售完即止" + (f"；每人限購{text.number(limit)}件。"
                                   if limit is not None else "。")))
    end = _moment(text, cfg.balance_end, tz)
    lines.append(pick(
        f"A paid deposit is not refunded: if the balance is not paid by {end}, the deposit "
        "is forfeited (PRC Civil Code, art. 587: the party who fails to perform cannot "
        "claim the deposit back; a seller who fails to deliver returns twice the deposit).",
        f"定金支付後不退；未在{end}前支付尾款的，定金不予退還（《民法典》第五百八十七條："
        "給付定金的一方不履行債務的，無權請求返還定金；收受定金的一方不履行債務的，"
        "應當雙倍返還定金）。"))
    if spec.organiser:
        lines.append(pick(f"Organiser: {spec.organiser}.", f"主辦方：{spec.organiser}。"))
    return lines


def _period(text: Text, start: datetime, end: datetime, tz: tzinfo | None) -> str:
    zone = tz or start.tzinfo
    if zone is not None:
        period = text.period(aware(start, zone), aware(end, zone), zone)
        assert period is not None
        return period
    return text.pick(f"{text.datetime(start)} – {text.datetime(end)} (local time)",
                     f"{text.datetime(start)} 至 {text.datetime(end)}（當地時間）")


def _moment(text: Text, moment: datetime, tz: tzinfo | None) -> str:
    zone = tz or moment.tzinfo
    if zone is None:
        return text.pick(f"{text.datetime(moment)} (local time)",
                         f"{text.datetime(moment)}（當地時間）")
    local = aware(moment, zone).astimezone(zone)
    return text.pick(f"{text.datetime(local)} ({text.timezone(zone, short=True)})",
                     f"{text.datetime(local)}（{text.timezone(zone, short=True)}）")
