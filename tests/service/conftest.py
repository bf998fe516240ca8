"""A promokit service on loopback for the tests: uvicorn in a thread, on a free port,
over a SQLite store in the test's directory; httpx clients with keys of each scope."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("litestar")
pytest.importorskip("uvicorn")

import httpx

from promokit.registry import open_store
from promokit.service import ServiceConfig, hash_key
from promokit.service.app import create_app
from promokit.service.run import running
from promokit.stores import Store

CAMPAIGNS = '''currency = "CNY"
timezone = "Asia/Shanghai"

[[campaign]]
id = "always"
name = "Always on"
budget = "1000.00"
funding = { platform = "0.7", merchant = "0.3" }

[[promotion]]
id = "ten-off"
name = "全場9折"
campaign = "always"
kind = "percent_off"
percent = "10"
limits = { per_customer = 50 }

[[promotion]]
id = "tea-30"
name = "滿199減30券"
kind = "tiered_threshold"
tiers = [ { spend = "199", off = "30" } ]
coupon = "tea"
funding = { merchant = "1" }

[[coupon]]
id = "tea"
promotion = "tea-30"
count = 3
uses = 1
prefix = "TEA"

[[game]]
id = "koi"
kind = "lottery"
name = "分享抽錦鯉"
free_draws_per_day = 3
prizes = [
  { id = "c50", name = "50元券", kind = "coupon", value = "50.00", weight = 1, stock = 10 },
  { id = "thanks", name = "謝謝參與", kind = "none", weight = 9, fallback = true },
]
'''

KEYS = {"price": "pk-price-0123456789abcdef", "checkout": "pk-checkout-0123456789abcdef",
        "admin": "pk-admin-0123456789abcdef"}


def keys_file(path: Path) -> Path:
    path.write_text("".join(f'[[key]]\nid = "{scope}-key"\nsha256 = "{hash_key(key)}"\n'
                            f'scopes = ["{scope}"]\n\n' for scope, key in KEYS.items()),
                    encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Service:
    """A running service: its URL, its files and a client per scope."""

    def __init__(self, root: Path, store_url: str | None = None) -> None:
        self.root = root
        self.campaigns = root / "campaigns.toml"
        self.campaigns.write_text(CAMPAIGNS, encoding="utf-8")
        self.keys = keys_file(root / "keys.toml")
        self.store_url = store_url or f"sqlite:///{root / 'store.db'}"
        self.config = ServiceConfig(campaigns=[str(self.campaigns)], store=self.store_url,
                                    keys=str(self.keys), watch=True,
                                    secret="0123456789abcdef0123")
        self.app = create_app(self.config)
        self._stack = contextlib.ExitStack()
        self.url = ""

    def start(self) -> None:
        self.url = self._stack.enter_context(running(self.app))

    def stop(self) -> None:
        self._stack.close()

    def client(self, scope: str | None = None, key: str | None = None) -> httpx.Client:
        headers = {}
        if scope is not None or key is not None:
            headers["Authorization"] = f"Bearer {key if key is not None else KEYS[str(scope)]}"
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def store(self) -> Store:
        return open_store(self.store_url, create=False)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    running = Service(tmp_path_factory.mktemp("service"))
    running.start()
    yield running
    running.stop()
