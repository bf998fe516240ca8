"""``promokit serve`` over real HTTP on loopback: the order flow, a game, coupons,
every class of bad input (a problem document, nothing written), keys and scopes,
reloads, and the OpenAPI document."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import backends
from openapi_spec_validator import validate as validate_spec

from promokit.cli import main
from promokit.errors import StoreUnavailable
from promokit.service import EngineHolder, ServiceConfig, hash_key, load_keys
from promokit.service.keys import KeysError

from .conftest import CAMPAIGNS, KEYS, Service, free_port, keys_file

CART = {"currency": "CNY", "customer": {"id": "c1"},
        "lines": [{"id": "l1", "sku": "TEA-1", "quantity": 2, "unit_price": "120.00"},
                  {"id": "l2", "sku": "CUP-1", "quantity": 1, "unit_price": "60.00"}]}

PROBLEM = "application/problem+json"


def problem(response: httpx.Response, status: int, reason: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["reason"] == reason
    assert {"type", "title", "detail", "problems"} <= set(body)
    return body


# -- the document ---------------------------------------------------------------------


def test_the_openapi_document_is_valid_and_covers_every_route(service: Service) -> None:
    document = httpx.get(f"{service.url}/schema/openapi.json").json()
    validate_spec(document)
    operations = {(method.upper(), path) for path, item in document["paths"].items()
                  for method in item}
    assert {("POST", "/v1/evaluate"), ("POST", "/v1/orders/{order_id}/checkout"),
            ("POST", "/v1/orders/{order_id}/commit"), ("POST", "/v1/orders/{order_id}/release"),
            ("POST", "/v1/orders/{order_id}/refunds/{refund_id}"), ("POST", "/v1/sweep"),
            ("GET", "/v1/ledger"), ("GET", "/v1/orders/{order_id}/replay"),
            ("GET", "/v1/rules"), ("POST", "/v1/validate"), ("GET", "/v1/games"),
            ("POST", "/v1/games/{game_id}/actions/{action}"), ("GET", "/v1/games/{game_id}/rules"),
            ("POST", "/v1/games/{game_id}/reveal"), ("GET", "/v1/games/{game_id}/log"),
            ("POST", "/v1/coupons/try"), ("POST", "/v1/coupons/{batch_id}/generate"),
            ("POST", "/v1/coupons/{batch_id}/import"), ("GET", "/healthz"),
            ("GET", "/readyz")} <= operations
    cart = document["components"]["schemas"]["Cart"]
    assert {"currency", "lines"} <= set(cart["required"])
    evaluate = document["paths"]["/v1/evaluate"]["post"]
    assert evaluate["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Cart"}
    assert PROBLEM in evaluate["responses"]["422"]["content"]


def test_health_and_readiness(service: Service) -> None:
    with service.client() as client:  # no key needed
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz").json()
        assert ready["status"] == "ready" and len(ready["campaign_version"]) == 64


def test_readiness_fails_when_the_store_does_not_answer(
        service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    holder: EngineHolder = service.app.state["holder"]

    def down(order_id: str) -> None:
        raise StoreUnavailable("connection refused")

    monkeypatch.setattr(holder.engine.store, "order", down)
    with service.client() as client:
        body = problem(client.get("/readyz"), 503, "store_unavailable")
        assert "connection refused" in body["detail"]
        assert client.get("/healthz").status_code == 200  # alive, not ready
    with service.client("checkout") as client:  # what needs the store says so too
        problem(client.post("/v1/orders/SO-X/commit"), 503, "store_unavailable")


# -- orders ---------------------------------------------------------------------------


def test_an_order_from_checkout_through_commit_to_refund(service: Service) -> None:
    order_flow(service)


@backends("redis", "postgres")  # the module's service runs on SQLite
def test_the_order_flow_on_the_shared_stores(tmp_path: Path, store_url: str) -> None:
    on_server = Service(tmp_path, store_url=store_url)
    on_server.start()
    try:
        order_flow(on_server)
    finally:
        on_server.stop()


def order_flow(service: Service) -> None:
    """evaluate, checkout (twice), commit (twice), a partial and a full refund, the
    ledger paged, replay, and a release that does not fit; then the store's row."""
    with service.client("checkout") as client, service.client("admin") as admin:
        priced = client.post("/v1/evaluate", json=CART)
        assert priced.status_code == 200
        result = priced.json()
        assert (result["subtotal"], result["discount_total"], result["total"]) == (
            "300.00", "30.00", "270.00")

        reserved = client.post("/v1/orders/SO-1/checkout", json=CART).json()
        assert reserved["status"] == "reserved" and reserved["result"] == result
        assert "Idempotent-Replayed" not in client.get("/v1/orders/SO-1").headers
        repeat = client.post("/v1/orders/SO-1/checkout", json=CART)
        assert repeat.headers["Idempotent-Replayed"] == "true"  # idempotent by order id
        assert repeat.json()["result"] == result
        assert client.get("/v1/orders/SO-1").json()["status"] == "reserved"

        committed = client.post("/v1/orders/SO-1/commit").json()
        assert committed["status"] == "committed"
        assert client.post("/v1/orders/SO-1/commit").json()["status"] == "committed"

        part = client.post("/v1/orders/SO-1/refunds/R-1", json={"units": {"l1": 1}}).json()
        assert part["amount"] == "108.00" and part["units"] == {"l1": 1}
        rest = client.post("/v1/orders/SO-1/refunds/R-2").json()  # everything left
        assert rest["units"] == {"l1": 1, "l2": 1}
        assert json.loads(json.dumps(part)) == client.post(
            "/v1/orders/SO-1/refunds/R-1", json={"units": {"l1": 1}}).json()  # a repeat

        first = admin.get("/v1/ledger", params={"order": "SO-1", "limit": 1}).json()
        assert len(first["entries"]) == 1 and first["next_cursor"] == "1"
        pages = [first]
        while pages[-1]["next_cursor"]:
            pages.append(admin.get("/v1/ledger", params={
                "order": "SO-1", "limit": 1, "cursor": pages[-1]["next_cursor"]}).json())
        kinds = [e["kind"] for page in pages for e in page["entries"]]
        assert kinds.count("redemption") == 1 and kinds.count("reversal") == 2
        replayed = admin.get("/v1/orders/SO-1/replay").json()
        assert replayed["matches"] is True and replayed["result"]["total"] == "270.00"

        # release after commit does not fit the order
        problem(client.post("/v1/orders/SO-1/release"), 409, "order_conflict")

    store = service.store()
    try:
        row = store.order("SO-1")
        assert row is not None and json.loads(row.body)["status"] == "refunded"
    finally:
        store.close()


