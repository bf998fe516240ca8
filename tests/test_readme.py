"""The README's Python examples run as written, one after the other."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from promokit import Engine

ROOT = Path(__file__).resolve().parent.parent


def test_readme_python_examples_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    evaluate, checkout = re.findall(r"```python\n(.*?)```", readme, re.S)
    monkeypatch.chdir(ROOT)
    names: dict[str, object] = {}
    exec(compile(evaluate, "README.md", "exec"), names)
    printed = capsys.readouterr().out
    # 299.00 × 5% (gold) = 14.95 → 284.05; 跨店滿300 is not reached (284.05 < 300) and
    # 滿99包郵 takes the 8.00 shipping off: total 284.05.
    assert '"total": "284.05"' in printed
    # the checkout example writes promokit.db in the working directory: use a fresh one
    monkeypatch.setattr(Engine, "from_files", _rooted(Engine.from_files))
    monkeypatch.chdir(tmp_path)
    exec(compile(checkout, "README.md", "exec"), names)
    engine = names["engine"]
    assert isinstance(engine, Engine)
    order = engine.order("SO-20261111-0001")
    assert order is not None and order.status == "refunded"  # one line, one unit: all of it
    assert order.refunds[0].amount == order.result.total == names["order"].result.total  # type: ignore[attr-defined]
    assert (tmp_path / "promokit.db").exists()


def _rooted(from_files):  # type: ignore[no-untyped-def]
    """``Engine.from_files`` with paths relative to the repository root."""
    def load(paths, **options):  # type: ignore[no-untyped-def]
        return from_files([ROOT / p for p in paths], **options)
    return load
