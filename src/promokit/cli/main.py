"""The ``promokit`` command (DESIGN §6).

``promokit evaluate``, ``validate``, ``rules``, ``plugins`` and ``demo`` here; the
store commands (``checkout``, ``commit``, ``release``, ``refund``, ``sweep``,
``replay``, ``ledger``, ``coupons``) in :mod:`promokit.cli.store` and the game
commands in :mod:`promokit.cli.game`; see docs/cli.md.
Exit codes: 0 success, 1 invalid input (a campaign file, a cart, a plugin, an
order operation that does not fit the order; the message on stderr says what
and where), 2 usage error (argparse's own, a bad store URL), 3 store
unavailable. These never end in a traceback.

``evaluate`` prints :func:`promokit.tables.render_result`, as the demo does.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import sys
import textwrap
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pluggy

from .. import __version__, demo
from .._plugins import BUILTIN_PLUGINS, distribution_of, make_plugin_manager
from ..campaign_set import CampaignSet
from ..cart import Cart
from ..engine import Engine
from ..errors import (
    CartError,
    ConfigError,
    InputError,
    OrderError,
    PluginError,
    Problem,
    PromokitError,
    StoreError,
    StoreURLError,
)
from ..loading import channel_warnings, load_campaigns, read_campaign_source
from ..registry import Registry, open_store
from ..rules_text import rules_text
from ..tables import count_of, render, render_result, use_color
from ..text import LANGUAGES
from .events import add_event_commands
from .game import add_game_commands
from .serve import add_serve_command
from .store import Shared, UsageError, add_store_commands

__all__ = ["EXIT_INVALID", "EXIT_OK", "EXIT_STORE", "EXIT_USAGE", "main"]

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_STORE = 3


_INDEXED = re.compile(r"\b(campaign|promotion|game)\[(\d+)\]")


class _Invalid(Exception):
    """Invalid input, as the lines to print on stderr (exit code 1)."""

    def __init__(self, *lines: str) -> None:
        self.lines = lines
        super().__init__("\n".join(lines))


# -- entry point ------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``promokit`` command with ``argv`` (``sys.argv[1:]`` if ``None``)
    and return its exit code."""
    parser = _parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
    for number, argument in enumerate(arguments, 1):
        if any("\ud800" <= c <= "\udfff" for c in argument):  # bytes that are not UTF-8
            _error(f"argument {number} ({argument!a}) is not valid UTF-8 text")
            return EXIT_USAGE
    try:
        args = parser.parse_args(arguments)
    except SystemExit as stop:  # --help, --version, or a usage error (code 2)
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    command: Callable[[argparse.Namespace], int] = args.command
    try:
        return command(args)
    except _Invalid as error:
        _error(*error.lines)
    except UsageError as error:
        _error(str(error))
        return EXIT_USAGE
    except ConfigError as error:
        _error(*_config_problems(error, []))
    except InputError as error:
        _error(*_input_problems(error))
    except PluginError as error:
        _error(f"plugin error: {error}")
    except OrderError as error:
        _error(str(error))
    except StoreURLError as error:
        _error(f"bad store URL: {error}")
        return EXIT_USAGE
    except StoreError as error:
        _error(f"store unavailable: {error}")
        return EXIT_STORE
    except PromokitError as error:
        _error(str(error))
    except BrokenPipeError:  # `promokit demo | head`: the reader has gone, not an error
        _silence_stdout()
        return EXIT_OK
    except Exception as error:  # a bug: say so in one line, the traceback only on request
        if os.environ.get("PROMOKIT_DEBUG"):
            raise
        _error(f"internal error ({type(error).__name__}: {error}); this is a bug in promokit "
               "or a plugin: please report it with the command, or set PROMOKIT_DEBUG=1 to "
               "see where it happened")
    return EXIT_INVALID


