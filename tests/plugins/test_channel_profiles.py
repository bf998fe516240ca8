"""Channel profiles: ``wechat_h5`` forbids friend-help bargaining, share-for-coupon,
share-for-extra-draw and lottery-style group buys, in pricing, in games and in
``promokit validate``; a campaign file lifts them; a shop adds its own profile."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from promokit import ConfigError, Engine, PluginError, Registry, hookimpl
from promokit.cart import Customer
from promokit.channels import ChannelProfile, Restriction
from promokit.cli import main
from promokit.errors import GameError
from promokit.testing import Clock, cart, engine_from_toml

START = datetime(2026, 11, 11, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
HEADER = 'currency = "CNY"\ntimezone = "Asia/Shanghai"\n'
BARGAIN = '''
[[game]]
id = "rice-kan"
kind = "bargain"
name = "電飯煲砍到¥99"
sku = "RICE-1"
price = "299.00"
floor = "99.00"
helps = 5
'''
LOTTERY = '''
[[game]]
id = "koi"
kind = "lottery"
name = "分享抽錦鯉"
organiser = "promokit 演示商城"
draws_per_day = 3
free_draws_per_day = 1
tickets = { share = 1, purchase = 1 }
prizes = [
  { id = "koi", name = "錦鯉大禮包", kind = "goods", value = "100.00", weight = 1, stock = 1 },
  { id = "none", name = "謝謝參與", kind = "none", weight = 99, fallback = true },
]
'''
PERCENT = '''
[[promotion]]
id = "h5-95"
kind = "percent_off"
percent = "5"
'''
ALLOW = '''
[channels.wechat_h5]
allow = ["bargain"]
'''


def build(text: str) -> Engine:
    return engine_from_toml(HEADER + text, clock=Clock(START), secret=b"s" * 32,
                            registry=Registry.default(load_entry_points=False))


def test_the_wechat_h5_profile_is_registered() -> None:
    registry = Registry.default(load_entry_points=False)
    profile = registry.profiles["wechat_h5"]
    assert profile.keys == ("bargain", "share_coupon", "share_draw", "lottery_group_buy")
    assert "2019-10-28" in profile.title


def test_a_bargain_price_does_not_apply_on_wechat_h5() -> None:
    engine = build(BARGAIN + PERCENT)
    game = engine.games["rice-kan"]
    state = game.start_bargain(Customer(id="alice"))
    lines = [("l1", "RICE-1", 1, "299.00", {"bargain_id": state.id})]
    on_h5 = engine.evaluate(cart(*lines, channel="wechat_h5", customer={"id": "alice"}))
    assert on_h5.reason("rice-kan") == "channel_forbidden"
    message = next(n.message for n in on_h5.not_applied if n.promotion == "rice-kan")
    assert message == ("friend-help bargaining (砍價) is not allowed on wechat_h5 (WeChat "
                       "external-link rules, in force since 2019-10-28)")
    assert on_h5.reason("h5-95") is None  # a plain 5% off runs there
    in_chinese = engine.evaluate(cart(*lines, channel="wechat_h5", customer={"id": "alice"}),
                                 lang="zh-CN")
    assert next(n.message for n in in_chinese.not_applied if n.promotion == "rice-kan") == (
        "wechat_h5渠道不允许friend-help bargaining (砍價)（WeChat external-link rules, in force "
        "since 2019-10-28）")
    in_app = engine.evaluate(cart(*lines, channel="app", customer={"id": "alice"}))
    assert in_app.reason("rice-kan") == "no_saving"  # nobody has helped yet


def test_a_bargain_is_refused_on_wechat_h5_and_the_file_can_lift_it() -> None:
    game = build(BARGAIN).games["rice-kan"]
    with pytest.raises(GameError) as caught:
        game.start_bargain(Customer(id="alice"), channel="wechat_h5")
    assert caught.value.reason == "channel_forbidden" and caught.value.game == "rice-kan"
    state = game.start_bargain(Customer(id="alice"), channel="app")
    with pytest.raises(GameError) as caught:
        game.help(state.id, Customer(id="bob"), channel="wechat_h5")
    assert caught.value.reason == "channel_forbidden"

    allowed = build(BARGAIN + ALLOW)
    lifted = allowed.games["rice-kan"]
    state = lifted.start_bargain(Customer(id="alice"), channel="wechat_h5")
    lifted.help(state.id, Customer(id="bob", orders_count=3), channel="wechat_h5")
    priced = allowed.evaluate(cart(("l1", "RICE-1", 1, "299.00", {"bargain_id": state.id}),
                                   channel="wechat_h5", customer={"id": "alice"}))
    assert priced.reason("rice-kan") is None


def test_share_tickets_are_refused_on_wechat_h5_but_draws_are_not() -> None:
    game = build(LOTTERY).games["koi"]
    with pytest.raises(GameError) as caught:
        game.grant("alice", "share", "share-1", channel="wechat_h5")
    assert caught.value.reason == "channel_forbidden"
    assert game.grant("alice", "purchase", "o-1", channel="wechat_h5").granted == 1
    assert game.grant("alice", "share", "share-1", channel="app").granted == 1
    game.open()
    assert game.draw(Customer(id="alice"), channel="wechat_h5").customer == "alice"


def test_share_for_coupon_kinds_are_forbidden_by_name(tmp_path: Path) -> None:
    from promokit.kinds import DiscountKind

    class ShareCoupon(DiscountKind):
        name = "share_coupon"
        default_stage = "item"

        def parse(self, params):  # type: ignore[no-untyped-def]
            params.percent("percent")
            return None

    class Plugin:
        @hookimpl
        def promokit_register_kinds(self) -> list[DiscountKind]:
            return [ShareCoupon()]

    registry = Registry.default([Plugin()], load_entry_points=False)
    engine = engine_from_toml(HEADER + '[[promotion]]\nid = "sc"\nkind = "share_coupon"\n'
                              'percent = "5"\n', registry=registry, clock=Clock(START))
    result = engine.evaluate(cart(("l1", "A", 1, "10.00"), channel="wechat_h5"))
    assert result.reason("sc") == "channel_forbidden"


@pytest.mark.parametrize(("text", "path", "message"), [
    ("[channels.wechat_5h]\nallow = []\n", "channels.wechat_5h",
     "no channel profile 'wechat_5h' (did you mean 'wechat_h5'?)"),
    ('[channels.wechat_h5]\nallow = ["bargian"]\n', "channels.wechat_h5.allow[0]",
     "wechat_h5 forbids no 'bargian' (did you mean 'bargain'?)"),
    ('[channels.wechat_h5]\nallow = ["bargain"]\nalow = []\n', "channels.wechat_h5.alow",
     "unknown key (did you mean 'allow'?)"),
])
def test_the_channels_table_is_checked(text: str, path: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build(text)
    assert any(p.path == path and p.message.startswith(message)
               for p in caught.value.problems), caught.value.problems


def test_validate_warns_about_what_a_listed_channel_forbids(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    listed = tmp_path / "h5.toml"
    listed.write_text(HEADER + BARGAIN + 'conditions = [ { rule = "channel", in = '
                      '["app", "wechat_h5"] } ]\n' + LOTTERY + 'conditions = [ { rule = '
                      '"channel", in = ["wechat_h5"] } ]\n' + PERCENT
                      + 'channels = ["wechat_h5"]\n', encoding="utf-8")
    assert main(["validate", "--no-plugins", str(listed)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("ok: 0 campaigns, 1 promotion, 2 games")
    assert out[1:] == [
        "warning: game[0]: game 'rice-kan' lists wechat_h5, but friend-help bargaining "
        "(砍價) is not allowed on wechat_h5 (WeChat external-link rules, in force since "
        '2019-10-28); lift it with [channels.wechat_h5] allow = ["bargain"]',
        "warning: game[1]: game 'koi' lists wechat_h5, but share-for-extra-draw "
        "(分享得抽獎機會) is not allowed on wechat_h5 (WeChat external-link rules, in force "
        'since 2019-10-28); lift it with [channels.wechat_h5] allow = ["share_draw"]']
    lifted = tmp_path / "lifted.toml"
    lifted.write_text(listed.read_text(encoding="utf-8")
                      + '[channels.wechat_h5]\nallow = ["bargain", "share_draw"]\n',
                      encoding="utf-8")
    assert main(["validate", "--no-plugins", str(lifted)]) == 0
    assert "warning" not in capsys.readouterr().out


class KioskRules:
    """A shop's own profile: no games of chance at the mall kiosk."""

    @hookimpl
    def promokit_register_channel_profiles(self) -> list[ChannelProfile]:
        return [ChannelProfile(name="kiosk", title="the mall's kiosk rules", restrictions=[
            Restriction(key="chance", label="games of chance", games={"lottery"}),
            Restriction(key="bulk", label="percent off", kinds={"percent_off"})])]


