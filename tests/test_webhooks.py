"""Signing and verifying webhooks in the Standard Webhooks layout."""

from __future__ import annotations

import pytest

from promokit.errors import SignatureError
from promokit.webhooks import sign, signature, verify

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
BODY = b'{"test": 2432232314}'
STAMP = 1614265330


def test_the_standard_webhooks_test_vector() -> None:
    assert signature(SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", STAMP, BODY) == (
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")


def test_a_signed_request_verifies_and_gives_its_body() -> None:
    headers = sign(SECRET, "evt_1", STAMP, BODY)
    assert verify(SECRET, headers, BODY, now=STAMP + 299) == {"test": 2432232314}
    upper = {name.upper(): value for name, value in headers.items()}
    assert verify(SECRET, upper, BODY, now=STAMP) == {"test": 2432232314}


def test_one_good_signature_among_several_is_enough() -> None:
    headers = sign(SECRET, "evt_1", STAMP, BODY)
    headers["webhook-signature"] = "v1,bm9wZQ== " + headers["webhook-signature"] + " v2,x"
    assert verify(SECRET, headers, BODY, now=STAMP)


@pytest.mark.parametrize(("change", "message"), [
    (lambda h, b: (h, b + b" "), "no webhook-signature matches"),
    (lambda h, b: ({**h, "webhook-id": "evt_2"}, b), "no webhook-signature matches"),
    (lambda h, b: ({**h, "webhook-timestamp": str(STAMP + 1)}, b), "no webhook-signature"),
    (lambda h, b: ({k: v for k, v in h.items() if k != "webhook-id"}, b), "missing header"),
    (lambda h, b: ({**h, "webhook-timestamp": "soon"}, b), "not Unix seconds"),
], ids=["tampered body", "other id", "other timestamp", "missing id", "bad timestamp"])
def test_a_changed_request_is_refused(change: object, message: str) -> None:
    headers, body = change(sign(SECRET, "evt_1", STAMP, BODY), BODY)  # type: ignore[operator]
    with pytest.raises(SignatureError, match=message):
        verify(SECRET, headers, body, now=STAMP)


def test_an_old_or_future_request_is_a_replay() -> None:
    headers = sign(SECRET, "evt_1", STAMP, BODY)
    for now in (STAMP + 301, STAMP - 301):
        with pytest.raises(SignatureError, match="outside the 300 s window"):
            verify(SECRET, headers, BODY, now=now)
    assert verify(SECRET, headers, BODY, now=STAMP + 3000, tolerance=3600)


def test_another_secret_does_not_verify_and_plain_secrets_work() -> None:
    headers = sign("plain text secret", "evt_1", STAMP, BODY)
    assert verify("plain text secret", headers, BODY, now=STAMP)
    with pytest.raises(SignatureError):
        verify(SECRET, headers, BODY, now=STAMP)
    with pytest.raises(ValueError, match="base64"):
        sign("whsec_***", "evt_1", STAMP, BODY)
