"""The NATS JetStream sink: each outbox event published to a JetStream subject, and
delivered once the stream acknowledged it (a publisher confirm).

Adds the sink backend ``nats`` for ``nats://`` and ``tls://`` URLs, from the
``nats`` extra (``pip install 'promokit[nats]'``, nats-py). The URL's query says
where: ``subject`` (default ``promokit.events``; an event goes to
``<subject>.<type>``, e.g. ``promokit.events.order.committed``) and ``stream``
(optional: a stream of that name, on ``<subject>.>``, is created if missing).
Each message carries the event's id as ``Nats-Msg-Id``, so JetStream drops a
redelivered event within the stream's duplicate window, and its JSON as the
payload. A broker that cannot be reached or does not acknowledge in ``timeout``
seconds stops the dispatcher's round (the event is published again later); it
never turns an event into a dead letter.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine, Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit, urlunsplit

from promokit import hookimpl
from promokit.events import OutboxEvent
from promokit.sinks import SinkBackend

__all__ = ["NatsSink"]

T = TypeVar("T")


class NatsSink:
    """Publishes events to NATS JetStream at ``servers``; see the module docs."""

    def __init__(self, servers: str, *, subject: str = "promokit.events",
                 stream: str | None = None, timeout: float = 5.0) -> None:
        try:
            import nats
            from nats.js.errors import NotFoundError
        except ImportError as error:
            raise ValueError("the nats sink needs nats-py: pip install 'promokit[nats]'"
                             ) from error
        self.subject = subject.rstrip(".")
        self.timeout = timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name="promokit-nats")
        self._thread.start()
        try:
            self._nc = self._run(nats.connect(servers, connect_timeout=timeout,
                                              max_reconnect_attempts=3))
        except Exception as error:
            self._stop()
            raise ConnectionError(f"cannot reach NATS at {servers}: {error}") from error
        self._js = self._nc.jetstream(timeout=timeout)
        if stream:
            async def ensure() -> None:
                try:
                    await self._js.stream_info(stream)
                except NotFoundError:
                    await self._js.add_stream(name=stream, subjects=[f"{self.subject}.>"])
            self._run(ensure())

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        future = asyncio.run_coroutine_threadsafe(work, self._loop)
        try:
            return future.result(self.timeout * 3)
        except TimeoutError:
            future.cancel()
            raise

    def deliver(self, event: OutboxEvent) -> None:
        self._run(self._js.publish(f"{self.subject}.{event.type}", event.dumps().encode(),
                                   timeout=self.timeout, headers={"Nats-Msg-Id": event.id}))

    def close(self) -> None:
        try:
            if not self._nc.is_closed:
                self._run(self._nc.drain())
        finally:
            self._stop()

    def _stop(self) -> None:
        async def cancel_the_rest() -> None:
            rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in rest:
                task.cancel()
            await asyncio.gather(*rest, return_exceptions=True)
        with contextlib.suppress(Exception):  # stopping whatever state it is in
            asyncio.run_coroutine_threadsafe(cancel_the_rest(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()


def open_nats(url: str, settings: Mapping[str, str]) -> NatsSink:
    """The ``nats`` backend's ``open``: ``subject`` and ``stream`` from the URL's query,
    ``timeout`` from the settings."""
    parts = urlsplit(url)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = sorted(set(query) - {"subject", "stream"})
    if unknown:
        raise ValueError(f"the nats sink does not know {', '.join(unknown)} (subject, stream)")
    servers = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    return NatsSink(servers, subject=query.get("subject", "promokit.events"),
                    stream=query.get("stream"), timeout=float(settings.get("timeout", 5)))


@hookimpl
def promokit_register_sinks() -> list[SinkBackend]:
    return [SinkBackend(name="nats", schemes=("nats", "tls"), open=open_nats,
                        description="NATS JetStream, acknowledged publishes")]
