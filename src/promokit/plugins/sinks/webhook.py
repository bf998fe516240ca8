"""The signed webhook sink: each outbox event POSTed as JSON to one URL.

Adds the sink backend ``webhook`` for ``http://`` and ``https://`` URLs. Reads
one setting, ``secret`` (``PROMOKIT_SINK_<NAME>_SECRET`` for ``promokit
dispatch``): a Standard Webhooks ``whsec_…`` secret, or any text.

Every request is signed (:mod:`promokit.webhooks`: ``webhook-id``,
``webhook-timestamp``, ``webhook-signature``) and carries the event's id as
``idempotency-key``. A 2xx answer delivers the event. A timeout, a connection
or protocol failure (a malformed response), 408, 429 and 5xx are retried with
exponential backoff and jitter (429 and 503 wait as their ``Retry-After`` asks,
up to a cap); any other answer, or the last failed attempt, raises
:class:`~promokit.errors.DeliveryError`, and the dispatcher writes a dead letter.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime

import httpx

from promokit import hookimpl
from promokit.errors import DeliveryError
from promokit.events import OutboxEvent
from promokit.sinks import SinkBackend
from promokit.webhooks import sign

__all__ = ["WebhookSink"]

_RETRIED = frozenset({408, 425, 429, 500, 502, 503, 504})


class WebhookSink:
    """POSTs events to ``url``, signed with ``secret``.

    ``timeout`` is seconds per attempt; ``attempts`` the most made per event;
    the wait before attempt n+1 is a random share (50–100%) of ``backoff`` × 2ⁿ⁻¹,
    at most ``max_backoff``; a ``Retry-After`` is honoured up to
    ``max_retry_after``. ``client`` (an :class:`httpx.Client`, e.g. over a
    ``MockTransport``), ``clock``, ``sleep`` and ``jitter`` are injectable, so
    tests never wait for real."""

    def __init__(self, url: str, secret: str | bytes, *, client: httpx.Client | None = None,
                 timeout: float = 10.0, attempts: int = 6, backoff: float = 0.5,
                 max_backoff: float = 60.0, max_retry_after: float = 300.0,
                 clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], object] = time.sleep,
                 jitter: Callable[[], float] = random.random) -> None:
        if attempts < 1:
            raise ValueError(f"attempts must be at least 1, not {attempts}")
        sign(secret, "check", 0, b"")  # a bad secret fails here, not at the first event
        self.url = url
        self.secret = secret
        self.client = client or httpx.Client(timeout=timeout, follow_redirects=False)
        self._own_client = client is None
        self.timeout = timeout
        self.attempts = attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.clock = clock
        self.sleep = sleep
        self.jitter = jitter

    def deliver(self, event: OutboxEvent) -> None:
        body = event.dumps().encode()
        status: int | None = None
        for attempt in range(1, self.attempts + 1):
            headers = {"content-type": "application/json", "idempotency-key": event.id,
                       "user-agent": "promokit-webhooks",
                       **sign(self.secret, event.id, int(self.clock()), body)}
            wait: float | None = None
            try:
                response = self.client.post(self.url, content=body, headers=headers,
                                            timeout=self.timeout)
            except httpx.TimeoutException:
                why = f"timed out after {self.timeout:g} s"
            except httpx.TransportError as error:  # refused, reset, a malformed response
                why = f"{type(error).__name__}: {error}"
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return
                if status not in _RETRIED:
                    raise DeliveryError(f"{self.url} refused event {event.id}: HTTP {status}",
                                        attempts=attempt, status_code=status)
                why = f"HTTP {status}"
                wait = self._retry_after(response.headers.get("retry-after"))
            if attempt == self.attempts:
                raise DeliveryError(f"{self.url} did not take event {event.id} in "
                                    f"{attempt} attempts (last: {why})", attempts=attempt,
                                    status_code=status)
            self.sleep(wait if wait is not None else self.delay(attempt))

    def delay(self, attempt: int) -> float:
        """The backoff after failed attempt ``attempt`` (1-based), jittered."""
        ceiling = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        return float(ceiling * (0.5 + 0.5 * self.jitter()))

    def _retry_after(self, value: str | None) -> float | None:
        """Seconds a ``Retry-After`` asks for (delta-seconds or an HTTP date), capped;
        ``None`` if absent or unreadable."""
        if not value:
            return None
        value = value.strip()
        try:
            seconds = float(value) if value.isdigit() else (
                parsedate_to_datetime(value).timestamp() - self.clock())
        except (TypeError, ValueError, OverflowError):
            return None
        return min(max(seconds, 0.0), self.max_retry_after)

    def close(self) -> None:
        if self._own_client:
            self.client.close()


def open_webhook(url: str, settings: Mapping[str, str]) -> WebhookSink:
    """The ``webhook`` backend's ``open``: needs the ``secret`` setting."""
    secret = settings.get("secret")
    if not secret:
        raise ValueError(f"the webhook sink for {url} needs a secret "
                         "(PROMOKIT_SINK_<NAME>_SECRET)")
    return WebhookSink(url, secret, timeout=float(settings.get("timeout", 10)),
                       attempts=int(settings.get("attempts", 6)),
                       backoff=float(settings.get("backoff", 0.5)),
                       max_backoff=float(settings.get("max_backoff", 60)))


@hookimpl
def promokit_register_sinks() -> list[SinkBackend]:
    return [SinkBackend(name="webhook", schemes=("http", "https"), open=open_webhook,
                        description="signed JSON POST (Standard Webhooks), with retries")]
