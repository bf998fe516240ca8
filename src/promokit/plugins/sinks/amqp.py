"""The RabbitMQ sink: each outbox event published to a topic exchange with publisher
confirms, delivered once the broker confirmed it.

Adds the sink backend ``amqp`` for ``amqp://`` and ``amqps://`` URLs, from the
``amqp`` extra (``pip install 'promokit[amqp]'``, pika). The URL is pika's (user,
password, host, port, virtual host, its options), plus ``exchange`` (default
``promokit.events``): a durable topic exchange, declared if missing. Each event
is published with the routing key of its type (``order.committed``), as a
persistent JSON message whose ``message_id`` (and ``idempotency-key`` header) is
the event's id. A publish counts only once the broker confirmed it; a nack, a
lost connection or a broker that cannot be reached stops the dispatcher's round
(the event is published again later), never a dead letter. Binding queues to the
exchange is the consumers' business: an event no queue is bound for is
confirmed and dropped by RabbitMQ, as a topic exchange does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from promokit import hookimpl
from promokit.events import OutboxEvent
from promokit.sinks import SinkBackend

__all__ = ["AmqpSink"]


class AmqpSink:
    """Publishes events to a RabbitMQ topic exchange; see the module docs."""

    def __init__(self, url: str, *, exchange: str = "promokit.events") -> None:
        try:
            import pika  # type: ignore[import-untyped]  # pika ships no type hints
        except ImportError as error:
            raise ValueError("the amqp sink needs pika: pip install 'promokit[amqp]'"
                             ) from error
        self._pika = pika
        self.url = url
        self.exchange = exchange
        self._connection: Any = None  # pika's, untyped
        self._channel: Any = None
        self._connect()

    def _connect(self) -> None:
        pika = self._pika
        try:
            self._connection = pika.BlockingConnection(pika.URLParameters(self.url))
            channel = self._connection.channel()
            channel.confirm_delivery()
            channel.exchange_declare(self.exchange, exchange_type="topic", durable=True)
        except pika.exceptions.AMQPError as error:
            raise ConnectionError(f"cannot reach RabbitMQ: {error!r}") from error
        self._channel = channel

    def deliver(self, event: OutboxEvent) -> None:
        pika = self._pika
        properties = pika.BasicProperties(
            content_type="application/json", delivery_mode=2, message_id=event.id,
            type=event.type, headers={"idempotency-key": event.id})
        for attempt in (1, 2):
            try:
                # with confirms on, this returns once the broker confirmed, and raises
                # NackError if it refused
                self._channel.basic_publish(self.exchange, event.type,
                                            event.dumps().encode(), properties)
                return
            except (pika.exceptions.ConnectionClosed, pika.exceptions.ChannelClosed,
                    pika.exceptions.StreamLostError):
                if attempt == 2:
                    raise
                self._connect()  # an idle connection the broker closed: once more

    def close(self) -> None:
        if self._connection is not None and self._connection.is_open:
            self._connection.close()


def open_amqp(url: str, settings: Mapping[str, str]) -> AmqpSink:
    """The ``amqp`` backend's ``open``: ``exchange`` from the URL's query, the rest of
    the URL to pika."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    exchange = next((value for key, value in query if key == "exchange"), "promokit.events")
    rest = urlencode([(key, value) for key, value in query if key != "exchange"])
    return AmqpSink(urlunsplit((parts.scheme, parts.netloc, parts.path, rest, "")),
                    exchange=exchange)


@hookimpl
def promokit_register_sinks() -> list[SinkBackend]:
    return [SinkBackend(name="amqp", schemes=("amqp", "amqps"), open=open_amqp,
                        description="RabbitMQ topic exchange, publisher confirms")]
