"""``promokit demo`` plays all five games, on every store backend, and the
figures it prints are the hand-computed ones."""

from __future__ import annotations

import io
import re

import pytest
from conftest import demo_steps

from promokit.demo import run

BACKENDS = ["memory", "sqlite", "redis", "postgres"]


@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
def test_the_demo_plays_every_game_on_every_backend(store_url: str) -> None:
    out = io.StringIO()
    run(out, store_url)
    story = demo_steps(out.getvalue())

    lottery = story["12"]
    assert "SHA-256 of its secret seed before the first draw" in lottery
    # one free draw a day and two tickets (share, quiz): three draws, nonces 1, 2, 3
    assert [line.split()[:2] for line in lottery.splitlines()
            if re.match(r"\s+[123]\s+xiaomei-lucky", line)] == [
        ["1", "xiaomei-lucky"], ["2", "xiaomei-lucky"], ["3", "xiaomei-lucky"]]

    box = story["13"]
    # 15 boxes: 6 熊貓, 6 老虎, 2 仙鶴, 1 hidden 金龍, and the last prize once
    opened = ", ".join(re.findall(r"opened by \S+: (.*)", box))
    names = [name.rstrip("*") for name in opened.split(" + ")[0].split(", ")]
    assert sorted(names) == sorted(["熊貓"] * 6 + ["老虎"] * 6 + ["仙鶴"] * 2 + ["金龍"])
    assert opened.count("最後賞：生肖大公仔") == 1
    assert "before   40.0% (6)  40.0% (6)  13.3% (2)  6.7% (1)" in box  # 6/15, 2/15, 1/15
    assert "refused, guardian_consent_required" in box

    group = story["14"]
    # list 99.00, group price 69.00; a new customer's ¥20 off stacks: 49.00; full at 3
    assert "小美 pays ¥69.00 for the kettle (list ¥99.00)" in group
    joined = "(a new customer) pays ¥49.00 (kettle-pin, new-user-20) and joins:"
    assert f"ada {joined} 2 of 3, open" in group
    assert f"bo {joined} 3 of 3, full" in group
    assert "chen opens the link too late: ¥79.00, not_eligible:group_full" in group
    assert "notify shop: kettle-pin full" in group

    bargain = story["15"]
    cuts = [line.split() for line in bargain.splitlines() if "¥" in line and
            re.match(r"\s+(ming|li|zhou|wu)\b", line)]
    total = sum(int(row[-4].lstrip("¥").replace(".", ""))
                for row in cuts)
    assert total == 20000  # 299.00 − 99.00, in exactly 5 planned cuts
    assert sum(int(row[-3]) for row in cuts) == 5
    assert cuts[-1][-2:] == ["¥99.00", "0"]
    assert "checkout ¥99.00; a second order of the same bargain\nwould pay ¥299.00 " \
           "(limit_reached)" in bargain

    presale = story["16"]
    # deposit 300.00 counts ×2, capped at 200.00 off: 4999 − 200 = 4799, due 4799 − 300
    assert "Stock left: 98 of 100." in presale
    assert "the sweep cancels 1 unpaid deposit; stock left: 99." in presale
    assert "¥4,999.00 − 定金膨脹 ¥200.00 = ¥4,799.00, ¥4,499.00 still to pay." in presale
    assert "deposit DEP-1 completed" in presale

    audit = story["17"]
    assert "verify: 3 draw(s), all recomputed from the seed" in audit
    assert "a log with one prize changed fails:\n  draw 1:" in audit
