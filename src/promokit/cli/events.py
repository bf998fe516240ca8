"""``promokit dispatch`` and ``promokit events list|redeliver|trim``: the outbox, from
the command line."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import threading
from collections.abc import Mapping
from typing import Any

from ..delivery import Dispatcher, outbox_events, trim_outbox
from ..errors import DeliveryError
from ..registry import Registry, open_sink
from ..sinks import Sink
from .store import OpenedStore, Shared, UsageError

__all__ = ["add_event_commands", "sink_settings"]


def sink_settings(name: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """A sink's settings from ``PROMOKIT_SINK_<NAME>_<SETTING>`` variables (the name
    upper-cased, ``-`` as ``_``): ``PROMOKIT_SINK_ERP_SECRET`` → ``{"secret": …}``."""
    environ = os.environ if environ is None else environ
    prefix = f"PROMOKIT_SINK_{name.upper().replace('-', '_')}_"
    return {key[len(prefix):].lower(): value for key, value in environ.items()
            if key.startswith(prefix) and len(key) > len(prefix)}


def _sinks(values: list[str], registry: Registry) -> dict[str, Sink]:
    sinks: dict[str, Sink] = {}
    for value in values:
        name, equals, url = value.partition("=")
        if not equals or not name or not url:
            raise UsageError(f"--sink {value!r}: expected NAME=URL "
                             "(erp=https://erp.example/hooks)")
        if name in sinks:
            raise UsageError(f"--sink {name!r} is given twice")
        try:
            sinks[name] = open_sink(url, sink_settings(name), registry=registry)
        except ValueError as error:
            raise UsageError(f"--sink {name}: {error}") from None
        except OSError as error:  # a broker that cannot be reached
            raise DeliveryError(f"sink {name}: {error}") from error
    return sinks


def add_event_commands(commands: Any, shared: Shared) -> None:
    """Add ``dispatch`` and ``events`` to the ``promokit`` parser's subcommands."""

    def store_option(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--store", metavar="URL", default=os.environ.get("PROMOKIT_STORE"),
                            help="the store (default: $PROMOKIT_STORE)")
        shared.plugin_options(parser)

    dispatch = commands.add_parser(
        "dispatch", help="deliver the store's outbox events to sinks",
        description="Deliver every outbox event, at least once and in order, to each "
                    "sink; a sink's settings come from PROMOKIT_SINK_<NAME>_<SETTING> "
                    "(a webhook's secret: PROMOKIT_SINK_<NAME>_SECRET). Runs until "
                    "interrupted, or with --once until nothing is left.")
    store_option(dispatch)
    dispatch.add_argument("--sink", action="append", default=[], required=True,
                          metavar="NAME=URL", help="a sink (repeatable): its name keeps "
                          "its place in the outbox, its URL picks the backend")
    dispatch.add_argument("--once", action="store_true",
                          help="deliver what is there, then stop")
    dispatch.add_argument("--batch", type=int, default=100, help="events per round")
    dispatch.add_argument("--interval", type=float, default=1.0,
                          help="seconds between rounds when idle")
    dispatch.add_argument("--trim", action="store_true",
                          help="after each round, delete the events every sink given "
                               "was delivered (only when these are all the sinks)")
    dispatch.set_defaults(command=lambda args: _dispatch(shared, args))

    events = commands.add_parser("events", help="read the outbox and its dead letters",
                                 description="Read the outbox; list and redeliver a "
                                             "sink's dead letters; trim the outbox.")
    actions = events.add_subparsers(title="actions", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="outbox events (or dead letters) as JSON lines")
    store_option(listing)
    listing.add_argument("--after", type=int, default=0, help="events after this sequence")
    listing.add_argument("--limit", type=int, default=None)
    listing.add_argument("--dead", action="store_true", help="a sink's dead letters")
    listing.add_argument("--sink", metavar="NAME", help="the sink (with --dead)")
    listing.set_defaults(command=lambda args: _list(shared, args))
    again = actions.add_parser("redeliver", help="send a sink's dead letters again")
    store_option(again)
    again.add_argument("--sink", required=True, metavar="NAME=URL")
    again.add_argument("--id", action="append", dest="ids", metavar="EVENT_ID",
                       help="only this event (repeatable); all not yet redelivered if none")
    again.set_defaults(command=lambda args: _redeliver(shared, args))
    trim = actions.add_parser(
        "trim", help="delete the outbox events every sink was given",
        description="Delete the outbox events with sequence at or below the lowest "
                    "cursor of the sinks named: name every sink that reads the outbox. "
                    "Dead letters are kept.")
    store_option(trim)
    trim.add_argument("--sink", action="append", default=[], required=True,
                      metavar="NAME", help="a sink that reads the outbox (repeatable; "
                      "NAME=URL is taken too, the URL is not used)")
    trim.set_defaults(command=lambda args: _trim(shared, args))


