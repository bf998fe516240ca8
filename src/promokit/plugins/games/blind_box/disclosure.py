"""The wording of a blind box's rules (English and Chinese): price,
pool, every item's probability and value, last prize, pity, caps, age rule and audit."""

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
    lines = [text.pick(f"Blind box “{config.series}” ({spec.name}): {amount(config.price)} "
                       "a box; which item is inside is known only once it is opened.",
                       f"「{config.series}」盲盒（{spec.name}）：每盒{amount(config.price)}，"
                       "拆開後方知所得款式。")]
    moment = spec.schedule.start or spec.schedule.end
    if moment is not None and moment.tzinfo is not None:
        period = text.period(spec.schedule.start, spec.schedule.end, moment.tzinfo)
        lines.append(text.pick(f"Period: {period}", f"活動時間：{period}"))
    if config.finite:
        left = "" if drawn is None else text.pick(f"; {odds.remaining} left now",
                                                  f"，目前剩餘{odds.remaining}盒")
        lines.append(text.pick(
            f"Pool: {odds.released} boxes released in all, drawn without replacement"
            f"{left}; the probabilities below are the boxes left of each item over all "
            "boxes left, so they change as the pool is drawn; sold out when all are drawn.",
            f"盒池：共發售{odds.released}盒，抽出不放回{left}；以下概率為各款剩餘盒數除以"
            "總剩餘盒數，隨抽取變化；抽完即止。"))
    else:
        lines.append(text.pick("Every box is drawn with the same fixed probabilities below.",
                               "每盒均按以下固定概率抽取。"))
    for item, chance in zip(config.items, odds.items, strict=True):
        name = text.pick("hidden item", "隱藏款") if item.hidden else item.name
        tier = config.tier(item.tier).name
        parts = [text.pick(f"probability {percent_text(chance.probability)}% "
                           f"({chance.probability})",
                           f"概率{percent_text(chance.probability)}%（{chance.probability}）"),
                 text.pick(f"market value {amount(item.value)}", f"市場價值{amount(item.value)}")]
        if item.quantity is not None:
            parts.append(text.pick(f"{item.quantity} released", f"限量{item.quantity}個"))
            if drawn is not None:
                parts.append(text.pick(f"{chance.remaining} left", f"剩餘{chance.remaining}個"))
        lines.append(f"- [{tier}] {name}: " + ", ".join(parts) if not text.zh else
                     f"- 【{tier}】{name}：" + "，".join(parts))
    tiers = text.join(f"{tier.name} {percent_text(p)}%" for tier, p in odds.tiers)
    lines.append(text.pick(f"By tier: {tiers}.", f"各款式等級概率：{tiers}。"))
    lines.append(text.pick(
        f"Declared market values range from {amount(odds.min_value)} to "
        f"{amount(odds.max_value)}.",
        f"單品市場價值範圍：{amount(odds.min_value)}至{amount(odds.max_value)}。"))
    if config.last_prize is not None:
        prize = config.last_prize
        lines.append(text.pick(
            f"Last prize: whoever draws the last box of the pool also gets {prize.name} "
            f"(market value {amount(prize.value)}).",
            f"最後賞：抽出盒池最後一盒者另得「{prize.name}」（市場價值{amount(prize.value)}）。"))
    if config.pity is not None:
        pity, tier = config.pity, config.tier(config.pity.tier).name
        rarest = config.rank(pity.tier) == len(config.tiers) - 1
        en_tier = f"{tier} item" if rarest else f"{tier} item or rarer"
        zh_tier = tier if rarest else f"{tier}或更稀有款式"
        caveat = text.pick(" while the pool still holds such items",
                           "（以盒池中尚有該等款式為限）") if config.finite else ""
        lines.append(text.pick(
            f"Guarantee: every {pity.within} draws of a customer include at least one "
            f"{en_tier}{caveat}: after {pity.within - 1} draws without one, the next is "
            "drawn among those items only, by their own probabilities.",
            f"保底：每位顧客連續{pity.within}次抽取中至少得到一個{zh_tier}{caveat}；"
            f"連續{pity.within - 1}次未得到時，下一次僅在該等款式中按其概率抽取。"))
    caps = []
    if config.draws_per_day is not None:
        caps.append(text.pick(f"up to {config.draws_per_day} boxes",
                              f"最多{config.draws_per_day}盒"))
    if config.spend_per_day is not None:
        caps.append(text.pick(f"up to {amount(config.spend_per_day)}",
                              f"最多消費{amount(config.spend_per_day)}"))
    if caps:
        lines.append(text.pick(f"Daily limit per customer: {text.join(caps)} (local day).",
                               f"每人每天限購：{'，'.join(caps)}（按當地日期計）。"))
    lines.extend(_age_rule(config, text, jurisdiction))
    if spec.organiser:
        lines.append(text.pick(f"Organiser: {spec.organiser}", f"主辦方：{spec.organiser}"))
    published = "" if commitment is None else text.pick(f" ({commitment})", f"：{commitment}")
    lines.append(text.pick(
        "Audit: each box is decided by HMAC-SHA256 of a server seed whose SHA-256 "
        f"commitment is published before the first draw{published}, the customer's seed "
        "and their draw number; the seed is published at the end and anyone can recompute "
        "every draw from the draw log (promokit game verify).",
        f"公平性：每盒結果由伺服器種子（開抽前公布其SHA-256承諾{published}）、顧客種子及其"
        "抽取序號經HMAC-SHA256決定；活動結束後公布種子，任何人可依抽取記錄逐次核驗"
        "（promokit game verify）。"))
    return lines


def _age_rule(config: BlindBoxConfig, text: Text, jurisdiction: str | None) -> list[str]:
    if jurisdiction == "cn":
        minimum = max(config.min_age or 0, CN_MIN_AGE)
        return [text.pick(
            f"Not sold to customers under {minimum}; customers under {CN_CONSENT_AGE} need "
            "their guardian's consent.",
            f"不向未滿{minimum}周歲者銷售；未滿{CN_CONSENT_AGE}周歲者須經監護人同意。")]
    if config.min_age:
        return [text.pick(f"Not sold to customers under {config.min_age}.",
                          f"不向未滿{config.min_age}周歲者銷售。")]
    return []