def _silence_stdout() -> None:
    """Point stdout at devnull so the interpreter's final flush does not complain."""
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):  # not a real file
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _error(*lines: str) -> None:
    for number, line in enumerate(lines):
        print(f"promokit: {line}" if number == 0 else line, file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="promokit",
        description="Price carts under promotion campaigns, check campaign files, "
                    "check out orders against a store, list plugins.",
        epilog="exit codes: 0 success, 1 invalid input, 2 usage error, 3 store unavailable",
    )
    parser.add_argument("--version", action="version", version=f"promokit {__version__}")
    _plugin_options(parser, default=False)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    evaluate = commands.add_parser(
        "evaluate", help="price a cart under campaign files",
        description="Price a cart (DESIGN §5 JSON) under one or more campaign files.")
    evaluate.add_argument("campaigns", nargs="+", metavar="CAMPAIGNS",
                          help="campaign files (TOML or JSON), merged into one set")
    evaluate.add_argument("--cart", required=True, metavar="CART.json",
                          help="the cart as JSON; '-' reads standard input")
    evaluate.add_argument("--json", action="store_true",
                          help="print the result as JSON instead of tables")
    evaluate.add_argument("--store", metavar="URL",
                          help="read limits, stock, budgets and coupon codes from this store "
                               "(default: an empty in-memory one)")
    _plugin_options(evaluate)
    evaluate.set_defaults(command=_evaluate)

    validate = commands.add_parser(
        "validate", help="check campaign files; every problem with its path",
        description="Check campaign files. Exit 0 if they are valid; otherwise print "
                    "every problem as FILE: PATH: MESSAGE and exit 1.")
    validate.add_argument("campaigns", nargs="+", metavar="CAMPAIGNS",
                          help="campaign files (TOML or JSON), checked as one set")
    _plugin_options(validate)
    validate.set_defaults(command=_validate)

    rules = commands.add_parser(
        "rules", help="the customer-facing rule text (活動規則) of campaign files",
        description="Print the customer-facing rule text (活動規則) generated from the "
                    "campaign files the engine runs: periods, offers, scope, conditions, "
                    "stacking and limits. Budgets, funding and code values are not shown.")
    rules.add_argument("campaigns", nargs="+", metavar="CAMPAIGNS",
                       help="campaign files (TOML or JSON), merged into one set")
    rules.add_argument("--lang", choices=LANGUAGES, default="zh-CN",
                       help="the language of the text (default: zh-CN)")
    _plugin_options(rules)
    rules.set_defaults(command=_rules)

    plugins = commands.add_parser(
        "plugins", help="installed plugins and what each registers",
        description="List the built-in and installed plugins and the kinds, conditions "
                    "and guards each registers.")
    _plugin_options(plugins)
    plugins.set_defaults(command=_plugins)

    demo = commands.add_parser(
        "demo", help="a scripted 雙11 story with readable tables",
        description="Price a few 雙11 carts step by step, then check out, pay, refund and "
                    "replay orders on the embedded SQLite store, with the built-in plugins "
                    "only.")
    demo.add_argument("--store", metavar="URL",
                      help="an empty store to run on (default: a new SQLite file in a "
                           "temporary directory)")
    demo.set_defaults(command=_demo)
    shared = Shared(registry=lambda args: Registry.from_plugin_manager(_plugin_manager(args)),
                    load=_load, read_cart=_read_cart, render=render_result,
                    plugin_options=_plugin_options)
    add_store_commands(commands, shared)
    add_game_commands(commands, shared)
    add_event_commands(commands, shared)
    add_serve_command(commands)
    return parser


def _plugin_options(parser: argparse.ArgumentParser, *, default: bool | None = None) -> None:
    """``--no-plugins`` and ``--block``, accepted before or after the command."""
    prefix = "" if default is not None else "sub_"
    parser.add_argument("--no-plugins", action="store_true", dest=f"{prefix}no_plugins",
                        default=False if default is not None else argparse.SUPPRESS,
                        help="do not load plugins from the 'promokit' entry point group")
    parser.add_argument("--block", action="append", metavar="NAME", dest=f"{prefix}block",
                        default=[] if default is not None else argparse.SUPPRESS,
                        help="do not register this plugin (an entry point name or a built-in "
                             "module such as promokit.plugins.kinds.percent_off); repeatable")


def _plugin_manager(args: argparse.Namespace) -> pluggy.PluginManager:
    no_plugins = args.no_plugins or getattr(args, "sub_no_plugins", False)
    blocked = [*args.block, *getattr(args, "sub_block", [])]
    return make_plugin_manager(load_entry_points=not no_plugins, blocked=blocked)


