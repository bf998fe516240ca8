"""The store commands of the CLI: checkout → commit → refund → ledger → replay,
coupon codes, and the exit codes of bad input and unreachable stores."""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import pytest
from campaigns import d11_shop

from promokit import open_store
from promokit.cli import main

SHOP = d11_shop(funding=True, flash_limits="stock = 3, per_customer = 1") + '''
[[promotion]]
id = "new-20"
kind = "order_amount_off"
amount = "20"

[[coupon]]
id = "new"
promotion = "new-20"
count = 4
prefix = "NEW"

[[coupon]]
id = "partner"
promotion = "new-20"
external = true
'''

CART = {"currency": "CNY", "customer": {"id": "c1"},  # checkout prices at the clock: no now
        "lines": [{"id": "l1", "sku": "SHOE", "quantity": 2, "unit_price": "150.00"},
                  {"id": "l2", "sku": "BLENDER", "quantity": 1, "unit_price": "199.00"}]}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "shop.toml").write_text(SHOP, encoding="utf-8")
    (tmp_path / "cart.json").write_text(json.dumps(CART), encoding="utf-8")
    return {"shop": str(tmp_path / "shop.toml"), "cart": str(tmp_path / "cart.json"),
            "store": f"sqlite:///{tmp_path / 'promokit.db'}", "dir": str(tmp_path)}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["--no-plugins", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_an_order_from_checkout_to_refund(files: dict[str, str],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    store = files["store"]
    code, out, _ = run(capsys, "checkout", files["shop"], "--cart", files["cart"],
                       "--order", "SO-1", "--store", store)
    assert code == 0 and out.startswith("order SO-1: reserved, expires ")
    assert "total         ¥349.00" in out
    code, out, _ = run(capsys, "checkout", files["shop"], "--cart", files["cart"],
                       "--order", "SO-1", "--store", store, "--json")
    assert code == 0 and json.loads(out)["result"]["total"] == "349.00"
    assert run(capsys, "commit", "SO-1", "--store", store)[1] == (
        "order SO-1: committed\n  total ¥349.00, 2 promotion(s) held\n")
    code, out, _ = run(capsys, "refund", "SO-1", "--refund-id", "RF-1", "--units", "l1=1",
                       "--store", store)
    assert code == 0 and out.splitlines() == [
        "refund RF-1 of order SO-1 (proportional): l1×1", "  pay back ¥131.21",
        "  reversed d11-300-50: ¥18.80"]
    code, out, _ = run(capsys, "refund", "SO-1", "--refund-id", "RF-2", "--policy",
                       "reevaluate", "--store", store, "--json")
    assert code == 0 and json.loads(out)["amount"] == "217.79"
    code, out, _ = run(capsys, "ledger", "--store", store, "--format", "csv")
    rows = out.splitlines()
    assert rows[0].startswith("entry_id,at,order_id,kind,refund_id,promotion")
    assert [row.split(",")[10] for row in rows[1:]] == ["100.00", "50.00", "-18.80",
                                                        "-100.00", "-31.20"]
    code, out, _ = run(capsys, "ledger", "--store", store, "--format", "jsonl",
                       "--promotion", "flash")
    assert [json.loads(line)["amount"] for line in out.splitlines()] == ["100.00", "-100.00"]
    out_file = Path(files["dir"]) / "ledger.csv"
    assert run(capsys, "ledger", "--store", store, "--out", str(out_file),
               "--format", "csv")[1] == f"wrote 5 ledger entries to {out_file}\n"
    code, out, _ = run(capsys, "ledger", "--store", store, "--order", "SO-1")
    assert code == 0 and out.rstrip().endswith("5 ledger entries")
    code, out, _ = run(capsys, "replay", "SO-1", "--store", store)
    assert code == 0 and out.splitlines()[-1] == (
        "replayed: total ¥349.00, 2 promotion(s): matches the record")


def test_the_ledger_writes_one_time_format_and_one_money_format(
        files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    # issue 13, fault 9: times were "+0800", "+0000" and naive; money "300.00 CNY"
    store = files["store"]
    run(capsys, "checkout", files["shop"], "--cart", files["cart"], "--order", "SO-1",
        "--store", store)
    run(capsys, "commit", "SO-1", "--store", store)
    run(capsys, "refund", "SO-1", "--refund-id", "RF-1", "--units", "l1=1", "--store", store)
    offset = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+08:00"  # the shop's timezone
    code, out, _ = run(capsys, "ledger", "--store", store)
    assert code == 0
    header, _, *rows, count = out.splitlines()
    assert header.split() == ["time", "order", "kind", "promotion", "customer", "amount",
                              "funding", "units"]
    assert count == "3 ledger entries"
    assert all(re.fullmatch(offset, row.split()[0]) for row in rows), rows
    # the amounts are right-aligned: each ends where the "amount" header ends
    end = header.index("amount") + len("amount")
    amounts = ["¥100.00", "¥50.00", "-¥18.80"]
    assert [row[end - len(amount):end] for row, amount in zip(rows, amounts, strict=True)] \
        == amounts
    assert [row[end - len(amount) - 1] for row, amount in zip(rows, amounts, strict=True)] \
        == [" "] * 3
    assert rows[1].split()[-5:] == ["platform", "¥35.00,", "merchant", "¥15.00", "3"]
    assert len({len(row) for row in [header, *rows]}) == 1  # units right-aligned too
    # the exports: ISO 8601 with the offset, money as DESIGN §5 strings
    code, out, _ = run(capsys, "ledger", "--store", store, "--format", "csv")
    assert code == 0
    assert all(re.fullmatch(offset, row.split(",")[1]) for row in out.splitlines()[1:])
    code, out, _ = run(capsys, "ledger", "--store", store, "--format", "jsonl")
    assert code == 0
    assert all(re.fullmatch(offset, json.loads(line)["at"]) for line in out.splitlines())
    out = run(capsys, "commit", "SO-1", "--store", store, "--json")[1]
    order = json.loads(out)
    assert all(re.fullmatch(offset, order[key]) for key in ("created_at", "committed_at"))
    assert [use["amount"] for use in order["uses"]] == ["100.00", "50.00"]


def test_a_ledger_written_to_a_file_from_a_terminal_is_plain(
        files: dict[str, str], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    run(capsys, "checkout", files["shop"], "--cart", files["cart"], "--order", "SO-1",
        "--store", files["store"])
    run(capsys, "commit", "SO-1", "--store", files["store"])
    monkeypatch.setattr(sys, "stdout", Terminal())
    out_file = Path(files["dir"]) / "ledger.txt"
    assert main(["ledger", "--store", files["store"], "--out", str(out_file)]) == 0
    assert "\x1b" not in out_file.read_text(encoding="utf-8")
    assert main(["ledger", "--store", files["store"]]) == 0
    assert "\x1b[" in sys.stdout.getvalue()  # on the terminal itself, a coloured header


def test_release_and_sweep(files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    store = files["store"]
    run(capsys, "checkout", files["shop"], "--cart", files["cart"], "--order", "SO-1",
        "--store", store, "--ttl", "600")
    assert run(capsys, "release", "SO-1", "--store", store)[1].startswith(
        "order SO-1: released")
    assert run(capsys, "sweep", "--store", store)[1] == "expired 0 reservation(s)\n"


@pytest.mark.parametrize(("argv", "exit_code", "message"), [
    (["commit", "NOPE"], 1, "no order 'NOPE' in the store"),
    (["refund", "NOPE", "--refund-id", "R", "--units", "l1"], 1, "--units: 'l1' is not LINE=N"),
    (["ledger", "--since", "yesterday"], 1, "--since: 'yesterday' is not an ISO 8601 time"),
    (["ledger", "--since", "2026-11-11T00:00:00"], 1, "needs an offset"),
])
def test_bad_store_command_input(files: dict[str, str], capsys: pytest.CaptureFixture[str],
                                 argv: list[str], exit_code: int, message: str) -> None:
    open_store(files["store"]).close()  # the store exists, and is empty
    code, _, err = run(capsys, *argv, "--store", files["store"])
    assert code == exit_code and message in err and "Traceback" not in err


@pytest.mark.parametrize(("store", "exit_code", "message"), [
    ("bogus", 2, "bad store URL: 'bogus' is not a store URL"),
    ("ftp://x/y", 2, "no store backend for ftp://"),
    ("sqlite:///db?fast=1", 2, "unknown option(s) fast"),
    ("redis://:secret@127.0.0.1:1/0", 3, "store unavailable: cannot reach Redis"),
])
def test_bad_or_unreachable_stores(capsys: pytest.CaptureFixture[str], store: str,
                                   exit_code: int, message: str) -> None:
    code, _, err = run(capsys, "commit", "SO-1", "--store", store)
    assert code == exit_code and message in err and "secret" not in err


def test_a_store_is_required(capsys: pytest.CaptureFixture[str],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMOKIT_STORE", raising=False)
    code, _, err = run(capsys, "ledger")
    assert code == 2 and "pass --store URL or set PROMOKIT_STORE" in err


def test_coupons_generate_and_import(files: dict[str, str],
                                     capsys: pytest.CaptureFixture[str]) -> None:
    out_file = Path(files["dir"]) / "codes.csv"
    code, out, _ = run(capsys, "coupons", "generate", files["shop"], "--batch", "new",
                       "--out", str(out_file), "--store", files["store"])
    assert code == 0 and out.startswith("wrote 4 code(s) of batch new")
    codes = [row.split(",")[0] for row in out_file.read_text().splitlines()[1:]]
    assert len(codes) == 4 and all(c.startswith("NEW-") for c in codes)
    cart = dict(CART, codes=[codes[0].lower()])
    Path(files["cart"]).write_text(json.dumps(cart), encoding="utf-8")
    code, out, _ = run(capsys, "evaluate", files["shop"], "--cart", files["cart"], "--json")
    # evaluate without a store: the code is not found in the empty in-memory one
    assert code == 0 and json.loads(out)["rejected_codes"][0]["reason"] == "code_invalid"
    code, out, _ = run(capsys, "evaluate", files["shop"], "--cart", files["cart"], "--json",
                       "--store", files["store"])
    assert json.loads(out)["total"] == "329.00"
    code, out, _ = run(capsys, "checkout", files["shop"], "--cart", files["cart"], "--order",
                       "SO-1", "--store", files["store"], "--json")
    assert json.loads(out)["result"]["total"] == "329.00"
    # stdout when no --out; nothing registered without --store
    code, out, _ = run(capsys, "coupons", "generate", files["shop"], "--batch", "new",
                       "--count", "2")
    assert code == 0 and len(out.splitlines()) == 3
    partner = Path(files["dir"]) / "partner.csv"
    partner.write_text("code\nP-0001\np 0002\n", encoding="utf-8")
    code, out, _ = run(capsys, "coupons", "import", files["shop"], "--batch", "partner",
                       "--file", str(partner), "--store", files["store"])
    assert (code, out) == (0, "imported 2 code(s) into batch partner (0 already there)\n")
    opened = open_store(files["store"])
    assert set(opened.find_codes(["P0001", "P0002"])) == {"P0001", "P0002"}
    opened.close()


def test_bad_coupon_commands_register_nothing(files: dict[str, str],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    bad = Path(files["dir"]) / "bad.csv"
    bad.write_text("code\nNEW-AAAA-AAAA-AAAA-A\n\n", encoding="utf-8")
    code, _, err = run(capsys, "coupons", "import", files["shop"], "--batch", "new",
                       "--file", str(bad), "--store", files["store"])
    assert code == 1 and f"{bad}:2: 'NEWAAAAAAAAAAAAA' fails its check character" in err
    assert run(capsys, "coupons", "generate", files["shop"], "--batch", "nope")[2].endswith(
        "--batch: no coupon batch 'nope' (batches: new, partner)\n")
    assert "is external" in run(capsys, "coupons", "generate", files["shop"], "--batch",
                                "partner", "--count", "1")[2]
    store = open_store(files["store"])
    store.add_codes("partner", ["CLASH1"], 1)
    store.close()
    clash = Path(files["dir"]) / "clash.csv"
    clash.write_text("CLASH1\nFRESH1\n", encoding="utf-8")
    code, _, err = run(capsys, "coupons", "import", files["shop"], "--batch", "new",
                       "--file", str(clash), "--store", files["store"])
    assert code == 1 and "fails its check character" in err


# -- issue 13: what a user typing the wrong thing sees -----------------------------------


@pytest.mark.parametrize("ttl", ["0", "-5", "nan", "inf", "soon"])
def test_a_bad_ttl_is_a_usage_error_not_a_traceback(files: dict[str, str], ttl: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "checkout", files["shop"], "--cart", files["cart"], "--order",
                       "SO-1", "--store", files["store"], f"--ttl={ttl}")
    assert code == 2 and "is not a positive number of seconds" in err
    assert "Traceback" not in err


def test_errors_name_what_was_wrong_not_invalid_cart(files: dict[str, str],
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    store = files["store"]
    assert run(capsys, "checkout", files["shop"], "--cart", files["cart"], "--order", "SO-1",
               "--store", store)[0] == 0
    assert run(capsys, "commit", "SO-1", "--store", store)[0] == 0
    code, _, err = run(capsys, "refund", "SO-1", "--refund-id", "R1", "--units", "l9=1",
                       "--store", store)
    assert code == 1
    assert err.splitlines() == ["promokit: invalid refund (1 problem)",
                                "refund: units.l9: no such line"]
    bad = Path(files["dir"]) / "empty.csv"
    bad.write_text("", encoding="utf-8")
    code, _, err = run(capsys, "coupons", "import", files["shop"], "--batch", "partner",
                       "--file", str(bad), "--store", store)
    assert code == 1 and err.startswith("promokit: invalid codes file (1 problem)")
    assert "invalid cart" not in err


def test_a_sqlite_url_with_a_host_says_how_to_write_one(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "ledger", "--store", "sqlite://:memory:")
    assert code == 2 and "sqlite:///relative/path.db" in err and "memory://" in err


def test_an_unexpected_error_is_one_line_not_a_traceback(
        files: dict[str, str], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.delenv("PROMOKIT_DEBUG", raising=False)
    monkeypatch.setattr("promokit.cli.store.open_store", broken)
    code, _, err = run(capsys, "commit", "SO-1", "--store", files["store"])
    assert code == 1 and len(err.splitlines()) == 1
    assert err.startswith("promokit: internal error (RuntimeError: boom); this is a bug")


@pytest.mark.parametrize("argv", [["ledger"], ["commit", "SO-1"], ["sweep"], ["replay", "SO-1"]])
def test_reading_commands_never_create_a_store_of_a_mistyped_url(
        files: dict[str, str], capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    typo = files["store"].replace("promokit.db", "promokit.bd")
    code, _, err = run(capsys, *argv, "--store", typo)
    assert code == 2 and "there is no promokit store here (nothing was created)" in err
    assert not (Path(files["dir"]) / "promokit.bd").exists()
