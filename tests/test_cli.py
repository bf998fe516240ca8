"""The ``promokit`` command: output, error messages and exit codes (DESIGN §6)."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from conftest import demo_steps

import promokit
from promokit import StoreError
from promokit.cli import main
from promokit.engine import Engine
from promokit.errors import PluginError
from promokit.result import Applied, LineDiscount, LineResult, PriceResult, RejectedCode
from promokit.tables import display_width, render_result

ROOT = Path(__file__).resolve().parent.parent
D11 = str(ROOT / "examples" / "d11.toml")
GAMES = str(ROOT / "examples" / "d11_games.toml")

SHOES = {"id": "l1", "sku": "SHOE-1", "quantity": 1, "unit_price": "399.00",
         "category": "apparel/shoes", "brand": "acme", "shop": "acme"}
LAMP = {"id": "l2", "sku": "LAMP-1", "quantity": 1, "unit_price": "129.00",
        "category": "home/lighting", "shop": "lumen"}

#: A returning customer (no member tier) on the app on 11.11, hand-priced under d11.toml:
#:   item      gold-95 needs tier gold/platinum: nothing          shoes 399.00, lamp 129.00
#:   shop      acme-every-300 on the ACME shop's 399.00: 50       shoes 349.00
#:   platform  d11-300-50 on 349.00 + 129.00 = 478.00 >= 300: 50, split by net
#:             shoes 50 × 349/478 = 36.506 → 36.51, lamp 13.49     shoes 312.49, lamp 115.51
#:             funded 70/30 by the campaign: platform 35.00, merchant 15.00
#:   shipping  ship-free-99: 428.00 >= 99, the 12.00 shipping is free
#:   total 312.49 + 115.51 + 0 = 428.00; discount_total 50 + 50 + 12 = 112.00
#:   hints     d11-300-50: 500 − 478 = 22.00 more for 50 more;
#:             acme-every-300: 600 − 399 = 201.00 more in shop acme for 50 more
RETURNING = {"currency": "CNY", "lines": [SHOES, LAMP], "shipping": "12.00",
             "customer": {"id": "c1", "orders_count": 3}, "channel": "app",
             "now": "2026-11-11T10:00:00+08:00"}

#: The same cart for a gold member at 00:30 (demo step 1):
#:   item      gold-95: 399.00 × 5% = 19.95, 129.00 × 5% = 6.45   379.05, 122.55
#:   shop      acme-every-300 on 379.05: 50                       329.05
#:   platform  d11-300-50 on 329.05 + 122.55 = 451.60: 50
#:             50 × 329.05/451.60 = 36.43, 13.57                  292.62, 108.98
#:   total 401.60; discount_total 26.40 + 50 + 50 + 12 = 138.40
GOLD = {**RETURNING, "customer": {"id": "xiaomei", "tier": "gold", "orders_count": 12},
        "now": "2026-11-11T00:30:00+08:00"}


def write_cart(tmp_path: Path, cart: Any, name: str = "cart.json") -> str:
    path = tmp_path / name
    path.write_text(cart if isinstance(cart, str) else json.dumps(cart), encoding="utf-8")
    return str(path)


# -- evaluate -----------------------------------------------------------------------


def test_evaluate_json_matches_the_hand_computed_prices(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", D11, "--cart", write_cart(tmp_path, RETURNING), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {key: result[key] for key in ("subtotal", "discount_total", "shipping_discount",
                                         "shipping", "total", "balance_due")} == {
        "subtotal": "528.00", "discount_total": "112.00", "shipping_discount": "12.00",
        "shipping": "0.00", "total": "428.00", "balance_due": "428.00"}
    shoes, lamp = result["lines"]
    assert shoes["discounts"] == [{"promotion": "acme-every-300", "amount": "50.00"},
                                  {"promotion": "d11-300-50", "amount": "36.51"}]
    assert (shoes["total"], lamp["total"]) == ("312.49", "115.51")
    applied = {a["promotion"]: a for a in result["applied"]}
    assert applied["d11-300-50"]["funding"] == {"platform": "35.00", "merchant": "15.00"}
    assert set(applied) == {"acme-every-300", "d11-300-50", "ship-free-99"}
    assert {n["promotion"]: n["reason"] for n in result["not_applied"]} == {
        "gold-95": "not_eligible:member_tier", "new-user-20": "not_eligible:new_customer"}
    assert result["hints"] == [
        {"promotion": "acme-every-300", "missing": "201.00", "saving": "50.00", "shop": "acme",
         "message": "Add ¥201.00 more to save ¥50.00"},
        {"promotion": "d11-300-50", "missing": "22.00", "saving": "50.00",
         "message": "Add ¥22.00 more to save ¥50.00"}]
    assert result["optimal"] is True


def test_evaluate_prints_readable_tables(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", D11, "--cart", write_cart(tmp_path, RETURNING)]) == 0
    out = capsys.readouterr().out
    assert "CNY cart on app: customer c1 (3 earlier orders), 2026-11-11T10:00:00+08:00" in out
    lines = out.splitlines()
    shoe_row = next(line for line in lines if line.startswith("l1 "))
    assert shoe_row.split() == ["l1", "SHOE-1", "1", "¥399.00", "¥399.00", "-¥86.51",
                                "¥312.49"]
    assert any(line.split() == ["d11-300-50", "-¥36.51"] for line in lines)
    assert any(line.split() == ["total", "¥428.00"] for line in lines)
    assert any(line.split() == ["balance", "due", "¥428.00"] for line in lines)
    assert any(line.split() == ["shipping", "discount", "-¥12.00"] for line in lines)
    assert "applied, saving ¥112.00 in all:" in out
    assert any(line.split()[-2:] == ["platform", "¥35.00"] and "跨店滿300減50" in line
               for line in lines)
    assert any(line.split() == ["merchant", "¥15.00"] for line in lines)
    assert "not_eligible:member_tier" in out and "only for customers with no earlier order" in out
    assert "d11-300-50: Add ¥22.00 more to save ¥50.00" in out
    assert "acme-every-300 (shop acme): Add ¥201.00 more to save ¥50.00" in out
    assert "optimal" not in out


def test_evaluate_gold_member_stacks_three_stages(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", D11, "--cart", write_cart(tmp_path, GOLD), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["total"], result["discount_total"]) == ("401.60", "138.40")
    assert [line["total"] for line in result["lines"]] == ["292.62", "108.98"]
    assert [a["promotion"] for a in result["applied"]] == [
        "gold-95", "acme-every-300", "d11-300-50", "ship-free-99"]


def test_evaluate_reads_the_cart_from_stdin(monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(RETURNING)))
    assert main(["evaluate", D11, "--cart", "-", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total"] == "428.00"


def test_evaluate_shows_rejected_codes(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    cart = {**RETURNING, "codes": ["D11-TYPO"]}
    assert main(["evaluate", D11, "--cart", write_cart(tmp_path, cart)]) == 0
    assert "D11-TYPO: code_invalid (no promotion accepts this code)" in capsys.readouterr().out


@pytest.mark.parametrize("content, expected", [
    ('{"currency": "CNY", "lines": [', "not valid JSON"),
    ("[1, 2]", "a cart must be a JSON object"),
])
def test_evaluate_bad_json_cart_is_invalid_input(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, expected: str) -> None:
    path = write_cart(tmp_path, content, "broken.json")
    assert main(["evaluate", D11, "--cart", path]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert path in captured.err and expected in captured.err
    assert "Traceback" not in captured.err


def test_evaluate_invalid_cart_lists_every_problem_by_path(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cart = {"currency": "CNY", "lines": [
        {"id": "l1", "sku": "A", "quantity": 0, "unit_price": "1.00"},
        {"id": "l2", "sku": "B", "quantity": 1, "unit_price": "-3.00"}]}
    path = write_cart(tmp_path, cart)
    assert main(["evaluate", D11, "--cart", path]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"promokit: invalid cart {path} (2 problems)"
    assert err[1].startswith(f"{path}: lines[0].quantity: ")
    assert err[2].startswith(f"{path}: lines[1].unit_price: ")


def test_evaluate_missing_cart_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(tmp_path / "nope.json")
    assert main(["evaluate", D11, "--cart", missing]) == 1
    assert capsys.readouterr().err == (f"promokit: cannot read cart {missing}: "
                                       "No such file or directory\n")


def test_evaluate_missing_campaign_file(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(tmp_path / "missing.toml")
    assert main(["evaluate", missing, "--cart", write_cart(tmp_path, RETURNING)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("promokit: cannot read ") and missing in err
    assert "No such file or directory" in err


def test_store_unavailable_exits_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    def unreachable(self: Engine, cart: object) -> PriceResult:
        raise StoreError("redis://cache:6379 refused the connection")

    monkeypatch.setattr(Engine, "evaluate", unreachable)
    assert main(["evaluate", D11, "--cart", write_cart(tmp_path, RETURNING)]) == 3
    captured = capsys.readouterr()
    assert captured.err == ("promokit: store unavailable: redis://cache:6379 refused "
                            "the connection\n")
    assert captured.out == ""


def test_plugin_error_exits_1_with_its_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    def broken(self: Engine, cart: object) -> PriceResult:
        raise PluginError("kind 'round_down' raised in compute: boom", plugin_name="testplugin")

    monkeypatch.setattr(Engine, "evaluate", broken)
    assert main(["evaluate", D11, "--cart", write_cart(tmp_path, RETURNING)]) == 1
    assert capsys.readouterr().err == (
        "promokit: plugin error: kind 'round_down' raised in compute: boom\n")


# -- validate ---------------------------------------------------------------------------


def test_validate_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", D11]) == 0
    assert capsys.readouterr().out == f"ok: 1 campaign, 14 promotions in {D11}\n"


BAD = """\
currency = "CNY"
timezone = "Asia/Shanghai"