def test_release_and_sweep(service: Service) -> None:
    with service.client("checkout") as client, service.client("admin") as admin:
        assert client.post("/v1/orders/SO-R/checkout", json=CART).json()["status"] == "reserved"
        assert client.post("/v1/orders/SO-R/release").json()["status"] == "released"
        swept = admin.post("/v1/sweep", params={"limit": 10}).json()
        assert swept == {"expired": [], "quarantined": []}


def test_checkout_runs_on_the_service_clock_not_the_clients(service: Service) -> None:
    with service.client("checkout") as client:
        cart = {**CART, "now": "2020-01-01T00:00:00+08:00"}
        body = problem(client.post("/v1/orders/SO-T/checkout", json=cart), 422, "invalid_cart")
        assert body["problems"][0]["path"] == "now"
    assert_not_written(service, "SO-T")


# -- a game, coupons, rules -------------------------------------------------------------


def test_a_lottery_played_over_http(service: Service) -> None:
    with service.client("price") as price, service.client("checkout") as player, \
            service.client("admin") as admin:
        listed = price.get("/v1/games").json()
        assert [(g["id"], g["kind"]) for g in listed] == [("koi", "lottery")]
        assert "draw" in listed[0]["actions"]
        assert "50元券" in price.get("/v1/games/koi/rules").json()["text"]
        opened = player.post("/v1/games/koi/actions/open", json={}).json()
        drawn = player.post("/v1/games/koi/actions/draw",
                            json={"customer": {"id": "c9"}, "args": {"client_seed": "lucky"}})
        assert drawn.status_code == 200, drawn.text
        assert drawn.json()["client_seed"] == "lucky"
        state = player.post("/v1/games/koi/actions/state", json={"customer": {"id": "c9"}})
        assert state.json()["draws"] == 1
        problem(player.post("/v1/games/koi/actions/fly", json={}), 404, "unknown_action")
        problem(player.post("/v1/games/nope/actions/draw", json={}), 404, "unknown_game")
        problem(player.post("/v1/games/koi/reveal"), 403, "forbidden_scope")
        revealed = admin.post("/v1/games/koi/reveal").json()
        assert revealed["commitment"] == opened["commitment"] and revealed["draws"] == 1
        log = admin.get("/v1/games/koi/log")
        assert log.headers["content-type"].startswith("application/x-ndjson")
        assert len(log.text.splitlines()) == 2  # the header and one draw
        refused = problem(player.post("/v1/games/koi/actions/draw",
                                      json={"customer": {"id": "c9"}}), 409, "revealed")
        assert "koi" in refused["detail"]


