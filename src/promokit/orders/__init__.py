"""Orders: checkout, commit, release, expiry and refunds against a store, the
redemption ledger, replay, and typed coupon codes (DESIGN §4.9).

Every operation is one atomic :meth:`Store.apply <promokit.stores.Store.apply>`
on the order's stored revision: all or nothing, safe to retry and to race.
Orders are priced by a :class:`~promokit.pricing.Pricer`; what they are made of
is in :mod:`promokit.order`.

- :mod:`.checkout`: the life of an order;
- :mod:`.refunds`: working out what a refund pays and gives back;
- :mod:`.ledger`: redemptions and reversals, and the ledger as CSV or JSON lines;
- :mod:`.alerts`: stock and budget warning levels;
- :mod:`.replay`: an order priced again under the version that priced it;
- :mod:`.codes`: codes a customer types, throttled against guessing.
"""

from .checkout import DEFAULT_TOLERANCE, DEFAULT_TTL, Checkout
from .codes import CodeDesk
from .ledger import ledger_csv, ledger_jsonl

__all__ = ["DEFAULT_TOLERANCE", "DEFAULT_TTL", "Checkout", "CodeDesk", "ledger_csv", "ledger_jsonl"]
