"""``promokit serve``: the HTTP service (docs/service.md), from the optional
``service`` extra. Without it installed, the command says how to install it."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Any

from ..service.holder import ServiceConfig
from .store import UsageError

__all__ = ["add_serve_command"]

MISSING = ("promokit serve needs the service extra ({name} is not installed): "
           "pip install 'promokit[service]'")


def add_serve_command(commands: Any) -> None:
    """Add ``promokit serve`` to the ``promokit`` parser's subcommands."""
    serve = commands.add_parser(
        "serve", help="serve pricing, checkout, games and coupons over HTTP",
        description="Serve the campaign files over HTTP (JSON, OpenAPI at /schema/openapi.json) "
                    "until interrupted. SIGHUP, or a change to a campaign file or the keys "
                    "file, reloads them without dropping requests. Needs "
                    "pip install 'promokit[service]'.")
    serve.add_argument("campaigns", nargs="+", metavar="CAMPAIGNS")
    serve.add_argument("--store", metavar="URL", default=os.environ.get("PROMOKIT_STORE"),
                       help="the store (default: $PROMOKIT_STORE)")
    serve.add_argument("--keys", metavar="FILE", default=os.environ.get("PROMOKIT_API_KEYS"),
                       help="the API keys file: SHA-256 digests and scopes "
                            "(default: $PROMOKIT_API_KEYS)")
    serve.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1")
    serve.add_argument("--port", type=int, default=8000, help="default: 8000")
    serve.add_argument("--workers", type=int, default=1, help="processes (default: 1)")
    serve.add_argument("--no-watch", action="store_true",
                       help="reload on SIGHUP only, not when a file changes")
    serve.add_argument("--no-plugins", action="store_true", dest="sub_no_plugins",
                       default=argparse.SUPPRESS,
                       help="do not load plugins from the 'promokit' entry point group")
    serve.set_defaults(command=_serve)


def _serve(args: argparse.Namespace) -> int:
    if not args.store:
        raise UsageError("no store given: pass --store URL or set PROMOKIT_STORE")
    if not args.keys:
        raise UsageError("no keys file given: pass --keys FILE or set PROMOKIT_API_KEYS "
                         "(docs/service.md says how to write one)")
    if args.workers < 1 or not 0 < args.port < 65536:
        raise UsageError("--workers must be at least 1 and --port from 1 to 65535")
    try:  # imported only now: Litestar and uvicorn are the service extra
        run = importlib.import_module("promokit.service.run")
    except ImportError as error:
        print(f"promokit: {MISSING.format(name=error.name or 'a dependency')}",
              file=sys.stderr)
        return 1
    no_plugins = args.no_plugins or getattr(args, "sub_no_plugins", False)
    config = ServiceConfig(campaigns=args.campaigns, store=args.store, keys=args.keys,
                           watch=not args.no_watch, load_entry_points=not no_plugins,
                           secret=os.environ.get("PROMOKIT_SECRET"))
    run.serve(config, host=args.host, port=args.port, workers=args.workers)
    return 0
