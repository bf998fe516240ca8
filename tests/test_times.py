"""How times are written (promokit.times): ISO 8601 with an explicit offset, a time
stored without one read as UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from promokit.times import aware, iso, iso_text, local

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_naive_time_is_taken_as_utc_and_an_aware_one_is_kept() -> None:
    assert aware(datetime(2026, 11, 11, 2, 0)) == datetime(2026, 11, 11, 2, 0, tzinfo=UTC)
    shanghai = datetime(2026, 11, 11, 10, 0, tzinfo=SHANGHAI)
    assert aware(shanghai) is shanghai
    assert aware(datetime(2026, 11, 11, 10, 0), SHANGHAI) == shanghai


def test_local_puts_a_time_in_the_campaign_timezone() -> None:
    assert local(datetime(2026, 11, 11, 2, 0, tzinfo=UTC), SHANGHAI).isoformat() == (
        "2026-11-11T10:00:00+08:00")
    assert local(datetime(2026, 11, 11, 10, 0), SHANGHAI).isoformat() == (
        "2026-11-11T10:00:00+08:00")  # naive: already local


def test_iso_always_has_an_offset_with_a_colon() -> None:
    # never "+0800" (strftime's %z) and never naive
    assert iso(datetime(2026, 11, 11, 10, 0, tzinfo=SHANGHAI)) == "2026-11-11T10:00:00+08:00"
    assert iso(datetime(2026, 11, 11, 2, 0)) == "2026-11-11T02:00:00+00:00"
    assert iso(datetime(2026, 11, 11, 2, 0, 0, 250000, tzinfo=UTC)) == (
        "2026-11-11T02:00:00.250000+00:00")  # machine output keeps what was stored


def test_iso_text_stops_at_the_second() -> None:
    moment = datetime(2026, 11, 11, 10, 0, 5, 999999, tzinfo=SHANGHAI)
    assert iso_text(moment) == "2026-11-11T10:00:05+08:00"
    assert iso_text(datetime(2026, 11, 11, 2, 0)) == "2026-11-11T02:00:00+00:00"