def test_coupon_codes(service: Service) -> None:
    with service.client("admin") as admin, service.client("price") as price:
        made = admin.post("/v1/coupons/tea/generate", json={"count": 2}).json()
        assert made["added"] == 2 and len(made["codes"]) == 2
        tried = price.post("/v1/coupons/try", json={"code": made["codes"][0],
                                                     "customer": "c1"}).json()
        assert tried["ok"] is True and tried["promotions"] == ["tea-30"]
        wrong = price.post("/v1/coupons/try", json={"code": "TEA-0000-0000-0000-0",
                                                    "customer": "c1"}).json()
        assert wrong["ok"] is False and wrong["reason"] == "code_invalid"
        bad = problem(admin.post("/v1/coupons/tea/import", json={"codes": ["NOPE"]}), 422,
                      "invalid_codes")
        assert bad["problems"][0]["path"] == "codes[0]"
        problem(admin.post("/v1/coupons/nope/generate", json={}), 404, "unknown_batch")
        problem(price.post("/v1/coupons/tea/generate", json={}), 403, "forbidden_scope")


def test_rule_text_in_each_language(service: Service) -> None:
    with service.client("price") as client:
        assert "全場9折" in client.get("/v1/rules").json()["text"]
        assert client.get("/v1/rules", params={"lang": "en"}).json()["lang"] == "en"
        body = problem(client.get("/v1/rules", params={"lang": "xx"}), 422, "invalid_query")
        assert body["problems"] == [{"path": "lang",
                                     "message": "must be one of en, zh-CN, zh-TW, zh-HK"}]


