"""Which promokit modules one ``evaluate`` and one ``checkout`` run code in.

    python benchmarks/walk.py [--json PATH]

Prices the cart of docs/architecture.md's walk under ``examples/d11.toml`` on a
memory store, once to warm up, then once more with a profile hook that notes
each promokit module the first time one of its functions is called, and
prints the modules in that order, kernel and plugin counted apart. A count of
modules, not a timing: it is the same on every machine.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from promokit import Engine, MemoryStore

ROOT = Path(__file__).resolve().parent.parent

CART = {"currency": "CNY", "shipping": "8.00", "channel": "app",
        "customer": {"id": "c1", "tier": "gold"}, "now": "2026-11-11T00:30:00+08:00",
        "lines": [{"id": "l1", "sku": "SHOE-1", "quantity": 1, "unit_price": "299.00",
                   "category": "apparel/shoes", "brand": "acme", "shop": "s1"},
                  {"id": "l2", "sku": "LAMP-1", "quantity": 2, "unit_price": "129.00",
                   "category": "home/lighting", "shop": "s2"}]}


def modules_run(call: Callable[[], object]) -> list[str]:
    """The promokit modules whose functions ``call`` enters, in first-entry order."""
    seen: dict[str, None] = {}

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            name = frame.f_globals.get("__name__", "")
            if name.startswith("promokit"):
                seen.setdefault(name, None)

    sys.setprofile(profile)
    try:
        call()
    finally:
        sys.setprofile(None)
    return list(seen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="PATH", help="also write the lists as JSON")
    args = parser.parse_args()
    engine = Engine.from_files([ROOT / "examples" / "d11.toml"], store=MemoryStore(),
                               load_entry_points=False)
    engine.evaluate(CART)
    walks = {"evaluate": modules_run(lambda: engine.evaluate(CART)),
             "checkout": modules_run(lambda: engine.checkout(CART, "SO-WALK-1"))}
    for call, modules in walks.items():
        kernel = [m for m in modules if not m.startswith("promokit.plugins")]
        print(f"{call}: {len(kernel)} kernel modules, {len(modules) - len(kernel)} plugin modules")
        for module in modules:
            print(f"  {module}")
    if args.json:
        Path(args.json).write_text(json.dumps(walks, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
