"""Campaign texts that several test modules price against, written once."""

from __future__ import annotations

#: The header of every test campaign file unless it says otherwise.
HEADER = 'currency = "CNY"\ntimezone = "Asia/Shanghai"\n'


def d11_shop(*, flash_limits: str, budget: str | None = None, funding: bool = False,
             threshold: str = "") -> str:
    """雙11 in a small shop: campaign ``d11`` (with ``budget``, and funded 70/30 by
    platform and merchant with ``funding``), a flash sale of BLENDER at 99.00 with
    ``limits = { flash_limits }``, and 跨店滿300減50 in campaign d11 at the platform
    stage, with ``threshold``'s extra keys."""
    campaign = ['[[campaign]]', 'id = "d11"']
    if budget is not None:
        campaign.append(f'budget = "{budget}"')
    if funding:
        campaign.append('funding = { platform = "0.7", merchant = "0.3" }')
    return HEADER + "\n" + "\n".join(campaign) + f'''

[[promotion]]
id = "flash"
kind = "fixed_price"
price = "99.00"
scope = {{ skus = ["BLENDER"] }}
limits = {{ {flash_limits} }}

[[promotion]]
id = "d11-300-50"
campaign = "d11"
kind = "tiered_threshold"
stage = "platform"
tiers = [ {{ spend = "300", off = "50" }} ]
{threshold}'''