BAD_CAMPAIGN = """\
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


def test_validate_reports_the_paths_the_cli_prints(service: Service, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    with service.client("admin") as admin:
        good = admin.post("/v1/validate", content=CAMPAIGNS.encode(),
                          headers={"Content-Type": "application/toml"}).json()
        assert good["ok"] is True and (good["promotions"], good["games"]) == (2, 1)
        response = admin.post("/v1/validate", content=BAD_CAMPAIGN.encode(),
                              headers={"Content-Type": "application/toml"})
        body = problem(response, 422, "invalid_campaign_file")
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD_CAMPAIGN, encoding="utf-8")
    assert main(["validate", str(bad)]) == 1
    printed = capsys.readouterr().err.splitlines()[1:]
    assert [f"{bad}: {p['path']}: {p['message']}" for p in body["problems"]] == printed


def test_a_toml_document_is_read_within_the_same_bounds_as_a_file(service: Service) -> None:
    """TOML bodies went to tomllib unbounded: 100 nested arrays were not refused."""
    deep = 'currency = "CNY"\nx = ' + "[" * 100 + "]" * 100 + "\n"
    with service.client("admin") as admin:
        response = admin.post("/v1/validate", content=deep.encode(),
                              headers={"Content-Type": "application/toml"})
        body = problem(response, 400, "malformed_toml")
        assert "nested more than 32 deep" in body["problems"][0]["message"]
        broken = admin.post("/v1/validate", content=b"currency = \xff",
                            headers={"Content-Type": "application/toml"})
        problem(broken, 400, "malformed_toml")


# -- bad input: a problem document, nothing written ------------------------------------


def assert_not_written(service: Service, order_id: str) -> None:
    store = service.store()
    try:
        assert store.order(order_id) is None
        assert store.ledger(order_id=order_id) == []
    finally:
        store.close()


def _lines(count: int) -> dict[str, Any]:
    return {"currency": "CNY", "lines": [
        {"id": f"l{i}", "sku": "TEA-1", "quantity": 1, "unit_price": "1.00"}
        for i in range(count)]}


@pytest.mark.parametrize(("case", "send", "status", "reason", "path"), [
    ("malformed JSON", {"content": b'{"currency": "CNY", "lines": [}'}, 400,
     "malformed_json", ""),
    ("not an object", {"json": ["CNY"]}, 422, "invalid_cart", ""),
    ("wrong types", {"json": {"currency": 5, "lines": [
        {"id": "l1", "sku": ["TEA-1"], "quantity": 2.5, "unit_price": 1.5}]}}, 422,
     "invalid_cart", "lines[0].quantity"),
    ("an unknown key", {"json": {**CART, "coupon": "X"}}, 422, "invalid_cart", "coupon"),
    ("too large", {"content": b'{"currency": "CNY", "lines": [], "x": "'
                   + b"a" * (1 << 20) + b'"}'}, 413, "too_large", None),
    ("too many lines", {"json": _lines(1001)}, 422, "invalid_cart", "lines"),
    ("no key", {"json": CART, "key": ""}, 401, "unauthenticated", None),
    ("a bad key", {"json": CART, "key": "pk-checkout-0123456789abcdeX"}, 401,
     "unauthenticated", None),
    ("the wrong scope", {"json": CART, "key": KEYS["price"]}, 403, "forbidden_scope", None),
])
def test_bad_checkouts_are_problems_and_write_nothing(
        service: Service, case: str, send: dict[str, Any], status: int, reason: str,
        path: str | None) -> None:
    order_id = "BAD-" + case.replace(" ", "-")
    key = send.pop("key", KEYS["checkout"])
    with service.client(key=key) if key else service.client() as client:
        body = problem(client.post(f"/v1/orders/{order_id}/checkout", **send), status, reason)
    if path is not None:
        assert path in [p["path"] for p in body["problems"]], body
    if status == 401:
        assert body["problems"] == []
    assert_not_written(service, order_id)


def test_unknown_orders_are_404_and_write_nothing(service: Service) -> None:
    with service.client("admin") as client:
        for verb, route in (("post", "commit"), ("post", "release"), ("get", "replay"),
                            ("post", "refunds/R-1")):
            response = getattr(client, verb)(f"/v1/orders/NOPE/{route}")
            body = problem(response, 404, "unknown_order")
            assert body["detail"] == "no order 'NOPE'"
        problem(client.get("/v1/orders/NOPE"), 404, "unknown_order")
    assert_not_written(service, "NOPE")


def test_a_bad_refund_lists_its_problems(service: Service) -> None:
    with service.client("checkout") as client:
        client.post("/v1/orders/SO-B/checkout", json=CART)
        client.post("/v1/orders/SO-B/commit")
        body = problem(client.post("/v1/orders/SO-B/refunds/R-9",
                                   json={"units": {"l1": 0}, "policy": "all"}),
                       422, "invalid_refund")
        assert [p["path"] for p in body["problems"]] == ["units.l1", "policy"]
        body = problem(client.post("/v1/orders/SO-B/refunds/R-9", json={"units": {"l9": 1}}),
                       422, "invalid_refund")
        assert body["problems"][0]["path"].startswith("l9") or "l9" in body["detail"] + str(
            body["problems"])
    store = service.store()
    try:
        assert [e.kind for e in store.ledger(order_id="SO-B")] == ["redemption"]
    finally:
        store.close()


def test_the_ledger_pages_through_the_store_in_the_order_written(service: Service) -> None:
    from promokit.testing.stores import entry, new

    store = service.store()
    try:
        written = []
        for n in range(4):  # two orders' entries interleaved with another promotion's
            batch = (entry(f"PG-{n}", 0, promotion="paging"),
                     entry(f"PG-{n}", 1, promotion="paging-other"),
                     entry(f"PG-{n}", 2, promotion="paging"))
            assert store.apply(new(f"PG-{n}", ledger=batch)).applied
            written.extend(e.entry_id for e in batch if e.promotion == "paging")
    finally:
        store.close()
    with service.client("admin") as admin:
        for size in (1, 3, 8, 9):
            ids: list[str] = []
            cursor = None
            while True:
                params: dict[str, Any] = {"promotion": "paging", "limit": size}
                if cursor is not None:
                    params["cursor"] = cursor
                page = admin.get("/v1/ledger", params=params).json()
                assert len(page["entries"]) <= size
                ids.extend(e["entry_id"] for e in page["entries"])
                cursor = page["next_cursor"]
                if cursor is None:
                    break
                assert len(page["entries"]) == size and cursor == str(len(ids))
            assert ids == written, size
        past = admin.get("/v1/ledger", params={"promotion": "paging", "cursor": "50"}).json()
        assert past == {"entries": [], "next_cursor": None}


def test_routes_and_methods_that_do_not_exist_are_problems(service: Service) -> None:
    with service.client("admin") as client:
        problem(client.get("/v1/nothing"), 404, "not_found")
        problem(client.get("/v1/evaluate"), 405, "method_not_allowed")
        problem(client.get("/v1/ledger", params={"limit": 0}), 400, "bad_request")


def test_the_x_api_key_header_works_too(service: Service) -> None:
    response = httpx.post(f"{service.url}/v1/evaluate", json=CART,
                          headers={"X-API-Key": KEYS["price"]})
    assert response.status_code == 200


# -- keys -----------------------------------------------------------------------------


def test_keys_are_hashed_and_scoped(tmp_path: Path) -> None:
    ring = load_keys(keys_file(tmp_path / "keys.toml"))
    assert ring.find(KEYS["admin"]) is not None
    assert ring.find(KEYS["admin"] + " ") is None and ring.find(None) is None
    assert ring.find(KEYS["checkout"]).allows("price")  # type: ignore[union-attr]
    assert not ring.find(KEYS["checkout"]).allows("admin")  # type: ignore[union-attr]
    assert KEYS["admin"] not in (tmp_path / "keys.toml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text('[[key]]\nid = "k"\nsha256 = "secret-in-clear"\nscopes = ["root"]\n'
                   'note = 1\n', encoding="utf-8")
    with pytest.raises(KeysError) as caught:
        load_keys(bad)
    assert [p.path for p in caught.value.problems] == ["key[0].note", "key[0].sha256",
                                                       "key[0].scopes"]
    assert hash_key("x") == "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"


# -- reloads --------------------------------------------------------------------------


def test_a_changed_campaign_file_is_reloaded_and_a_request_in_flight_keeps_its_engine(
        service: Service) -> None:
    holder: EngineHolder = service.app.state["holder"]
    before = holder.engine
    service.campaigns.write_text(CAMPAIGNS.replace('percent = "10"', 'percent = "20"'),
                                 encoding="utf-8")
    try:
        with service.client("price") as client:
            deadline = time.monotonic() + 15
            while client.post("/v1/evaluate", json=CART).json()["total"] != "240.00":
                assert time.monotonic() < deadline, "not reloaded"
                time.sleep(0.05)
        # the old engine is whole and still prices the old way
        assert str(before.evaluate(CART).total) == "270.00"
        assert holder.engine is not before
        # an invalid file keeps the running campaigns
        reloads = holder.reloads
        service.campaigns.write_text("currency = 1\n", encoding="utf-8")
        assert holder.reload() is False and holder.reloads == reloads
        assert str(holder.engine.evaluate(CART).total) == "240.00"
    finally:
        service.campaigns.write_text(CAMPAIGNS, encoding="utf-8")
        assert holder.reload() is True


def test_promokit_serve_reloads_on_sighup(tmp_path: Path) -> None:
    campaigns = tmp_path / "campaigns.toml"
    campaigns.write_text(CAMPAIGNS, encoding="utf-8")
    keys = keys_file(tmp_path / "keys.toml")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "promokit", "--no-plugins", "serve", str(campaigns),
         "--store", f"sqlite:///{tmp_path / 'store.db'}", "--keys", str(keys),
         "--port", str(port), "--no-watch"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ})
    url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {KEYS['price']}"}
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and process.poll() is None, "did not start"
            time.sleep(0.1)
        assert httpx.post(f"{url}/v1/evaluate", json=CART, headers=headers).json()[
            "total"] == "270.00"
        campaigns.write_text(CAMPAIGNS.replace('percent = "10"', 'percent = "20"'),
                             encoding="utf-8")
        time.sleep(0.3)  # --no-watch: not reloaded until SIGHUP
        assert httpx.post(f"{url}/v1/evaluate", json=CART, headers=headers).json()[
            "total"] == "270.00"
        process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 15
        while httpx.post(f"{url}/v1/evaluate", json=CART,
                         headers=headers).json()["total"] != "240.00":
            assert time.monotonic() < deadline, "not reloaded"
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(15)
        assert process.stdout is not None
        process.stdout.close()


def test_serve_refuses_bad_files_before_it_listens(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    campaigns = tmp_path / "campaigns.toml"
    campaigns.write_text(BAD_CAMPAIGN, encoding="utf-8")
    keys = keys_file(tmp_path / "keys.toml")
    store = f"sqlite:///{tmp_path / 'store.db'}"
    assert main(["serve", str(campaigns), "--store", store, "--keys", str(keys)]) == 1
    assert "promotion[0].percent: must be in (0, 100]" in capsys.readouterr().err
    campaigns.write_text(CAMPAIGNS, encoding="utf-8")
    (tmp_path / "k.toml").write_text('[[key]]\nid = "k"\n', encoding="utf-8")
    assert main(["serve", str(campaigns), "--store", store, "--keys",
                 str(tmp_path / "k.toml")]) == 1
    assert "key[0].sha256" in capsys.readouterr().err
    assert main(["serve", str(campaigns), "--store", store]) == 2
    assert "--keys" in capsys.readouterr().err


def test_serve_without_the_extra_names_the_install_command(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "promokit.service.run", None)
    assert main(["serve", "x.toml", "--store", "memory://", "--keys", "k.toml"]) == 1
    assert "pip install 'promokit[service]'" in capsys.readouterr().err


def test_a_holder_swaps_engine_and_keys_together(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text(CAMPAIGNS, encoding="utf-8")
    config = ServiceConfig(campaigns=[str(tmp_path / "c.toml")], store="memory://",
                           keys=str(keys_file(tmp_path / "k.toml")), watch=False)
    holder = EngineHolder(config)
    engine, ring = holder.engine, holder.keys
    assert holder.reload() is True
    assert holder.engine is engine  # same version: the same engine
    assert holder.keys is not ring
    holder.close()
