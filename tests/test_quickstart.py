"""docs/quickstart.md prices its cart to exactly the JSON it shows."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from promokit import Cart, Engine
from promokit.loading import parse_campaigns
from promokit.registry import Registry

QUICKSTART = Path(__file__).resolve().parent.parent / "docs" / "quickstart.md"


def blocks(language: str) -> list[str]:
    text = QUICKSTART.read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def test_quickstart_result_is_what_the_engine_computes() -> None:
    [campaign_text] = blocks("toml")
    cart_text, result_text = blocks("json")
    registry = Registry.default(load_entry_points=False)
    engine = Engine(parse_campaigns(tomllib.loads(campaign_text), registry), registry=registry)
    result = engine.evaluate(Cart.from_json(cart_text))
    assert result.to_json() == json.loads(result_text)
