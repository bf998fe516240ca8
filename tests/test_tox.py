"""tox.ini runs on whichever Pythons a machine has, and has envs for the store tests
(fault 13 of issue 13: it named py311 alone, and failed where only 3.12 was found)."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

TOX = Path(__file__).resolve().parent.parent / "tox.ini"


def tox() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(TOX, encoding="utf-8")
    return parser


def test_the_test_envs_cover_every_supported_python_and_skip_missing_ones() -> None:
    config = tox()
    envs = config["tox"]["env_list"]
    assert "py3{11,12,13}" in envs and not re.search(r"\bpy311\b", envs)
    assert config["tox"]["skip_missing_interpreters"] == "true"


def test_redis_and_postgres_envs_run_their_marked_tests_and_refuse_to_skip() -> None:
    config = tox()
    for name in ("redis", "postgres"):
        env = config[f"testenv:{name}"]
        assert env["commands"].split() == ["pytest", "-m", name, "{posargs}"]
        assert "PROMOKIT_REQUIRE_STORES = 1" in env["set_env"]
        assert f"PROMOKIT_{name.upper()}_URL" in env["set_env"]
