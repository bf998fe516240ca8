"""Campaign files on disk: TOML or JSON read into tables, several files merged
into one content before it is parsed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..campaign_set import CampaignSet
from ..errors import ConfigError, Problem
from ..inputs import DEFAULT_LIMITS, InputLimits, decode_json, decode_toml
from ..registry import Registry
from .campaigns import parse_campaigns

__all__ = ["load_campaigns", "read_campaign_source"]

#: Top-level settings that every merged file must agree on (with their defaults).
_SETTINGS: dict[str, Any] = {"currency": None, "timezone": "UTC", "jurisdiction": "none",
                             "hint_within": "0.5"}


def read_campaign_source(path: str | Path, *,
                         limits: InputLimits = DEFAULT_LIMITS) -> dict[str, Any]:
    """Read one TOML or JSON file (by extension; TOML otherwise) into a dict, within
    ``limits`` (its size, how deeply it nests, its numbers and text)."""
    file = Path(path)
    source = str(file)
    try:
        with file.open("rb") as handle:
            text = handle.read(limits.max_campaign_bytes + 1)
    except OSError as error:
        raise ConfigError([Problem(path="", message=f"cannot read {file}: "
                                   f"{error.strerror or error}")], source=source) from None
    if len(text) > limits.max_campaign_bytes:
        raise ConfigError([Problem(path="", message=f"the file is larger than "
                                   f"{limits.max_campaign_bytes:,} bytes")], source=source)
    syntax = file.suffix[1:] or "TOML"  # as the file names it: "toml", "json" …
    if file.suffix.lower() == ".json":
        data = decode_json(text, error=ConfigError, limits=limits,
                           max_bytes=limits.max_campaign_bytes, source=source, syntax=syntax)
    else:
        try:
            decoded = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ConfigError([Problem(path="", message=f"not valid {syntax}: {error}")],
                              source=source) from None
        data = decode_toml(decoded, error=ConfigError, limits=limits, source=source,
                           syntax=syntax)
    if not isinstance(data, dict):
        raise ConfigError([Problem(path="", message="a campaign file must be a table")],
                          source=source)
    return data


def load_campaigns(paths: str | Path | Sequence[str | Path], registry: Registry, *,
                   limits: InputLimits = DEFAULT_LIMITS) -> CampaignSet:
    """Load and validate one or more campaign files as one set.

    Several files are merged: their ``campaign`` and ``promotion`` lists are
    concatenated, and their top-level settings must agree.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    sources = [read_campaign_source(path, limits=limits) for path in paths]
    if not sources:
        raise ConfigError([Problem(path="", message="no campaign file given")])
    merged: dict[str, Any] = {}
    problems: list[Problem] = []
    for path, data in zip(paths, sources, strict=True):
        for key in _SETTINGS:
            value = data.get(key, _SETTINGS[key])
            first = merged.setdefault(key, value)
            if value != first:
                said = f"says {value!r}" if key in data else "does not say it"
                problems.append(Problem(path=key, message=f"{path} {said}, but {paths[0]} "
                                                          f"says {first!r}; merged files "
                                                          f"must agree"))
        for key, value in data.items():
            if key in _SETTINGS:
                continue
            if isinstance(value, list) and isinstance(merged.get(key), list):
                merged[key] = merged[key] + value
            elif key in merged:
                problems.append(Problem(path=key, message=f"{path} sets it again"))
            else:
                merged[key] = value
    for key, default in _SETTINGS.items():
        if merged.get(key) == default and all(key not in data for data in sources):
            del merged[key]
    if problems:
        raise ConfigError(problems)
    source = ", ".join(str(p) for p in paths)
    return parse_campaigns(merged, registry, source=source, limits=limits)
