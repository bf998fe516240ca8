"""Reading a ``postgresql://`` store URL: promokit's own options (``namespace``,
``pool``, ``timeout``) apart from libpq's, and URLs and connection strings with
their passwords hidden."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit, urlunsplit

from ...errors import StoreURLError
from ..url import StoreURL, parse_store_url

__all__ = ["DEFAULT_POOL", "mask_conninfo", "masked_url", "pool_size", "without_own_options"]

_OWN_OPTIONS = ("namespace", "pool", "timeout")
DEFAULT_POOL = 4
"""Connections a store keeps at most, unless its URL says ``pool=``."""


def pool_size(parsed: StoreURL, masked: str) -> int:
    """The ``pool`` option: a positive whole number, by default :data:`DEFAULT_POOL`."""
    raw = parsed.options.get("pool")
    if raw is None:
        return DEFAULT_POOL
    if not (raw.isascii() and raw.isdigit()) or int(raw) <= 0:
        raise StoreURLError(f"{masked}: option pool={raw!r} must be a positive whole number")
    return int(raw)


def without_own_options(url: str) -> str:
    """``url`` without promokit's options; libpq's stay exactly as written."""
    parts = urlsplit(url)
    kept = [piece for piece in parts.query.split("&")
            if piece and unquote(piece.partition("=")[0]) not in _OWN_OPTIONS]
    return urlunsplit(parts._replace(query="&".join(kept)))


def masked_url(parsed: StoreURL) -> str:
    """The URL with its password hidden, also one given as ``?password=``."""
    return re.sub(r"([?&]password=)[^&]*", r"\1***", parsed.masked)


def mask_conninfo(conninfo: str) -> str:
    """A connection string or URL with its password hidden."""
    if "://" in conninfo:
        try:
            return masked_url(parse_store_url(conninfo))
        except StoreURLError:
            return "postgresql://(unreadable URL)"
    return re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S*)", r"\1***", conninfo)