def _dispatch(shared: Shared, args: argparse.Namespace) -> int:
    if args.batch < 1:
        raise UsageError("--batch must be at least 1")
    registry = shared.registry(args)
    sinks = _sinks(args.sink, registry)
    try:
        with OpenedStore(shared, args, registry) as store:
            dispatcher = Dispatcher(store, sinks, batch=args.batch, trim=args.trim)
            if args.once:
                reports = dispatcher.drain()
                failed = [r for r in reports if r.error]
            else:
                stop = threading.Event()
                signal.signal(signal.SIGTERM, lambda *_: stop.set())
                with contextlib.suppress(KeyboardInterrupt):
                    dispatcher.run(interval=args.interval, stop=stop)
                reports, failed = [], []
    finally:
        for sink in sinks.values():
            sink.close()
    totals: dict[str, list[int]] = {}
    for report in reports:
        total = totals.setdefault(report.sink, [0, 0, 0])
        total[0] += report.delivered
        total[1] += report.dead
        total[2] = report.cursor
    for name, (delivered, dead, cursor) in totals.items():
        print(f"{name}: delivered {delivered}, dead {dead}, at {cursor}")
    for report in failed:
        print(f"promokit: sink {report.sink} failed: {report.error}", flush=True)
    return 1 if failed else 0


def _list(shared: Shared, args: argparse.Namespace) -> int:
    with OpenedStore(shared, args, create=False) as store:
        if args.dead:
            if not args.sink:
                raise UsageError("--dead needs --sink NAME")
            for letter in Dispatcher(store, {}).dead_letters(args.sink.partition("=")[0]):
                print(json.dumps(letter.to_json(), ensure_ascii=False))
            return 0
        for event in outbox_events(store, after=args.after, limit=args.limit):
            print(event.dumps())
    return 0


def _redeliver(shared: Shared, args: argparse.Namespace) -> int:
    registry = shared.registry(args)
    sinks = _sinks([args.sink], registry)
    name = next(iter(sinks))
    try:
        with OpenedStore(shared, args, registry, create=False) as store:
            results = Dispatcher(store, sinks).redeliver(name, ids=args.ids)
    finally:
        sinks[name].close()
    failed = 0
    for letter, error in results:
        if error is None:
            print(f"redelivered {letter.event.id} ({letter.event.type})")
        else:
            failed += 1
            print(f"still dead {letter.event.id} ({letter.event.type}): {error}")
    print(f"{len(results) - failed} redelivered, {failed} still dead")
    return 1 if failed else 0


def _trim(shared: Shared, args: argparse.Namespace) -> int:
    names = [value.partition("=")[0] for value in args.sink]
    for name in names:
        if not name or any(c in name for c in ": \t\n"):
            raise UsageError(f"--sink {name!r}: a sink name, without ':' or spaces")
    with OpenedStore(shared, args, create=False) as store:
        report = trim_outbox(store, names)
    for name, at in report.cursors.items():
        print(f"{name}: at {at}")
    print(f"trimmed {report.deleted} events through {report.through}")
    return 0
