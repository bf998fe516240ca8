"""The signed webhook sink: retries with backoff and jitter on timeouts, 429 (with
Retry-After), 5xx and malformed responses, never sleeping for real; and against a
receiver on loopback."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest
from receiver import SECRET, Receiver

from promokit import open_store
from promokit.errors import DeliveryError
from promokit.events import OutboxEvent
from promokit.plugins.sinks.webhook import WebhookSink
from promokit.registry import open_sink
from promokit.webhooks import verify

EVENT = OutboxEvent(id="evt_1", type="order.committed", time="2026-11-11T10:00:00+08:00",
                    subject="SO-1", data={"total": "349.00"}, sequence=7)
T0 = 1_796_000_000.0


def sink_with(handler: Callable[[httpx.Request], httpx.Response], **options: object
              ) -> tuple[WebhookSink, list[float], list[httpx.Request]]:
    """A sink over a MockTransport, its recorded sleeps and requests."""
    sleeps: list[float] = []
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)
    sink = WebhookSink("https://erp.example/hooks", SECRET,
                       client=httpx.Client(transport=httpx.MockTransport(record)),
                       clock=lambda: T0, sleep=sleeps.append, jitter=lambda: 1.0,
                       **options)  # type: ignore[arg-type]
    return sink, sleeps, seen


def answers(*responses: httpx.Response | Exception) -> Callable[[httpx.Request], httpx.Response]:
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        answer = queue.pop(0) if queue else httpx.Response(204)
        if isinstance(answer, Exception):
            raise answer
        return answer
    return handler


def test_a_delivery_is_signed_with_an_idempotency_key() -> None:
    sink, sleeps, seen = sink_with(answers(httpx.Response(200)))
    sink.deliver(EVENT)
    [request] = seen
    assert request.method == "POST" and request.headers["content-type"] == "application/json"
    assert request.headers["idempotency-key"] == request.headers["webhook-id"] == "evt_1"
    assert request.headers["webhook-timestamp"] == str(int(T0))
    body = verify(SECRET, dict(request.headers), request.content, now=T0)
    assert body == EVENT.to_json() and body["data"]["total"] == "349.00"
    assert sleeps == []


def test_5xx_timeouts_and_malformed_answers_are_retried_with_backoff() -> None:
    sink, sleeps, seen = sink_with(answers(
        httpx.Response(500), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("junk"),
        httpx.Response(503), httpx.Response(201)), backoff=0.5)
    sink.deliver(EVENT)
    assert len(seen) == 5
    assert sleeps == [0.5, 1.0, 2.0, 4.0]  # jitter pinned at its top
    assert len({r.headers["webhook-id"] for r in seen}) == 1


def test_jitter_spreads_the_backoff_and_the_cap_holds() -> None:
    sink, _, _ = sink_with(answers(), backoff=1.0, max_backoff=8.0)
    sink.jitter = lambda: 0.0
    assert [sink.delay(n) for n in (1, 2, 3, 4, 5, 6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_429_waits_as_retry_after_asks() -> None:
    when = format_datetime(datetime.fromtimestamp(T0 + 30, UTC), usegmt=True)
    sink, sleeps, _ = sink_with(answers(
        httpx.Response(429, headers={"retry-after": "7"}),
        httpx.Response(429, headers={"retry-after": when}),
        httpx.Response(429, headers={"retry-after": "86400"}),
        httpx.Response(429, headers={"retry-after": "soon"}),
        httpx.Response(204)), max_retry_after=120.0, backoff=0.5)
    sink.deliver(EVENT)
    assert sleeps == [7.0, 30.0, 120.0, 4.0]  # a date, a cap, an unreadable one: backoff


def test_retries_run_out_into_a_delivery_error() -> None:
    sink, sleeps, seen = sink_with(answers(*[httpx.Response(502)] * 9), attempts=3)
    with pytest.raises(DeliveryError, match=r"in 3 attempts \(last: HTTP 502\)") as caught:
        sink.deliver(EVENT)
    assert (caught.value.attempts, caught.value.status_code) == (3, 502)
    assert len(seen) == 3 and len(sleeps) == 2


@pytest.mark.parametrize("status", [400, 401, 404, 410, 302])
def test_a_refusal_is_not_retried(status: int) -> None:
    sink, sleeps, seen = sink_with(answers(httpx.Response(status)))
    with pytest.raises(DeliveryError, match=f"HTTP {status}") as caught:
        sink.deliver(EVENT)
    assert caught.value.status_code == status and len(seen) == 1 and sleeps == []


def test_the_backend_opens_for_http_urls_and_needs_a_secret() -> None:
    sink = open_sink("https://erp.example/hooks", {"secret": SECRET, "attempts": "2"})
    assert isinstance(sink, WebhookSink) and sink.attempts == 2
    sink.close()
    with pytest.raises(ValueError, match="needs a secret"):
        open_sink("https://erp.example/hooks", {})
    with pytest.raises(ValueError, match="no sink backend"):
        open_sink("smtp://mail", {})


def test_against_a_receiver_on_loopback() -> None:
    # a timeout, a 429 with Retry-After, a 500 and a malformed response, then 204
    with Receiver(["slow:0.5", "429:1", "500", "garbage"]) as receiver:
        sleeps: list[float] = []
        sink = WebhookSink(receiver.url, SECRET, timeout=0.2, sleep=sleeps.append,
                           jitter=lambda: 1.0, backoff=0.1)
        try:
            sink.deliver(EVENT)
        finally:
            sink.close()
        assert [r["action"] for r in receiver.requests] == [
            "slow:0.5", "429:1", "500", "garbage", "ok"]
        assert sleeps == [0.1, 1.0, 0.4, 0.8]
        assert receiver.keys.count("evt_1") >= 1


def test_a_store_dead_letter_from_a_real_refusal(tmp_path: object) -> None:
    store = open_store("memory://")
    with Receiver(["400"]) as receiver:
        sink = WebhookSink(receiver.url, SECRET, sleep=lambda s: None)
        with pytest.raises(DeliveryError):
            sink.deliver(EVENT)
        sink.deliver(EVENT)
        sink.close()
    assert receiver.keys == ["evt_1"]
    assert json.loads(EVENT.dumps())["sequence"] == 7
    store.close()
