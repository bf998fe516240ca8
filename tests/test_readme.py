"""The README's Python example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_readme_python_example_runs(monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [example] = re.findall(r"```python\n(.*?)```", readme, re.S)
    monkeypatch.chdir(ROOT)
    exec(compile(example, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    # 299.00 × 5% (gold) = 14.95 → 284.05; 跨店滿300 is not reached (284.05 < 300) and
    # 滿99包郵 takes the 8.00 shipping off: total 284.05.
    assert "'total': '284.05'" in printed