# -- commands ---------------------------------------------------------------------


def _evaluate(args: argparse.Namespace) -> int:
    registry = Registry.from_plugin_manager(_plugin_manager(args))
    campaigns = _load(args.campaigns, registry)
    cart = _read_cart(args.cart)
    if args.store:
        with contextlib.closing(open_store(args.store, registry=registry,
                                           create=False)) as store:
            result = Engine(campaigns, registry=registry, store=store).evaluate(cart)
    else:
        result = Engine(campaigns, registry=registry).evaluate(cart)
    if args.json:
        print(result.to_json_text())
    else:
        names = {p.id: p.name for p in campaigns.promotions}
        print(render_result(result, names=names, cart=cart, timezone=campaigns.timezone,
                            color=use_color()))
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    registry = Registry.from_plugin_manager(_plugin_manager(args))
    campaigns = _load(args.campaigns, registry)
    promotions = [p for p in campaigns.promotions if p.kind != "game_price"]
    games = f", {count_of(len(campaigns.games), 'game')}" if campaigns.games else ""
    print(f"ok: {count_of(len(campaigns.campaigns), 'campaign')}, "
          f"{count_of(len(promotions), 'promotion')}{games} in {', '.join(args.campaigns)}")
    for warning in channel_warnings(campaigns, registry):
        print(f"warning: {warning}")
    return EXIT_OK


def _rules(args: argparse.Namespace) -> int:
    registry = Registry.from_plugin_manager(_plugin_manager(args))
    campaigns = _load(args.campaigns, registry)
    sys.stdout.write(rules_text(campaigns, args.lang))
    return EXIT_OK


def _plugins(args: argparse.Namespace) -> int:
    """Every registered plugin, where it comes from, and everything it declares:
    kinds, conditions, games, store schemes, guards, channel adapters and profiles,
    sinks."""
    pm = _plugin_manager(args)
    registry = Registry.from_plugin_manager(pm)
    declared: dict[str, dict[str, list[str]]] = {}
    for (what, name), plugin_name in registry.origins.items():
        declared.setdefault(plugin_name, {}).setdefault(what, []).append(name)
    counts = {"built-in": 0, "installed": 0, "blocked": 0}
    sources = {}
    # registration order, the blocked ones last
    for plugin_name, plugin in sorted(pm.list_name_plugin(), key=lambda item: item[1] is None):
        if plugin is None:
            sources[plugin_name] = "blocked"
            counts["blocked"] += 1
        elif plugin_name in BUILTIN_PLUGINS:
            sources[plugin_name] = f"built-in (promokit {__version__})"
            counts["built-in"] += 1
        else:
            sources[plugin_name] = distribution_of(pm, plugin_name) or "registered in code"
            counts["installed"] += 1
    # wrap the last column so that the table fits in 100 columns
    width = max(24, 96 - max(map(len, sources), default=0) - max(map(len, sources.values()),
                                                                  default=0))
    rows = []
    for plugin_name, source in sources.items():
        parts = []
        for what, label, suffix in _DECLARED:
            names = sorted(declared.get(plugin_name, {}).get(what, []))
            if names:
                listed = ", ".join(f"{name}{suffix}" for name in names)
                parts.extend(textwrap.wrap(f"{label}: {listed}", width=width,
                                           subsequent_indent="  ", break_on_hyphens=False))
        rows.append([plugin_name, source, "\n".join(parts) or "-"])
    print(render(["plugin", "from", "registers"], rows, color=use_color()))
    summary = f"{counts['built-in']} built-in, {counts['installed']} installed"
    if counts["blocked"]:
        summary += f", {counts['blocked']} blocked"
    totals = ", ".join(count_of(len(found), noun) for found, noun in (
        (registry.kinds, "kind"), (registry.conditions, "condition"), (registry.games, "game"),
        (registry.stores, "store scheme"), (registry.guards, "guard"),
        (registry.adapters, "adapter"), (registry.profiles, "channel profile"),
        (registry.sinks, "sink")))
    line = f"{summary}; {totals}"
    print("\n" + (line if len(line) <= 100 else f"{summary};\n{totals}"))
    return EXIT_OK


