"""Reading store URLs: ``scheme://[user[:password]@]host[:port]/path?options``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlsplit

import attrs

from ..errors import StoreURLError

__all__ = ["StoreURL", "parse_store_url"]

_NAMESPACE = re.compile(r"[a-z][a-z0-9_]{0,39}")


@attrs.frozen(kw_only=True)
class StoreURL:
    """A parsed store URL; ``options`` are its query parameters."""

    url: str
    scheme: str
    host: str | None
    port: int | None
    path: str
    options: Mapping[str, str]

    @property
    def masked(self) -> str:
        """The URL with any password (in the user part or a ``password=`` option)
        replaced by ``***``."""
        return _mask(self.url)

    def namespace(self, default: str = "promokit") -> str:
        """The ``namespace`` option: a lowercase identifier that keeps one store's
        keys or tables apart from another's on the same server."""
        name = self.options.get("namespace", default)
        if not _NAMESPACE.fullmatch(name):
            raise StoreURLError(f"{self.masked}: namespace {name!r} must be a lowercase "
                                "letter then up to 39 lowercase letters, digits or '_'")
        return name

    def number(self, option: str, default: float) -> float:
        """A positive number option (timeouts)."""
        raw = self.options.get(option)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if not value > 0:
            raise StoreURLError(f"{self.masked}: option {option}={raw!r} must be a "
                                "positive number")
        return value

    def only(self, *allowed: str) -> None:
        """Refuse options other than ``allowed``."""
        unknown = sorted(set(self.options) - set(allowed))
        if unknown:
            known = ", ".join(allowed) or "none"
            raise StoreURLError(f"{self.masked}: unknown option(s) {', '.join(unknown)} "
                                f"(known: {known})")


def parse_store_url(url: str) -> StoreURL:
    """Split a store URL, refusing what is not one."""
    if not isinstance(url, str) or "://" not in url:
        raise StoreURLError(f"{url!r} is not a store URL; expected e.g. memory://, "
                            "sqlite:///promokit.db, redis://127.0.0.1:6379/0 or "
                            "postgresql://user@host/db")
    bad = next((c for c in url if not c.isprintable() or "\ud800" <= c <= "\udfff"), None)
    if bad is not None:
        raise StoreURLError(f"{_mask(url)!r}: a store URL may not hold the character "
                            f"{bad!r} (control characters and invalid Unicode are refused)")
    try:
        parts = urlsplit(url)
    except ValueError as error:
        raise StoreURLError(f"{_mask(url)}: {error}") from None
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError as error:
        hint = ("; a sqlite URL names a file, with three slashes: sqlite:///relative/path.db "
                "or sqlite:////absolute/path.db (for a store in memory, memory://)"
                if scheme == "sqlite" else "")
        raise StoreURLError(f"{_mask(url)}: {error}{hint}") from None
    options: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in options:
            raise StoreURLError(f"{_mask(url)}: option {key!r} given twice")
        options[key] = value
    return StoreURL(url=url, scheme=scheme, host=parts.hostname, port=port,
                    path=parts.path, options=options)


def _mask(url: str) -> str:
    url = re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)
    return re.sub(r"([?&]password=)[^&]*", r"\1***", url)
