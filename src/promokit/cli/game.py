"""``promokit game …``: play the games of a campaign file against a store, and
check a revealed draw log.

- ``promokit game list CAMPAIGNS…`` — the games and what each can do;
- ``promokit game play GAME ACTION CAMPAIGNS… --store URL --customer ID
  [--customer-json JSON] [--set KEY=VALUE]…`` — one action (``draw``, ``join``,
  ``help``, ``reserve`` …), printed as JSON;
- ``promokit game rules GAME CAMPAIGNS… [--lang]`` — the game's disclosure;
- ``promokit game reveal GAME CAMPAIGNS… --store URL`` — publish the server seed;
- ``promokit game log GAME CAMPAIGNS… --store URL [--out FILE]`` — the draw log;
- ``promokit game verify LOG`` — recompute every draw of a revealed log (exit 1
  if anything does not match).

Share tokens are signed with ``$PROMOKIT_SECRET`` (at least 16 bytes).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
from pathlib import Path
from typing import Any

from ..cart import Customer
from ..engine import Engine
from ..errors import GameError, InputError, Problem
from ..gameplay import verify_log
from ..games import DrawLog, Game
from ..inputs import decode_json
from ..text import LANGUAGES
from .store import OpenedStore, Shared, UsageError

__all__ = ["add_game_commands"]

SECRET_ENV = "PROMOKIT_SECRET"


def add_game_commands(commands: Any, shared: Shared) -> None:
    """Add ``promokit game`` and its actions to the ``promokit`` parser."""
    game = commands.add_parser("game", help="play promotion games against a store",
                               description="Play the [[game]] tables of campaign files "
                                           "(lotteries, blind boxes, group buys, bargains, "
                                           "presales) against a store, and verify draw logs.")
    actions = game.add_subparsers(title="actions", metavar="ACTION", required=True)

    def action(name: str, help_text: str, run: Any, *, store: bool = True,
               game_id: bool = True) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = actions.add_parser(name, help=help_text,
                                                             description=help_text + ".")
        if game_id:
            parser.add_argument("game", metavar="GAME", help="the game's id")
        if store:
            parser.add_argument("--store", metavar="URL",
                                default=os.environ.get("PROMOKIT_STORE"),
                                help="the store (default: $PROMOKIT_STORE)")
        shared.plugin_options(parser)
        parser.set_defaults(command=functools.partial(_explained, run, shared))
        return parser

    listing = action("list", "list the games and their actions", _list, store=False,
                     game_id=False)
    listing.add_argument("campaigns", nargs="+", metavar="CAMPAIGNS")

    play = action("play", "play one action of a game (draw, join, help …)", _play)
    play.add_argument("name", metavar="ACTION", help="see `promokit game list`")
    play.add_argument("campaigns", nargs="+", metavar="CAMPAIGNS")
    play.add_argument("--customer", metavar="ID", help="who plays")
    play.add_argument("--customer-json", metavar="JSON",
                      help='more about them, as in a cart: {"orders_count": 0, '
                           '"birthday": "2012-05-01"}')
    play.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                      dest="settings", help="an argument of the action (repeatable)")
    play.add_argument("--channel", metavar="NAME",
                      help="the channel it is played on (wechat_h5 …): refused where the "
                           "channel's profile forbids it")

    rules = action("rules", "print a game's disclosure", _rules, store=False)
    rules.add_argument("campaigns", nargs="+", metavar="CAMPAIGNS")
    rules.add_argument("--lang", choices=LANGUAGES, default="zh-CN")

    reveal = action("reveal", "end a game's chance and publish its server seed", _reveal)
    reveal.add_argument("campaigns", nargs="+", metavar="CAMPAIGNS")

    log = action("log", "export a game's draw log (JSON lines)", _log)
    log.add_argument("campaigns", nargs="+", metavar="CAMPAIGNS")
    log.add_argument("--out", metavar="FILE", help="write here instead of stdout")

    verify = action("verify", "recompute every draw of a revealed draw log", _verify,
                    store=False, game_id=False)
    verify.add_argument("log", metavar="LOG", help="a file written by `promokit game log`")
    verify.add_argument("--draws", type=int, metavar="N",
                        help="the draw count the reveal published: the log must hold "
                             "exactly these draws")
    verify.add_argument("--head", metavar="HEX",
                        help="the chain head the reveal published: the log must end there")


#: Refusals that mean the command line itself is wrong (exit code 2).
USAGE_REASONS = frozenset({"unknown_action", "bad_argument"})


def _explained(run: Any, shared: Shared, args: argparse.Namespace) -> int:
    """Run a game command, saying refusals in the command line's terms: a usage
    error exits 2, and a missing secret names ``$PROMOKIT_SECRET``."""
    try:
        code: int = run(shared, args)
    except GameError as error:
        if error.reason in USAGE_REASONS:
            raise UsageError(str(error)) from None
        if error.reason == "secret_required":
            raise GameError(f"game {error.game!r}: share links need a secret: set "
                            f"${SECRET_ENV} (at least 16 bytes, the same on every server)",
                            reason=error.reason, game=error.game) from None
        raise
    return code


def _engine(shared: Shared, args: argparse.Namespace, store: Any) -> Engine:
    registry = shared.registry(args)
    campaigns = shared.load(args.campaigns, registry)
    secret = os.environ.get(SECRET_ENV)
    return Engine(campaigns, registry=registry, store=store,
                  secret=secret.encode() if secret else None)


def _game(engine: Engine, game_id: str) -> Game:
    try:
        return engine.games[game_id]
    except KeyError:
        known = ", ".join(engine.games) or "none"
        raise GameError(f"no game {game_id!r} in the campaign files; games: {known}",
                        reason="unknown_game") from None


def _print(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _list(shared: Shared, args: argparse.Namespace) -> int:
    registry = shared.registry(args)
    campaigns = shared.load(args.campaigns, registry)
    if not campaigns.games:
        print("no games")
    for spec in campaigns.games:
        print(f"{spec.id}  ({spec.kind})  {spec.name}")
        for name, text in spec.kind_impl.actions.items():
            print(f"    {name:<10} {text}")
    return 0


class CustomerError(InputError):
    """``--customer`` or ``--customer-json`` is not a customer."""

    what = "customer"


def _customer(args: argparse.Namespace) -> Customer:
    data: dict[str, Any] = {}
    if args.customer_json:
        data = decode_json(args.customer_json, error=CustomerError)
        if not isinstance(data, dict):
            raise CustomerError([Problem(path="customer", message="must be a JSON object")])
    if args.customer is not None:
        data = {**data, "id": args.customer}
    return Customer.from_json(data)


def _settings(args: argparse.Namespace) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in args.settings:
        key, equals, value = item.partition("=")
        if not equals or not key:
            raise GameError(f"--set {item!r}: write KEY=VALUE", reason="bad_argument")
        found[key] = value
    return found


def _play(shared: Shared, args: argparse.Namespace) -> int:
    customer = _customer(args)
    settings = _settings(args)
    with OpenedStore(shared, args) as store:
        game = _game(_engine(shared, args, store), args.game)
        actions = game.spec.kind_impl.actions
        if args.name not in actions:
            raise GameError(f"game {game.id!r} ({game.spec.kind}) has no action "
                            f"{args.name!r}; actions: {', '.join(actions) or 'none'}",
                            reason="unknown_action", game=game.id)
        _print(game.play(args.name, customer, settings, channel=args.channel))
    return 0


def _rules(shared: Shared, args: argparse.Namespace) -> int:
    registry = shared.registry(args)
    campaigns = shared.load(args.campaigns, registry)
    game = _game(Engine(campaigns, registry=registry), args.game)
    print(game.disclosure(args.lang))
    return 0


def _reveal(shared: Shared, args: argparse.Namespace) -> int:
    with OpenedStore(shared, args, create=False) as store:
        game = _game(_engine(shared, args, store), args.game)
        game.reveal()
        _print(game.published())
    return 0


def _log(shared: Shared, args: argparse.Namespace) -> int:
    with OpenedStore(shared, args, create=False) as store:
        text = _game(_engine(shared, args, store), args.game).draw_log().dumps()
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _verify(shared: Shared, args: argparse.Namespace) -> int:
    try:
        text = Path(args.log).read_text(encoding="utf-8")
    except OSError as error:
        raise GameError(f"cannot read {args.log}: {error.strerror}", reason="bad_log") from None
    except UnicodeDecodeError as error:
        raise GameError(f"{args.log} is not UTF-8 text (byte {error.start}): not a draw log",
                        reason="bad_log") from None
    log = DrawLog.loads(text)
    report = verify_log(log, shared.registry(args), draws=args.draws, head=args.head)
    if report.ok:
        print(f"{log.game}: all {report.draws} draw(s) verified; the seed matches the "
              f"commitment {log.commitment[:16]}…")
        return 0
    print(f"{log.game}: verification FAILED ({len(report.problems)} problem(s)):",
          file=sys.stderr)
    for problem in report.problems:
        print(f"  {problem}", file=sys.stderr)
    return 1