#: What ``promokit plugins`` lists of each plugin: (registry's word, label, suffix).
_DECLARED = (("kind", "kinds", ""), ("condition", "conditions", ""), ("game", "games", ""),
             ("store", "stores", "://"), ("guard", "guards", ""),
             ("adapter", "adapters", ""), ("profile", "channel profiles", ""),
             ("sink", "sinks", ""))


def _demo(args: argparse.Namespace) -> int:
    demo.run(sys.stdout, args.store, color=use_color())
    return EXIT_OK


# -- input --------------------------------------------------------------------------


def _load(paths: Sequence[str], registry: Registry) -> CampaignSet:
    """Load campaign files; problems name the file they are in."""
    sources: list[tuple[str, Mapping[str, Any]]] = []
    for path in paths:
        try:
            sources.append((path, read_campaign_source(path)))
        except ConfigError as error:
            raise _Invalid(*_config_problems(error, [(path, {})])) from None
    try:
        return load_campaigns(list(paths), registry)
    except ConfigError as error:
        raise _Invalid(*_config_problems(error, sources)) from None


def _config_problems(error: ConfigError,
                     sources: Sequence[tuple[str, Mapping[str, Any]]]) -> list[str]:
    """A head line, then one ``FILE: PATH: MESSAGE`` line per problem.

    With several files merged, ``promotion[5]`` of the merged set is shown as
    the ``promotion[1]`` of the file it came from.
    """
    names = [name for name, _ in sources] or ([error.source] if error.source else [])
    everywhere = ", ".join(names) or "campaign files"

    def locate(key: str, index: int) -> tuple[str, int]:
        if len(sources) > 1:
            for name, data in sources:
                items = data.get(key)
                count = len(items) if isinstance(items, list) else 0
                if index < count:
                    return name, index
                index -= count
        return everywhere, index

    lines = []
    for problem in error.problems:
        where = everywhere
        path, text = problem.path, problem.message
        match = _INDEXED.match(path)
        if match:
            where, local = locate(match[1], int(match[2]))
            path = f"{match[1]}[{local}]{path[match.end():]}"

        def local_ref(found: re.Match[str], where: str = where) -> str:
            name, local = locate(found[1], int(found[2]))
            ref = f"{found[1]}[{local}]"
            return ref if name == where else f"{ref} of {name}"

        text = _INDEXED.sub(local_ref, text)
        if not path and where in text:  # "cannot read x.toml: …" names the file already
            lines.append(text)
        else:
            lines.append(f"{where}: {path}: {text}" if path else f"{where}: {text}")
    if len(lines) == 1 and not error.problems[0].path:  # unreadable, not TOML: one line
        return lines
    head = (f"invalid campaign file{'s' if len(names) > 1 else ''} {everywhere} "
            f"({count_of(len(lines), 'problem')})")
    return [head, *lines]


def _input_problems(error: InputError) -> list[str]:
    """``invalid refund (2 problems)`` and a line per problem, by path."""
    where = error.source or error.what
    head = f"invalid {error.what}" + (f" {error.source}" if error.source else "")
    return [f"{head} ({count_of(len(error.problems), 'problem')})",
            *(f"{where}: {problem}" for problem in error.problems)]


def _problem_lines(head: str, where: str, problems: Sequence[Problem]) -> list[str]:
    return [f"{head} {where} ({count_of(len(problems), 'problem')})",
            *(f"{where}: {problem}" for problem in problems)]


def _read_cart(source: str) -> Cart:
    """The cart in file ``source`` (``-``: standard input), checked whole."""
    where = "<stdin>" if source == "-" else source
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as error:
        raise _Invalid(f"cannot read cart {source}: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise _Invalid(f"cannot read cart {where}: not UTF-8 text ({error.reason})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise _Invalid(f"invalid cart {where}: not valid JSON: {error.msg} "
                       f"(line {error.lineno}, column {error.colno})") from None
    except (RecursionError, ValueError):
        data = text  # nested too deeply, a number of too many digits: Cart.from_json says so
    try:
        return Cart.from_json(data)
    except CartError as error:
        raise _Invalid(*_problem_lines("invalid cart", where, error.problems)) from None