[[promotion]]
id = "a"
kind = "percent_off"
percent = "150"

[[promotion]]
id = "b"
kind = "tiered_threshold"
tiers = [ { spend = "-300", off = "50" } ]
scop = { skus = ["X"] }
"""


def test_validate_lists_every_problem_with_file_and_path(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD, encoding="utf-8")
    assert main(["validate", str(bad)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.splitlines()
    assert err[0] == f"promokit: invalid campaign file {bad} (3 problems)"
    assert err[1] == f"{bad}: promotion[0].percent: must be in (0, 100], got 150"
    assert err[2] == f"{bad}: promotion[1].tiers[0].spend: '-300' is negative"
    assert err[3] == f"{bad}: promotion[1].scop: unknown key (did you mean 'scope'?)"


def test_validate_names_the_file_a_problem_is_in(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    extra = tmp_path / "extra.toml"
    extra.write_text('currency = "CNY"\ntimezone = "Asia/Shanghai"\njurisdiction = "cn"\n'
                     '[[promotion]]\nid = "x"\nkind = "percent_off"\npercent = "0"\n',
                     encoding="utf-8")
    assert main(["validate", D11, str(extra)]) == 1
    err = capsys.readouterr().err.splitlines()
    # promotion[13] of the merged set is the first promotion of extra.toml
    assert err[1] == f"{extra}: promotion[0].percent: must be in (0, 100], got 0"


def test_validate_unreadable_toml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("currency = \n", encoding="utf-8")
    assert main(["validate", str(broken)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"promokit: {broken}: not valid toml")
    assert err.count("\n") == 1


def test_validate_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "missing.toml")]) == 1
    assert "missing.toml: No such file or directory" in capsys.readouterr().err


def test_blocking_a_kind_makes_files_using_it_invalid(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--block", "promokit.plugins.kinds.member_price", "validate", D11]) == 1
    assert "promotion[0].kind: unknown kind 'member_price'" in capsys.readouterr().err


# -- usage --------------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["bogus"], [], ["evaluate", D11], ["validate"]])
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "usage: promokit" in capsys.readouterr().err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("evaluate", "validate", "plugins", "demo"):
        assert command in out
    assert "3 store unavailable" in out


# -- plugins ------------------------------------------------------------------------------


def test_plugins_lists_builtins_and_the_installed_test_plugin(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert "built-in" in rows["promokit.plugins.kinds.percent_off"]
    assert "kinds: percent_off" in rows["promokit.plugins.kinds.percent_off"]
    assert "member_tier" in out
    assert "promokit-testplugin" in rows["testplugin"]


def test_plugins_lists_games_store_schemes_and_guards_with_their_distribution(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert "games: lottery" in rows["promokit.plugins.games.lottery"]
    assert f"built-in (promokit {promokit.__version__})" in rows["promokit.plugins.games.lottery"]
    stores = out[out.index("promokit.plugins.stores"):out.index("testplugin")]
    assert "stores: memory://" in stores and "sqlite://" in stores and "redis://" in stores
    assert "guards: no_tobacco" in out[out.index("testplugin"):]
    assert "15 kinds, 10 conditions, 5 games, 6 store schemes, 1 guard" in out


@pytest.mark.parametrize("argv", [["--no-plugins", "plugins"], ["plugins", "--no-plugins"]])
def test_no_plugins_leaves_out_entry_points(argv: list[str],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "testplugin" not in out
    assert "percent_off" in out


def test_blocked_plugins_are_listed_as_blocked(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--block", "testplugin", "plugins", "--block",
                 "promokit.plugins.kinds.amount_off"]) == 0
    rows = {line.split()[0]: line.split()[1:] for line in
            capsys.readouterr().out.splitlines() if line.strip()}
    assert rows["testplugin"][0] == "blocked"
    assert rows["promokit.plugins.kinds.amount_off"][0] == "blocked"


# -- render_result ------------------------------------------------------------------------


def test_render_result_flags_a_heuristic_answer_and_deposits() -> None:
    result = PriceResult(
        currency="JPY", subtotal=Decimal(5000), discount_total=Decimal(500),
        shipping_discount=Decimal(0), shipping=Decimal(0), total=Decimal(4500),
        balance_due=Decimal(3500),
        lines=(LineResult(id="l1", sku="カメラ", quantity=1, unit_price=Decimal(5000),
                          subtotal=Decimal(5000),
                          discounts=(LineDiscount(promotion="p", amount=Decimal(500)),),
                          total=Decimal(4500), deposit_paid=Decimal(1000)),),
        applied=(Applied(promotion="p", stage="item", amount=Decimal(500),
                         funding=(("brand", Decimal(500)),)),),
        rejected_codes=(RejectedCode(code="X", reason="code_invalid", message="nope"),),
        optimal=False)
    text = render_result(result)
    lines = text.splitlines()
    assert lines[2].split() == ["l1", "カメラ", "1", "¥5,000", "¥5,000", "-¥500", "¥4,500"]
    assert any(line.split() == ["deposits", "paid", "-¥1,000"] for line in lines)
    assert any(line.split() == ["balance", "due", "¥3,500"] for line in lines)
    assert "applied, saving ¥500 in all:" in text
    assert "X: code_invalid (nope)" in text
    assert "not proven optimal" in text


# -- demo ---------------------------------------------------------------------------------


def test_demo_tells_the_d11_story(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    for phrase in (
        "小美, a gold member",
        "platform   ¥35.00",                                # 跨店滿減 funded 70/30
        "not_eligible:channel",                             # the web cart
        "d11-300-50: Add ¥28.00 more to save ¥50.00",  # ¥28 short
        "flash-blender  out_of_window",                     # 02:30
        "D11-7KQ2-XM9B: code_invalid",                      # the mistyped code
        "新人無門檻券¥20",
    ):
        assert phrase in out, phrase
    assert max(display_width(line) for line in out.splitlines()) <= 100
    steps = demo_steps(out)
    assert list(steps) == ["1", "2", "3", "4a", "4b", "5", "6", "7", "8", "9", "10", "11",
                           "12", "13", "14", "15", "16", "17"]
    # The catalogue's promotions are scoped to their own SKUs, categories and shops:
    # the carts of steps 1 to 5 do not even list them.
    for number in ("1", "2", "3", "4a", "4b", "5"):
        for promotion in ("socks-2nd-half", "tees-buy2-get1", "phone-buds", "beauty-2-3",
                          "sockhaus-gift-99", "tv-presale-x2", "sockhaus-points-x2"):
            assert promotion not in steps[number], (number, promotion)


def test_demo_checks_out_pays_refunds_and_replays(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    steps = demo_steps(capsys.readouterr().out)
    # 8: the flash blender at 00:05 (step 4a): 99.00, shipping free (>= 99); the flash sale
    #    is in campaign d11, funded by the merchant: 399 − 99 = 300.00 of d11's budget.
    assert "checkout SO-D11-0001: reserved, total ¥99.00" in steps["8"]
    assert re.search(r"spent:campaign:d11 +30000 +50000000", steps["8"])
    assert "Flash-sale stock left: 499 of 500." in steps["8"]
    # 9: one per customer: 399.00 − 50.00 (跨店滿300減50) = 349.00
    assert "total ¥349.00; flash-blender: limit_reached" in steps["9"]
    assert "release SO-D11-0002: released" in steps["9"]
    # 10: step 1 paid 401.60. The lamp's line: 129 − 6.45 (95折) = 122.55, less its share
    #    of 跨店 50.00 by net 122.55/451.60 → 13.57: 108.98 proportionally. Re-evaluated,
    #    the shoes alone: 399 − 19.95 = 379.05, 每滿300減50 → 329.05, 跨店滿300減50 → 279.05,
    #    shipping free: she gets 401.60 − 279.05 = 122.55.
    assert "paid ¥401.60" in steps["10"]
    assert "proportional (the lamp's allocated net):        ¥108.98" in steps["10"]
    assert "reevaluate (re-price what she keeps):           ¥122.55" in steps["10"]
    assert "(¥279.05)" in steps["10"]
    # 11: the ledger: 2 + 4 redemptions and the 95折 given back on the lamp (6.45)
    assert steps["11"].count("  redemption  ") == 6 and steps["11"].count("  reversal  ") == 1
    assert "-¥6.45" in steps["11"] and "matches the record" in steps["11"]


#: Demo step 6, 小王's haul (app, 8 earlier orders, no tier), hand-priced under d11.toml:
#:   item      socks-2nd-half: 4 × 49.00 in two pairs, 24.50 off each: 49.00    socks 147.00
#:             tees-buy2-get1: 3 × 79.00 make one group, one tee free: 79.00    tees  158.00
#:             beauty-2-3: 3 units reach 滿3件8折: 237.00 × 20% = 47.40, by net:
#:             lipsticks 178/237 → 35.60, mask 59/237 → 11.80     lipsticks 142.40, mask 47.20
#:             (each unit is consumed by one quantity deal: the scopes do not overlap)
#:   shop      sockhaus-gift-99: sockhaus 147.00 + 158.00 = 305.00 >= 99: one 暖冬襪禮盒
#:   platform  d11-300-50 on the apparel (beauty is out of its scope): 305.00 >= 300: 50,
#:             by net 50 × 147/305 = 24.098 and 50 × 158/305 = 25.902; 24.09 + 25.90 leave
#:             a cent for the larger remainder: socks 24.10, tees 25.90
#:                                                                 socks 122.90, tees 132.10
#:             funded 70/30 by the campaign: platform 35.00, merchant 15.00
#:   shipping  ship-free-99: 444.60 >= 99, the 12.00 shipping is free
#:             sockhaus-points-x2: ⌊122.90 + 132.10⌋ × 2 = 510 points
#:   total 122.90 + 132.10 + 142.40 + 47.20 = 444.60 (subtotal 670.00 − 225.40);
#:   discount_total 49 + 79 + 47.40 + 50 + 12 = 237.40
#:   hint      d11-300-50: 500 − 305 = 195.00 more for 50 more
#:
#: Demo step 7, 小紅's cart in zh-CN (app, 4 earlier orders):
#:   item      phone-buds: 3999 + 999 = 4998.00 for 4599: 399.00, by net
#:             399 × 3999/4998 = 319.248 and 399 × 999/4998 = 79.752; 319.24 + 79.75
#:             leave a cent for the larger remainder: phone 319.25, buds 79.75
#:                                                                phone 3679.75, buds 919.25
#:             tv-presale-x2: deposit 300 × (2 − 1) = 300, capped at 200           TV 4799.00
#:   shop      sockhaus-gift-99: 79.00 < 99, below_threshold; hint 20.00 (<= 0.5 × 99)
#:   platform  d11-300-50: apparel 79 + 199 = 278 < 300, below_threshold; hint 22.00
#:   shipping  ship-free-99: the 12.00 is free; points ⌊79.00⌋ × 2 = 158
#:   total 79 + 199 + 3679.75 + 919.25 + 4799 = 9676.00; balance due 9676 − 300 = 9376.00
def test_demo_prices_the_catalogue_by_hand(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    steps = demo_steps(capsys.readouterr().out)
    haul = steps["6"]
    rows = [line.split() for line in haul.splitlines()]
    assert "a unit counts for one deal at most" in haul
    assert ["l1", "SOCK-MERINO", "4", "¥49.00", "¥196.00", "-¥73.10", "¥122.90"] in rows
    assert ["l2", "TEE-BASIC", "3", "¥79.00", "¥237.00", "-¥104.90", "¥132.10"] in rows
    assert ["l3", "LIPSTICK-1", "2", "¥89.00", "¥178.00", "-¥35.60", "¥142.40"] in rows
    assert ["l4", "MASK-1", "1", "¥59.00", "¥59.00", "-¥11.80", "¥47.20"] in rows
    for discount in (["socks-2nd-half", "-¥49.00"], ["tees-buy2-get1", "-¥79.00"],
                     ["d11-300-50", "-¥24.10"], ["d11-300-50", "-¥25.90"]):
        assert discount in rows, discount
    assert ["total", "¥444.60"] in rows
    assert "applied, saving ¥237.40 in all:" in haul
    assert "d11-300-50: Add ¥195.00 more to save ¥50.00" in haul
    assert "sockhaus-points-x2: 510 points" in haul
    assert "sockhaus-gift-99: 1 x GIFT-SOCKBOX 暖冬襪禮盒 (worth ¥29.00 each)" in haul

    zh = steps["7"]
    rows = [line.split() for line in zh.splitlines()]
    assert ["l3", "PHONE-1", "1", "¥3,999.00", "¥3,999.00", "-¥319.25", "¥3,679.75"] in rows
    assert ["l5", "TV-65", "1", "¥4,999.00", "¥4,999.00", "-¥200.00", "¥4,799.00"] in rows
    assert ["total", "¥9,676.00"] in rows
    assert ["deposits", "paid", "-¥300.00"] in rows
    assert ["balance", "due", "¥9,376.00"] in rows
    assert "需3件参与商品，购物车中有1件" in zh                   # tees-buy2-get1
    assert "满¥99.00赠暖冬襪禮盒，参与商品目前¥79.00" in zh      # the gift, short of ¥99
    assert "仅限新客（首单）" in zh
    assert "d11-300-50: 再买¥22.00可减¥50.00" in zh
    assert "sockhaus-gift-99 (shop sockhaus): 再买¥20.00可获赠暖冬襪禮盒" in zh
    assert "sockhaus-points-x2: 158 points" in zh


def test_demo_is_deterministic(capsys: pytest.CaptureFixture[str]) -> None:
    main(["demo"])
    first = capsys.readouterr().out
    main(["demo"])
    assert capsys.readouterr().out == first


def test_demo_campaigns_are_the_example_file() -> None:
    embedded = resources.files("promokit.demo").joinpath("campaigns.toml")
    assert embedded.read_text(encoding="utf-8") == Path(D11).read_text(encoding="utf-8")


class Terminal(io.StringIO):
    """Standard output that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_tables_are_coloured_on_a_terminal_unless_no_color(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # issue 13, fault 9: rich colours the tables when a terminal is attached ...
    cart = write_cart(tmp_path, RETURNING)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    assert main(["evaluate", D11, "--cart", cart]) == 0
    assert "\x1b[1mline\x1b[0m" in terminal.getvalue()  # a bold header
    # ... and never with NO_COLOR set (https://no-color.org)
    monkeypatch.setenv("NO_COLOR", "1")
    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    assert main(["evaluate", D11, "--cart", cart]) == 0
    assert "\x1b" not in terminal.getvalue()


def test_piped_tables_are_plain_text_whatever_the_terminal_width(tmp_path: Path) -> None:
    # a pipe gets no escape codes, no trailing spaces, and lines as wide as the table
    # needs: not wrapped to COLUMNS, which rich would otherwise follow
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "40", "TERM": "xterm",
           "FORCE_COLOR": "1"}
    env.pop("NO_COLOR", None)
    done = subprocess.run([sys.executable, "-m", "promokit", "evaluate", D11, "--cart",
                           write_cart(tmp_path, RETURNING)], capture_output=True, text=True,
                          encoding="utf-8", env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "\x1b" not in done.stdout and all(line == line.rstrip() for line in lines)
    assert ["l1", "SHOE-1", "1", "¥399.00", "¥399.00", "-¥86.51", "¥312.49"] in (
        line.split() for line in lines)
    assert max(display_width(line) for line in lines) > 40


def test_python_dash_m_promokit_demo_runs() -> None:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run([sys.executable, "-m", "promokit", "demo"], capture_output=True,
                          text=True, encoding="utf-8", env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "1. 小美, a gold member" in done.stdout
    assert "17. After the draw" in done.stdout
    assert done.stderr == ""


def test_nested_json_and_huge_numbers_in_a_cart_are_clear_errors(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name, text in (("deep.json", "[" * 100_000 + "]" * 100_000),
                       ("digits.json", '{"currency": "CNY", "lines": [], "shipping": '
                                       + "9" * 5_000 + "}")):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        assert main(["evaluate", D11, "--cart", str(path)]) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"promokit: invalid cart {path}") and "Traceback" not in err


def test_a_customer_that_is_not_json_is_named_as_a_customer(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["game", "play", "koi", "draw", GAMES, "--store", "memory://",
                 "--customer-json", "{nope"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("promokit: invalid customer (1 problem)")
