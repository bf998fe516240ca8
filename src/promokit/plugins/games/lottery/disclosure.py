"""The wording of a lottery's disclosure: prize lines, draws and tickets
(English and Chinese)."""

from __future__ import annotations

from promokit.text import Text

from .config import LotteryConfig, Prize

_KIND_WORDS = {"cash": ("cash", "現金"), "coupon": ("coupon", "優惠券"),
               "goods": ("goods", "實物"), "points": ("points", "積分"),
               "none": ("no prize", "無獎品")}
_ACTION_WORDS = {"purchase": ("each purchase", "每次下單購買"),
                 "share": ("each share", "每次分享"), "quiz": ("each quiz answered", "每次答題")}


def prize_line(config: LotteryConfig, prize: Prize, text: Text) -> str:
    en_kind, zh_kind = _KIND_WORDS[prize.kind]
    what = text.pick(en_kind, zh_kind)
    if prize.value is not None:
        worth = text.amount(prize.value)
        what += {"cash": text.pick(f" {worth}", worth),
                 "goods": text.pick(f", market value {worth}", f"，市場價值{worth}"),
                 "coupon": text.pick(f", worth {worth}", f"，面值{worth}"),
                 "points": text.pick(f", worth {worth}", f"，價值{worth}")}.get(prize.kind, "")
    odds = f"{config.probability(prize)}%"
    if prize.fallback:
        return text.pick(
            f"- {prize.name} ({what}): unlimited, probability {odds}; also given whenever the "
            "prize drawn is out of stock, not yet unlocked, or beyond your win limit",
            f"- {prize.name}（{what}）：不限量，中獎概率{odds}；抽中的獎品已抽完、尚未開放或"
            "您已達中獎上限時，均改為獲得此獎")
    stock = text.number(prize.stock or 0)
    line = text.pick(f"- {prize.name} ({what}): {stock} in total, probability {odds}",
                     f"- {prize.name}（{what}）：共{stock}份，中獎概率{odds}")
    if prize.locked_until is not None:
        after = text.number(prize.locked_until)
        line += text.pick(f"; it can be won only after the game has had {after} draws in total",
                          f"；本活動累計抽獎滿{after}次後方可抽中")
    return line


def draws_text(config: LotteryConfig, text: Text) -> str:
    free = config.free_draws_per_day
    parts = []
    if config.draws_per_day is not None:
        parts.append(text.pick(f"up to {text.times(config.draws_per_day)} a day per customer",
                               f"每人每天最多抽獎{text.times(config.draws_per_day)}"))
    if config.tickets:
        parts.append(text.pick(f"{text.times(free)} a day free, each further draw uses one "
                               "entry ticket",
                               f"每天免費{text.times(free)}，其餘每次消耗1張抽獎券"))
    else:
        parts.append(text.pick(f"{text.times(free)} a day free", f"每天免費{text.times(free)}"))
    if config.max_wins is not None:
        parts.append(text.pick(f"each customer wins at most {text.times(config.max_wins)} "
                               f"(prizes other than {config.fallback.name})",
                               f"每人最多中獎{text.times(config.max_wins)}"
                               f"（不含{config.fallback.name}）"))
    parts.append(text.pick("days are local days", "按活動所在時區的自然日計算"))
    return text.pick("; ", "；").join(parts)


def tickets_text(config: LotteryConfig, text: Text) -> str:
    earns = []
    for action, count in config.tickets:
        en, zh = _ACTION_WORDS[action]
        earns.append(text.pick(f"{en} earns {text.number(count)}",
                               f"{zh}得{text.number(count)}張"))
    parts = [text.join(earns)]
    if config.max_tickets_per_day is not None:
        cap = text.number(config.max_tickets_per_day)
        parts.append(text.pick(f"at most {cap} a day per customer", f"每人每天最多獲得{cap}張"))
    parts.append(text.pick("tickets stay valid until the game ends", "抽獎券在活動結束前有效"))
    return text.pick("; ", "；").join(parts)