def test_a_shop_adds_its_own_profile() -> None:
    registry = Registry.default([KioskRules()], load_entry_points=False)
    assert registry.origins[("profile", "kiosk")].startswith("")
    engine = engine_from_toml(HEADER + LOTTERY + PERCENT, registry=registry,
                              clock=Clock(START), secret=b"s" * 32)
    with pytest.raises(GameError) as caught:
        engine.games["koi"].draw(Customer(id="alice"), channel="kiosk")
    assert caught.value.reason == "channel_forbidden"
    result = engine.evaluate(cart(("l1", "A", 1, "10.00"), channel="kiosk"))
    assert result.reason("h5-95") == "channel_forbidden"
    assert "the mall's kiosk rules" in result.not_applied[0].message
    lifted = engine_from_toml(HEADER + PERCENT + '[channels.kiosk]\nallow = ["bulk"]\n',
                              registry=registry, clock=Clock(START))
    assert lifted.evaluate(cart(("l1", "A", 1, "10.00"), channel="kiosk")).total == 9.5


def test_two_profiles_for_one_channel_name_both_plugins() -> None:
    class Again:
        @hookimpl
        def promokit_register_channel_profiles(self) -> list[ChannelProfile]:
            return [ChannelProfile(name="wechat_h5", title="again")]

    with pytest.raises(PluginError) as caught:
        Registry.default([Again()], load_entry_points=False)
    assert "profile 'wechat_h5'" in str(caught.value)
    assert "promokit.adapters.profiles" in str(caught.value)


