"""The NATS JetStream sink, against the real server (PROMOKIT_NATS_URL, default the
local one): events published with acknowledgement, in order, deduplicated by id."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import _unreachable

from promokit import open_store
from promokit.delivery import Dispatcher
from promokit.events import OUTBOX, OutboxEvent, event_id
from promokit.registry import open_sink
from promokit.stores import Change, JournalEntry

NATS_URL = os.environ.get("PROMOKIT_NATS_URL", "nats://127.0.0.1:4222")

pytestmark = pytest.mark.nats


@pytest.fixture
def stream() -> Iterator[tuple[str, str]]:
    """A fresh JetStream stream and subject prefix, deleted afterwards."""
    _unreachable("NATS", NATS_URL, "nats")
    name = f"PK{uuid.uuid4().hex[:10].upper()}"
    subject = f"pk.{name.lower()}"
    yield name, subject
    asyncio.run(_delete(name))


async def _delete(name: str) -> None:
    import nats
    from nats.js.errors import NotFoundError
    nc = await nats.connect(NATS_URL)
    try:
        await nc.jetstream().delete_stream(name)
    except NotFoundError:
        pass  # the test never created it
    finally:
        await nc.close()


async def _read(name: str, subject: str, count: int) -> list[Any]:
    import nats
    nc = await nats.connect(NATS_URL)
    try:
        js = nc.jetstream()
        info = await js.stream_info(name)
        sub = await js.pull_subscribe(f"{subject}.>", durable=None, stream=name)
        messages = await sub.fetch(count, timeout=5) if info.state.messages else []
        return [(m.subject, m.headers.get("Nats-Msg-Id") if m.headers else None,
                 json.loads(m.data), info.state.messages) for m in messages]
    finally:
        await nc.close()


def event(n: int) -> OutboxEvent:
    return OutboxEvent(id=event_id(f"SO-{n}", 1, 0), type="order.reserved",
                       time="2026-11-11T10:00:00+08:00", subject=f"SO-{n}",
                       data={"order_id": f"SO-{n}", "total": "10.00"})


def test_the_dispatcher_publishes_every_event_in_order(stream: tuple[str, str]) -> None:
    name, subject = stream
    store = open_store("memory://")
    for n in range(5):
        store.apply(Change(order_id=f"SO-{n}", revision=0, status="reserved", body="{}",
                           journal=(JournalEntry(OUTBOX, event(n).stored()),)))
    sink = open_sink(f"{NATS_URL}?subject={subject}&stream={name}", {"timeout": "5"})
    try:
        reports = Dispatcher(store, {"bus": sink}).drain()
        assert sum(r.delivered for r in reports) == 5 and not any(r.error for r in reports)
        sink.deliver(event(0))  # a redelivery: JetStream drops it by Nats-Msg-Id
    finally:
        sink.close()
    got = asyncio.run(_read(name, subject, 10))
    assert [(s, i, body["id"]) for s, i, body, _ in got] == [
        (f"{subject}.order.reserved", event(n).id, event(n).id) for n in range(5)]
    assert got[0][2]["data"]["total"] == "10.00" and got[0][3] == 5


def test_a_bad_query_and_an_unreachable_server_are_errors(stream: tuple[str, str]) -> None:
    with pytest.raises(ValueError, match="does not know topic"):
        open_sink(f"{NATS_URL}?topic=x", {})
    with pytest.raises(ConnectionError, match="cannot reach NATS"):
        open_sink("nats://127.0.0.1:1", {"timeout": "0.5"})
