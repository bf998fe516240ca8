"""The ``promokit`` commands that work on a store (DESIGN §6).

``checkout``, ``commit``, ``release``, ``refund``, ``sweep``, ``replay``,
``ledger`` and ``coupons generate|import``; each takes ``--store URL``
(default: the ``PROMOKIT_STORE`` environment variable). Orders are settled
under the campaign version that priced them, read back from the store, so
``commit``, ``release``, ``refund`` and ``replay`` need no campaign files.
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import math
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs

from ..campaign_set import CampaignSet
from ..cart import Cart
from ..coupons import CouponBatch, generate_codes, is_well_formed, read_codes_csv, write_codes_csv
from ..engine import Engine
from ..errors import InputError, OrderError, Problem, StoreError, StoreURLError
from ..loading import parse_campaigns
from ..order import Order, Refund
from ..orders import ledger_csv, ledger_jsonl
from ..registry import Registry, open_store
from ..stores import Store
from ..tables import money_text, render, use_color
from ..times import aware, iso_text

__all__ = ["Shared", "UsageError", "add_store_commands"]


class UsageError(Exception):
    """The command line asks for something the command does not have (an unknown game
    action, a malformed ``--set``): printed as one line, exit code 2."""


@attrs.frozen(kw_only=True)
class Shared:
    """What the store and game commands borrow from :mod:`promokit.cli.main`."""

    registry: Callable[[argparse.Namespace], Registry]
    """The plugin registry the command line asks for (``--no-plugins``, ``--block``)."""
    load: Callable[[Sequence[str], Registry], CampaignSet]
    read_cart: Callable[[str], Cart]
    render: Callable[..., str]
    plugin_options: Callable[[argparse.ArgumentParser], None]


def add_store_commands(commands: Any, shared: Shared) -> None:
    """Add the store commands to the ``promokit`` parser's subcommands."""
    plugin_options = shared.plugin_options

    def command(name: str, help_text: str, run: Callable[[Shared, argparse.Namespace], int],
                description: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = commands.add_parser(name, help=help_text,
                                                              description=description)
        parser.add_argument("--store", metavar="URL", default=os.environ.get("PROMOKIT_STORE"),
                            help="the store: sqlite:///promokit.db, redis://host:6379/0, "
                                 "postgresql://user@host/db (default: $PROMOKIT_STORE)")
        plugin_options(parser)
        parser.set_defaults(command=functools.partial(run, shared))
        return parser

    checkout = command("checkout", "price a cart and reserve what it consumes", _checkout,
                       "Price a cart and reserve, all or nothing, every use, stock, budget "
                       "and code it consumes. The same order id never reserves twice.")
    checkout.add_argument("campaigns", nargs="+", metavar="CAMPAIGNS")
    checkout.add_argument("--cart", required=True, metavar="CART.json",
                          help="the cart as JSON; '-' reads standard input")
    checkout.add_argument("--order", required=True, metavar="ORDER_ID")
    checkout.add_argument("--ttl", type=_seconds, default=None, metavar="SECONDS",
                          help="how long the reservation lives unless committed (default 900)")
    checkout.add_argument("--json", action="store_true", help="print the order as JSON")

    for name, run, text in (
            ("commit", _commit, "the order is paid: make its reservation final and write "
                                "its redemptions to the ledger"),
            ("release", _release, "the order was cancelled before payment: give back what "
                                  "it holds")):
        parser = command(name, text.split(":")[0], run, text[0].upper() + text[1:] + ".")
        parser.add_argument("order", metavar="ORDER_ID")
        parser.add_argument("--json", action="store_true", help="print the order as JSON")

    refund = command("refund", "refund units of a committed order", _refund,
                     "Refund some or all units of a committed order; the refunded discount "
                     "goes back to the budgets.")
    refund.add_argument("order", metavar="ORDER_ID")
    refund.add_argument("--refund-id", required=True, metavar="ID",
                        help="your id of this refund (a repeat returns the first)")
    refund.add_argument("--units", metavar="LINE=N[,LINE=N]",
                        help="units per line id (default: everything not refunded yet)")
    refund.add_argument("--policy", choices=("proportional", "reevaluate"),
                        default="proportional")
    refund.add_argument("--json", action="store_true", help="print the refund as JSON")

    sweep = command("sweep", "expire lapsed reservations", _sweep,
                    "Expire reservations whose time to live has passed and give back what "
                    "they hold; with the campaign files, also close games' lapsed rows "
                    "(group windows, unpaid deposits). Run it on a timer (checkout also "
                    "sweeps when something ran out).")
    sweep.add_argument("campaigns", nargs="*", metavar="CAMPAIGNS",
                       help="the campaign files, for their games' lapsed rows")

    replay = command("replay", "price a stored order again and compare", _replay,
                     "Re-price a stored order from its recorded cart, counters and campaign "
                     "version, and show whether it matches what was recorded (exit 1 if not).")
    replay.add_argument("order", metavar="ORDER_ID")

    ledger = command("ledger", "list or export the redemption ledger", _ledger,
                     "List redemptions and refund reversals, optionally filtered; export as "
                     "CSV or JSON lines.")
    ledger.add_argument("--order", metavar="ORDER_ID")
    ledger.add_argument("--promotion", metavar="ID")
    ledger.add_argument("--since", metavar="TIME", help="ISO 8601, inclusive")
    ledger.add_argument("--until", metavar="TIME", help="ISO 8601, exclusive")
    ledger.add_argument("--format", choices=("table", "csv", "jsonl"), default="table")
    ledger.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout")

    coupons = commands.add_parser("coupons", help="generate or import coupon codes",
                                  description="Make or import the codes of a [[coupon]] "
                                              "batch.")
    actions = coupons.add_subparsers(title="actions", metavar="ACTION", required=True)
    generate = actions.add_parser("generate", help="generate codes, write CSV",
                                  description="Generate new codes for a batch (60 random bits "
                                              "and a check character each), write them as "
                                              "CSV and, with --store, register them.")
    generate.add_argument("campaigns", nargs="+", metavar="CAMPAIGNS")
    generate.add_argument("--batch", required=True, metavar="ID")
    generate.add_argument("--count", type=_count_argument, metavar="N",
                          help="how many (default: the batch's count)")
    generate.add_argument("--out", metavar="FILE.csv", help="write CSV here (default stdout)")
    generate.add_argument("--store", metavar="URL", default=os.environ.get("PROMOKIT_STORE"),
                          help="also register the codes in this store")
    plugin_options(generate)
    generate.set_defaults(command=functools.partial(_generate, shared))
    imported = actions.add_parser("import", help="register external codes from CSV",
                                  description="Register codes from a CSV file (a 'code' "
                                              "column, or one code per line), all or nothing.")
    imported.add_argument("campaigns", nargs="+", metavar="CAMPAIGNS")
    imported.add_argument("--batch", required=True, metavar="ID")
    imported.add_argument("--file", required=True, metavar="CODES.csv")
    imported.add_argument("--store", metavar="URL", default=os.environ.get("PROMOKIT_STORE"))
    plugin_options(imported)
    imported.set_defaults(command=functools.partial(_import, shared))


# -- commands ------------------------------------------------------------------------


def _checkout(shared: Shared, args: argparse.Namespace) -> int:
    registry = shared.registry(args)
    campaigns = shared.load(args.campaigns, registry)
    cart = shared.read_cart(args.cart)
    with OpenedStore(shared, args, registry) as store:
        order = Engine(campaigns, registry=registry, store=store).checkout(
            cart, args.order, ttl=args.ttl)
        _print_order(shared, order, args.json,
                     names={p.id: p.name for p in campaigns.promotions})
    return 0


def _commit(shared: Shared, args: argparse.Namespace) -> int:
    with OpenedStore(shared, args, create=False) as store:
        order = _engine_for(shared, args, store).commit(args.order)
        _print_order(shared, order, args.json)
    return 0


def _release(shared: Shared, args: argparse.Namespace) -> int:
    with OpenedStore(shared, args, create=False) as store:
        order = _engine_for(shared, args, store).release(args.order)
        _print_order(shared, order, args.json)
    return 0


def _refund(shared: Shared, args: argparse.Namespace) -> int:
    units = _units(args.units) if args.units else None
    with OpenedStore(shared, args, create=False) as store:
        engine = _engine_for(shared, args, store)
        refund = engine.refund(args.order, args.refund_id, units, policy=args.policy)
        if args.json:
            print(json.dumps(refund.to_json(), ensure_ascii=False, indent=2))
        else:
            print(_refund_text(args.order, refund, engine.campaigns.currency.code))
    return 0


def _sweep(shared: Shared, args: argparse.Namespace) -> int:
    registry = shared.registry(args)
    with OpenedStore(shared, args, registry, create=False) as store:
        campaigns = (shared.load(args.campaigns, registry) if args.campaigns
                     else parse_campaigns({"currency": "CNY"}, registry))
        engine = Engine(campaigns, registry=registry, store=store)
        expired: list[str] = []
        quarantined: list[tuple[str, str]] = []
        while True:
            report = engine.orders.sweep_report(500)
            expired.extend(report.expired)
            quarantined.extend(report.quarantined)
            if not report.expired and not report.quarantined:
                break
        print(f"expired {len(expired)} reservation(s)" +
              (f": {', '.join(expired[:20])}{' …' if len(expired) > 20 else ''}"
               if expired else ""))
        for order_id, detail in quarantined:
            print(f"quarantined {order_id}: {detail}", file=sys.stderr)
    return 0


def _replay(shared: Shared, args: argparse.Namespace) -> int:
    with OpenedStore(shared, args, create=False) as store:
        replay = _engine_for(shared, args, store).replay(args.order)
    order = replay.order
    priced = f", priced {iso_text(order.cart.now)}" if order.cart.now is not None else ""
    print(f"order {order.order_id} ({order.status}){priced} "
          f"under campaign version {order.campaign_version[:12]}…")
    if replay.matches:
        print(f"replayed: total {money_text(replay.result.currency, replay.result.total)}, "
              f"{len(replay.result.applied)} promotion(s): matches the record")
        return 0
    print("replayed: DIFFERS from the record:")
    for line in replay.differences:
        print(f"  {line}")
    return 1


def _ledger(shared: Shared, args: argparse.Namespace) -> int:
    since, until = _time(args.since, "--since"), _time(args.until, "--until")
    with OpenedStore(shared, args, create=False) as store:
        entries = store.ledger(order_id=args.order, promotion=args.promotion, since=since,
                               until=until)
    if args.format == "csv":
        text = ledger_csv(entries)
    elif args.format == "jsonl":
        text = ledger_jsonl(entries)
    else:
        rows = [[iso_text(aware(e.at)), e.order_id, e.kind, e.promotion, e.customer or "",
                 money_text(e.currency, e.amount),
                 ", ".join(f"{party} {money_text(e.currency, share)}"
                           for party, share in e.funding), str(e.units)]
                for e in entries]
        text = render(["time", "order", "kind", "promotion", "customer", "amount", "funding",
                       "units"], rows, right={5, 7},
                      color=not args.out and use_color()) + f"\n{_entries(len(entries))}\n"
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {_entries(len(entries))} to {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def _generate(shared: Shared, args: argparse.Namespace) -> int:
    registry = shared.registry(args)
    campaigns = shared.load(args.campaigns, registry)
    batch = _batch(campaigns, args.batch)
    if batch.external:
        raise InputError([Problem(path="--batch", message=f"batch {batch.id!r} is external: "
                                                          "import its codes instead")])
    count = args.count if args.count is not None else batch.count
    if count is None or count < 1:
        raise InputError([Problem(path="--count", message="give a positive --count (the batch "
                                                           "sets none)")], what="coupon batch")
    codes = generate_codes(count, batch.prefix)
    if args.store:
        with OpenedStore(shared, args, registry) as store:
            _register(store, batch.id, codes, batch.uses)
    text = write_codes_csv(batch, codes)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        where = f" and registered them in {args.store}" if args.store else ""
        print(f"wrote {count} code(s) of batch {batch.id} to {args.out}{where}")
    else:
        sys.stdout.write(text)
    return 0


def _import(shared: Shared, args: argparse.Namespace) -> int:
    registry = shared.registry(args)
    campaigns = shared.load(args.campaigns, registry)
    batch = _batch(campaigns, args.batch)
    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError([Problem(path="--file", message=f"cannot read {args.file}: "
                                                          f"{error}")],
                         what="codes file") from None
    rows = read_codes_csv(text)
    problems = [Problem(path=f"{args.file}:{number}", message="empty code")
                for number, code in rows if not code]
    if not batch.external:
        problems += [Problem(path=f"{args.file}:{number}",
                             message=f"{code!r} fails its check character (mark the batch "
                                     "external = true for codes made elsewhere)")
                     for number, code in rows if code and not is_well_formed(code)]
    if not rows:
        problems.append(Problem(path=args.file, message="no codes"))
    if problems:
        raise InputError(problems, what="codes file")
    with OpenedStore(shared, args, registry) as store:
        added = _register(store, batch.id, [code for _, code in rows], batch.uses)
    print(f"imported {added} code(s) into batch {batch.id} "
          f"({len(rows) - added} already there)")
    return 0


# -- helpers --------------------------------------------------------------------------


def _seconds(text: str) -> float:
    """``--ttl``: a positive, finite number of seconds (a usage error otherwise)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def _count_argument(text: str) -> int:
    """``--count``: a positive whole number, at most the codes a batch may have."""
    if not text.strip().isascii() or not text.strip().isdigit() or len(text.strip()) > 9:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return value


class OpenedStore:
    """``with OpenedStore(shared, args) as store``: open ``--store``, close it afterwards.
    ``create=False`` opens only a store that exists already (for the commands that
    read or settle orders, so that a mistyped URL is an error, not a new store)."""

    def __init__(self, shared: Shared, args: argparse.Namespace,
                 registry: Registry | None = None, *, create: bool = True) -> None:
        if not args.store:
            raise StoreURLError("no store given: pass --store URL or set PROMOKIT_STORE")
        self.url = args.store
        self.registry = registry or shared.registry(args)
        self.create = create

    def __enter__(self) -> Store:
        self.store = open_store(self.url, registry=self.registry, create=self.create)
        return self.store

    def __exit__(self, *exc: object) -> None:
        self.store.close()


def _engine_for(shared: Shared, args: argparse.Namespace, store: Store) -> Engine:
    """An engine under the campaign version that priced the order."""
    registry = shared.registry(args)
    row = store.order(args.order)
    if row is None:
        raise OrderError(f"no order {args.order!r} in the store at {store.url}",
                         order_id=args.order)
    version = json.loads(row.body)["campaign_version"]
    body = store.load_campaigns(version)
    if body is None:
        raise StoreError(f"the campaign version {version[:12]}… of order {args.order!r} is "
                         "not in the store")
    return Engine(parse_campaigns(json.loads(body), registry), registry=registry, store=store)


def _register(store: Store, batch: str, codes: list[str], uses: int) -> int:
    added = store.add_codes(batch, codes, uses)
    if added.conflicts:
        shown = ", ".join(added.conflicts[:5]) + (" …" if len(added.conflicts) > 5 else "")
        raise InputError([Problem(path="codes", message=f"{len(added.conflicts)} code(s) "
                                                         f"belong to another batch: {shown}; "
                                                         "nothing was registered")],
                         what="codes")
    return added.added


def _batch(campaigns: CampaignSet, batch_id: str) -> CouponBatch:
    batch = campaigns.coupon(batch_id)
    if batch is None:
        known = ", ".join(b.id for b in campaigns.coupons) or "none"
        raise InputError([Problem(path="--batch", message=f"no coupon batch {batch_id!r} "
                                                           f"(batches: {known})")],
                         what="coupon batch")
    return batch


def _entries(count: int) -> str:
    return f"{count} ledger entr{'y' if count == 1 else 'ies'}"


def _units(text: str) -> dict[str, int]:
    units: dict[str, int] = {}
    problems = []
    for part in text.split(","):
        line_id, _, count = part.partition("=")
        count = count.strip()
        if not line_id.strip() or not (count.isascii() and count.isdigit()) or len(count) > 15:
            problems.append(Problem(path="--units", message=f"{part!r} is not LINE=N"))
        else:
            units[line_id.strip()] = int(count)
    if problems:
        raise InputError(problems, what="refund")
    return units


def _time(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InputError([Problem(path=option, message=f"{text!r} is not an ISO 8601 "
                                                        "time")], what="time") from None
    if value.tzinfo is None:
        raise InputError([Problem(path=option, message=f"{text!r} needs an offset "
                                                        "(+08:00, Z)")], what="time")
    return value


def _print_order(shared: Shared, order: Order, as_json: bool,
                 names: dict[str, str] | None = None) -> None:
    if as_json:
        print(json.dumps(order.to_json(), ensure_ascii=False, indent=2))
        return
    line = f"order {order.order_id}: {order.status}"
    if order.repeated:
        line += " (already checked out: the first result)"
    if order.expires_at is not None and order.status == "reserved":
        line += f", expires {iso_text(order.expires_at)}"
    print(line)
    for dropped in order.dropped:
        print(f"  ran out since pricing: {dropped.promotion} ({dropped.reason})")
    if order.status == "reserved" and not order.repeated:
        print(shared.render(order.result, names=names, cart=order.cart, color=use_color()))
    else:
        print(f"  total {money_text(order.result.currency, order.result.total)}, "
              f"{len(order.uses)} promotion(s) held")


def _refund_text(order_id: str, refund: Refund, code: str) -> str:
    units = ", ".join(f"{line}×{count}" for line, count in refund.units)
    out = io.StringIO()
    out.write(f"refund {refund.refund_id} of order {order_id} ({refund.policy}): "
              f"{units}\n  pay back {money_text(code, refund.amount)}\n")
    if refund.clawback:
        out.write(f"  clawed back {money_text(code, refund.clawback)} (what the kept items "
                  "no longer earn)\n")
    for gift in refund.gifts_owed:
        out.write(f"  gift owed back: {gift.name} ×{gift.quantity}\n")
    for promotion, amount in refund.reversals:
        out.write(f"  reversed {promotion}: {money_text(code, amount)}\n")
    return out.getvalue().rstrip("\n")