def test_a_profile_may_not_use_a_key_twice() -> None:
    with pytest.raises(ValueError, match="twice"):
        ChannelProfile(name="x", title="x", restrictions=[
            Restriction(key="a", label="a"), Restriction(key="a", label="b")])


def test_an_operation_given_its_channel_checks_the_game_s_channel_conditions() -> None:
    game = build(BARGAIN + 'conditions = [ { rule = "channel", in = ["app"] } ]\n'
                 ).games["rice-kan"]
    with pytest.raises(GameError) as caught:
        game.start_bargain(Customer(id="alice"), channel="web")
    assert caught.value.reason == "not_eligible:channel"
    assert game.start_bargain(Customer(id="bob"), channel="app").owner == "bob"
    assert game.start_bargain(Customer(id="carol")).owner == "carol"  # no channel: as before


def test_promokit_game_play_takes_the_channel(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMOKIT_SECRET", "s" * 32)
    games = Path(__file__).resolve().parents[2] / "examples" / "d11_games.toml"
    store = f"sqlite:///{tmp_path / 'shop.db'}"
    grant = ["game", "play", "koi", "grant", str(games), "--store", store, "--no-plugins",
             "--customer", "c1", "--set", "action=share", "--set", "action_id=s1"]
    assert main([*grant, "--channel", "wechat_h5"]) == 1
    assert "share-for-extra-draw" in capsys.readouterr().err
    assert main([*grant, "--channel", "app"]) == 0
    assert '"granted": 1' in capsys.readouterr().out
