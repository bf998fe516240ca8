"""Canonical JSON: the form of a campaign file a store keeps and its version hashes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

__all__ = ["canonical_json", "content_version"]


def canonical_json(data: Mapping[str, Any]) -> str:
    """The content of a campaign file as canonical JSON (sorted keys, TOML times as
    ISO 8601 text): what a store keeps so an order can be re-priced later."""
    def default(value: object) -> str:
        if isinstance(value, (datetime, date, time)):
            return value.isoformat()
        raise TypeError(type(value).__name__)

    return json.dumps(data, sort_keys=True, ensure_ascii=False, default=default)


def _version(data: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


def content_version(data: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON: changes whenever any rule changes."""
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()
