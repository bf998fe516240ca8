"""The RabbitMQ sink, against the real server (PROMOKIT_AMQP_URL, default the local
one, guest/guest): events published with publisher confirms, in order."""

from __future__ import annotations

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

AMQP_URL = os.environ.get("PROMOKIT_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")

pytestmark = pytest.mark.amqp


@pytest.fixture
def queue() -> Iterator[tuple[str, Any]]:
    """A fresh exchange name and a channel with a queue bound to all its events."""
    _unreachable("RabbitMQ", AMQP_URL, "pika")
    import pika
    exchange = f"pk.{uuid.uuid4().hex[:10]}"
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    channel = connection.channel()
    channel.exchange_declare(exchange, exchange_type="topic", durable=True)
    name = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(name, exchange, routing_key="#")
    yield exchange, (channel, name)
    channel.exchange_delete(exchange)
    connection.close()


def event(n: int) -> OutboxEvent:
    return OutboxEvent(id=event_id(f"SO-{n}", 1, 0), type="order.reserved",
                       time="2026-11-11T10:00:00+08:00", subject=f"SO-{n}",
                       data={"order_id": f"SO-{n}", "total": "10.00"})


def test_the_dispatcher_publishes_every_event_confirmed_in_order(
        queue: tuple[str, Any]) -> None:
    exchange, (channel, name) = queue
    store = open_store("memory://")
    for n in range(5):
        store.apply(Change(order_id=f"SO-{n}", revision=0, status="reserved", body="{}",
                           journal=(JournalEntry(OUTBOX, event(n).stored()),)))
    sink = open_sink(f"{AMQP_URL}?exchange={exchange}&heartbeat=30", {})
    try:
        reports = Dispatcher(store, {"bus": sink}).drain()
        assert sum(r.delivered for r in reports) == 5 and not any(r.error for r in reports)
    finally:
        sink.close()
    got = []
    while True:
        method, properties, body = channel.basic_get(name, auto_ack=True)
        if method is None:
            break
        got.append((method.routing_key, properties.message_id,
                    properties.headers["idempotency-key"], json.loads(body)["id"]))
    assert got == [("order.reserved", event(n).id, event(n).id, event(n).id)
                   for n in range(5)]


def test_an_unreachable_broker_is_a_connection_error() -> None:
    _unreachable("RabbitMQ", AMQP_URL, "pika")
    with pytest.raises(ConnectionError, match="cannot reach RabbitMQ"):
        open_sink("amqp://guest:guest@127.0.0.1:1/%2F?connection_attempts=1", {})
