"""Campaign files on disk: TOML or JSON read into tables, several files merged
into one content before it is parsed."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..campaign_set import CampaignSet
from ..errors import ConfigError, Problem
from ..registry import Registry
from .campaigns import parse_campaigns

__all__ = ["load_campaigns", "read_campaign_source"]

#: Top-level settings that every merged file must agree on (with their defaults).
_SETTINGS: dict[str, Any] = {"currency": None, "timezone": "UTC", "jurisdiction": "none",
                             "hint_within": "0.5"}


def read_campaign_source(path: str | Path) -> dict[str, Any]:
    """Read one TOML or JSON file (by extension; TOML otherwise) into a dict."""
    file = Path(path)
    try:
        text = file.read_bytes()
    except OSError as error:
        raise ConfigError([Problem(path="", message=f"cannot read {file}: {error.strerror}")],
                          source=str(file)) from None
    try:
        if file.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            data = tomllib.loads(text.decode("utf-8"))
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ConfigError([Problem(path="", message=f"not valid {file.suffix[1:] or 'TOML'}: "
                                                    f"{error}")], source=str(file)) from None
    if not isinstance(data, dict):
        raise ConfigError([Problem(path="", message="a campaign file must be a table")],
                          source=str(file))
    return data


def load_campaigns(paths: str | Path | Sequence[str | Path], registry: Registry) -> CampaignSet:
    """Load and validate one or more campaign files as one set.

    Several files are merged: their ``campaign`` and ``promotion`` lists are
    concatenated, and their top-level settings must agree.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    sources = [read_campaign_source(path) for path in paths]
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
    return parse_campaigns(merged, registry, source=source)
