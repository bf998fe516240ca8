"""The built-in channel profile ``wechat_h5``: WeChat's rules for external links
(《微信外部鏈接內容管理規範》, in force since 2019-10-28) forbid pages opened in
WeChat's browser to induce sharing. On ``wechat_h5`` a campaign may not run,
unless its file lifts the restriction (``[channels.wechat_h5] allow = [...]``):

``bargain``
    friend-help bargaining (砍價): the ``bargain`` game, or a feature
    ``friend_help``.
``share_coupon``
    share-for-coupon (分享領券): a ``share_coupon`` discount kind, or a feature
    ``share_for_coupon``.
``share_draw``
    share-for-extra-draw (分享得抽獎機會): a lottery's ``tickets.share`` (feature
    ``share_for_draw``).
``lottery_group_buy``
    lottery-style group buying (抽獎團): a ``lottery_group_buy`` game, or a feature
    ``lottery_group``.
"""

from __future__ import annotations

from promokit import hookimpl
from promokit.channels import ChannelProfile, Restriction

WECHAT_H5 = ChannelProfile(
    name="wechat_h5",
    title="WeChat external-link rules, in force since 2019-10-28",
    restrictions=(
        Restriction(key="bargain", label="friend-help bargaining (砍價)",
                    games={"bargain"}, features={"friend_help"}),
        Restriction(key="share_coupon", label="share-for-coupon (分享領券)",
                    kinds={"share_coupon"}, features={"share_for_coupon"}),
        Restriction(key="share_draw", label="share-for-extra-draw (分享得抽獎機會)",
                    features={"share_for_draw"}),
        Restriction(key="lottery_group_buy", label="lottery-style group buying (抽獎團)",
                    games={"lottery_group_buy"}, features={"lottery_group"}),
    ),
)


@hookimpl
def promokit_register_channel_profiles() -> list[ChannelProfile]:
    return [WECHAT_H5]
