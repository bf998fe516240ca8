"""Pricing a stored order again: from its recorded cart, counters and coupon
codes, under the campaign version that priced it (kept in the store)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from ..errors import StoreError
from ..loading import parse_campaigns
from ..order import Order, Replay
from ..pricing import Pricer

__all__ = ["pricer_for", "replay"]


def pricer_for(pricer: Pricer, order: Order, only: Iterable[str] | None = None) -> Pricer:
    """A pricer for the campaign version that priced ``order`` (restricted to the
    promotions in ``only``)."""
    if order.campaign_version != pricer.campaigns.version:
        body = pricer.store.load_campaigns(order.campaign_version)
        if body is None:
            raise StoreError(f"the campaign version {order.campaign_version[:12]}… that "
                             f"priced order {order.order_id!r} is not in the store")
        campaigns = parse_campaigns(json.loads(body), pricer.registry,
                                    source=f"stored version {order.campaign_version[:12]}")
        if campaigns.version != order.campaign_version:
            raise StoreError(f"the stored campaign version {order.campaign_version[:12]}… "
                             "does not hash to its version; the store was altered")
        pricer = pricer.with_campaigns(campaigns)
    if only is not None:
        pricer = pricer.only(only)
    return pricer


def replay(pricer: Pricer, order: Order) -> Replay:
    """Price ``order`` again and compare with what was recorded."""
    again = pricer_for(pricer, order).price(order.cart, lang=order.lang, checkout=True,
                                             recorded=order.reads)
    differences = tuple(_differences(order.result.to_json(), again.result.to_json(), ""))
    return Replay(order=order, result=again.result, differences=differences)


def _differences(recorded: Any, replayed: Any, path: str) -> Iterator[str]:
    if isinstance(recorded, dict) and isinstance(replayed, dict):
        for key in sorted(set(recorded) | set(replayed)):
            yield from _differences(recorded.get(key), replayed.get(key),
                                    f"{path}.{key}" if path else key)
    elif isinstance(recorded, list) and isinstance(replayed, list) \
            and len(recorded) == len(replayed):
        for index, (a, b) in enumerate(zip(recorded, replayed, strict=True)):
            yield from _differences(a, b, f"{path}[{index}]")
    elif recorded != replayed:
        yield f"{path}: {json.dumps(recorded, ensure_ascii=False)} → " \
              f"{json.dumps(replayed, ensure_ascii=False)}"
