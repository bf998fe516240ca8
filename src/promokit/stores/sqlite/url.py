"""Reading a ``sqlite://`` URL: the database file, the namespace and the options of
:class:`~promokit.stores.sqlite.SQLiteStore`."""

from __future__ import annotations

import os
from urllib.parse import unquote, urlsplit

from ...errors import StoreURLError
from ..url import parse_store_url

__all__ = ["parse_url"]

_OPTIONS = ("namespace", "timeout", "synchronous")
_SYNCHRONOUS = {"full": "FULL", "normal": "NORMAL"}


def parse_url(url: str) -> tuple[str, str, float, str, str]:
    """The file (absolute), namespace, timeout, synchronous mode and masked URL of a
    ``sqlite://`` URL, or :class:`StoreURLError`."""
    parsed = parse_store_url(url)
    masked = parsed.masked
    forms = "use sqlite:///relative/path.db or sqlite:////absolute/path.db"
    if parsed.scheme != "sqlite":
        raise StoreURLError(f"{masked}: not a sqlite:// URL")
    parsed.only(*_OPTIONS)
    netloc = urlsplit(url).netloc
    if netloc:
        raise StoreURLError(f"{masked}: a sqlite URL takes no host ({netloc!r}); {forms}")
    namespace = parsed.namespace()
    timeout = parsed.number("timeout", 30.0)
    raw = parsed.options.get("synchronous", "full")
    synchronous = _SYNCHRONOUS.get(raw.lower())
    if synchronous is None:
        raise StoreURLError(f"{masked}: option synchronous={raw!r} must be 'full' "
                            "(durable, the default) or 'normal'")
    name = unquote(parsed.path[1:] if parsed.path.startswith("/") else parsed.path)
    if not name:
        raise StoreURLError(f"{masked}: no database file; {forms}")
    if name == ":memory:" or name.startswith("file:"):
        raise StoreURLError(f"{masked}: give a file path ({forms}); for a store in "
                            "memory use memory://")
    path = os.path.realpath(os.path.abspath(name))
    if name.endswith(("/", os.sep)) or os.path.isdir(path):
        raise StoreURLError(f"{masked}: {path!r} is a directory, not a database file")
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        raise StoreURLError(f"{masked}: directory {directory!r} does not exist "
                            "(create it first)")
    return path, namespace, timeout, synchronous, masked
