""":class:`Lottery`, the ``lottery`` game kind: parsing, the ``cn`` checks,
the disclosure, config changes and the audit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar

from promokit.games import ConfigChange, GameKind, GameRuntime, GameSpec, compare
from promokit.params import Params
from promokit.text import Text

from .config import TICKET_ACTIONS, LotteryConfig, check_prizes, parse_prize
from .disclosure import draws_text, prize_line, tickets_text
from .game import LotteryGame
from .verify import Replay


class Lottery(GameKind):
    """The ``lottery`` game kind."""

    name = "lottery"
    chance_based = True
    actions: ClassVar[Mapping[str, str]] = {
        "open": "start the game and print the seed commitment to publish",
        "draw": "draw once (--customer, --set client_seed=…)",
        "grant": "give entry tickets (--customer, --set action=share --set action_id=…)",
        "state": "a customer's draws, tickets, wins and guarantee (--customer)",
        "reveal": "end the draws and publish the server seed",
    }

    # -- loading ------------------------------------------------------------------

    def parse(self, params: Params, spec: GameSpec) -> LotteryConfig:
        """Read the lottery's keys; every problem goes to ``params`` with its path."""
        tables = params.tables("prizes", required=True, non_empty=True) or []
        prizes = [prize for table in tables if (prize := parse_prize(table)) is not None]
        draws_per_day = params.integer("draws_per_day", required=False, minimum=1)
        free = params.integer("free_draws_per_day", required=False, minimum=0, default=1)
        max_wins = params.integer("max_wins", required=False, minimum=1)
        guarantee = params.integer("guarantee_every", required=False, minimum=1)
        tickets: list[tuple[str, int]] = []
        ticket_table = params.table("tickets")
        if ticket_table is not None:
            for action in TICKET_ACTIONS:
                count = ticket_table.integer(action, required=False, minimum=1)
                if count is not None:
                    tickets.append((action, count))
            ticket_table.finish()
        max_tickets = params.integer("max_tickets_per_day", required=False, minimum=1)
        draw_time = params.string("draw_time", required=False)
        redeem = params.string("redeem", required=False)

        if tables:
            check_prizes(params, tables)
        if guarantee is not None and prizes and all(p.fallback for p in prizes):
            params.problem("needs a prize besides the fallback", "guarantee_every")
        free = 1 if free is None else free
        if draws_per_day is not None and free > draws_per_day:
            params.problem(f"{free} free draws a day is more than draws_per_day "
                           f"({draws_per_day})", "free_draws_per_day")
        if ticket_table is not None and draws_per_day is not None and free >= draws_per_day:
            params.problem("tickets can never be spent: the free draws already reach "
                           "draws_per_day", "tickets")
        if max_tickets is not None and not tickets:
            params.problem("no action earns tickets (set tickets)", "max_tickets_per_day")
        return LotteryConfig(prizes=tuple(prizes), draws_per_day=draws_per_day,
                             free_draws_per_day=free, max_wins=max_wins,
                             guarantee_every=guarantee, tickets=tuple(tickets),
                             max_tickets_per_day=max_tickets, draw_time=draw_time,
                             redeem=redeem)

    def check(self, spec: GameSpec, jurisdiction: str, params: Params) -> None:
        """In jurisdiction ``cn`` the disclosure must say how and when draws happen
        and how and when prizes are redeemed (《規範促銷行為暫行規定》第十八條)."""
        if jurisdiction != "cn":
            return
        config: LotteryConfig = spec.config
        if config.draw_time is None:
            params.problem("jurisdiction cn: a lottery must say how and when draws happen "
                           "(draw_time = \"…\"); the disclosure prints it", "draw_time")
        if config.redeem is None:
            params.problem("jurisdiction cn: a lottery must say how and when prizes are "
                           "redeemed (redeem = \"…\"); the disclosure prints it", "redeem")

    def features(self, config: LotteryConfig) -> frozenset[str]:
        """``share_for_draw`` when sharing earns tickets (``tickets.share``), which
        the ``wechat_h5`` channel profile forbids."""
        return frozenset({"share_for_draw"}) if config.tickets_for("share") else frozenset()

    def top_prize(self, config: LotteryConfig) -> int | None:
        """The most valuable prize (cash, or declared market value)."""
        values = [prize.value for prize in config.prizes if prize.value is not None]
        return max(values) if values else None

    def bind(self, spec: GameSpec, runtime: GameRuntime) -> LotteryGame:
        return LotteryGame(spec, runtime)

    # -- what customers read ----------------------------------------------------------

    def disclosure(self, spec: GameSpec, text: Text) -> list[str]:
        """Organiser, period, prizes with value, quantity and probability, limits,
        tickets, guarantee, draw and redemption terms, and the audit."""
        config: LotteryConfig = spec.config
        def label(name: str, value: str) -> str:
            return text.gettext("{label}: {value}", label=name, value=value)

        lines = [label(text.gettext("Organiser"), spec.organiser or text.gettext("the shop"))]
        moment = spec.schedule.start or spec.schedule.end
        if moment is not None and moment.tzinfo is not None:
            period = text.period(spec.schedule.start, spec.schedule.end, moment.tzinfo)
            lines.append(label(text.gettext("Period"), str(period)))
        lines.append(text.gettext("Prizes (probability per draw):"))
        lines.extend(prize_line(config, prize, text) for prize in config.prizes)
        lines.append(label(text.gettext("Draws"), draws_text(config, text)))
        if config.tickets:
            lines.append(label(text.gettext("Entry tickets"), tickets_text(config, text)))
        if config.guarantee_every is not None:
            n, fallback = config.guarantee_every, config.fallback.name
            # Translators: {n} is the number of the draw that wins, for languages that
            # name it (the 10th draw); {before} the draws without a prize before it.
            lines.append(text.gettext(
                "Guarantee: after {before} draws in a row without a prize other than "
                "{fallback}, your next draw wins one of the prizes still in stock (picked by "
                "their weights)", before=text.number(n - 1), fallback=fallback,
                n=text.number(n)))
        if config.draw_time:
            lines.append(label(text.gettext("How and when draws happen"), config.draw_time))
        if config.redeem:
            lines.append(label(text.gettext("How and when to redeem"), config.redeem))
        lines.append(text.gettext(
            "Fairness: each result is HMAC-SHA256, keyed by the server seed, of your "
            "customer id, your client seed (unless you give one, the hash of the draw record "
            "before yours), your draw number and the rules' hash. The SHA-256 commitment of "
            "the server seed is published before the first draw; to be sure of your draws, "
            "give your own random client seed after it is published and keep your draw "
            "receipts. After the game the seed, the number of draws, the final hash and "
            "every draw are published, so anyone can recompute each draw "
            "(`promokit game verify`)."))
        return lines

    # -- config changes -----------------------------------------------------------------

    def changes(self, old: GameSpec, new: GameSpec) -> list[ConfigChange]:
        """Worse for customers: a prize removed, or with a lower value, a lower
        probability, less stock or a later unlock; fewer draws or free draws a day,
        fewer wins, a later (or no) guarantee, fewer tickets. The opposite is better;
        names and the draw/redeem wording are neutral."""
        a: LotteryConfig = old.config
        b: LotteryConfig = new.config
        found: list[ConfigChange] = []
        for before in a.prizes:
            after = b.prize(before.id)
            path = f"prizes[{before.id}]"
            if after is None:
                found.append(ConfigChange(path, before.name, "removed", True))
                continue
            found += compare(f"{path}.name", before.name, after.name, better="neutral")
            found += compare(f"{path}.kind", before.kind, after.kind, better="same")
            found += compare(f"{path}.fallback", before.fallback, after.fallback, better="same")
            found += compare(f"{path}.value", before.value or 0, after.value or 0,
                             better="higher")
            found += compare(f"{path}.stock", before.stock, after.stock, better="higher")
            found += compare(f"{path}.locked_until", before.locked_until or 0,
                             after.locked_until or 0, better="lower")
            if not before.fallback and not after.fallback:
                odds_before, odds_after = a.probability(before), b.probability(after)
                share_before = Decimal(before.weight) / sum(a.weights)
                share_after = Decimal(after.weight) / sum(b.weights)
                if share_before != share_after:
                    found.append(ConfigChange(f"{path}.probability", f"{odds_before}%",
                                              f"{odds_after}%", share_after < share_before))
        for added in b.prizes:
            if a.prize(added.id) is None:
                found.append(ConfigChange(f"prizes[{added.id}]", "none", added.name,
                                          added.fallback))
        found += compare("draws_per_day", a.draws_per_day, b.draws_per_day, better="higher")
        found += compare("free_draws_per_day", a.free_draws_per_day, b.free_draws_per_day,
                         better="higher")
        found += compare("max_wins", a.max_wins, b.max_wins, better="higher")
        found += compare("guarantee_every", a.guarantee_every, b.guarantee_every,
                         better="lower")
        for action in TICKET_ACTIONS:
            found += compare(f"tickets.{action}", a.tickets_for(action) or 0,
                             b.tickets_for(action) or 0, better="higher")
        found += compare("max_tickets_per_day", a.max_tickets_per_day, b.max_tickets_per_day,
                         better="higher")
        found += compare("draw_time", a.draw_time, b.draw_time, better="neutral")
        found += compare("redeem", a.redeem, b.redeem, better="neutral")
        return found

    # -- the audit ---------------------------------------------------------------------------

    def verify(self, specs: Mapping[str, GameSpec], seed: str,
               entries: Sequence[Mapping[str, Any]]) -> list[str]:
        """Recompute every draw of a revealed log, in log order: its digest and
        pick, the customer's nonces (1, 2, 3 … without gaps or repeats), and every
        fallback and guarantee against the stock, locks, wins and streaks that the
        log itself replays. Each problem names the draw (``draw 17: …``)."""
        return Replay(specs, seed).run(entries)
