"""Coupon codes a customer types: checked against the campaigns and the store,
with wrong ones counted against the customer so that codes cannot be guessed."""

from __future__ import annotations

from ..coupons import CodeCheck, is_well_formed, normalize_code
from ..errors import InputError, Problem, StoreError
from ..inputs import bad_identifier
from ..pricing import Pricer
from ..stores import CodeRow, counter_keys

__all__ = ["CodeDesk"]


class CodeDesk:
    """Where typed codes are checked: the campaigns, store, clock and throttle of
    ``pricer``."""

    def __init__(self, pricer: Pricer) -> None:
        self.pricer = pricer

    def try_code(self, code: str, *, customer: str | None = None,
                 lang: str | None = None) -> CodeCheck:
        """Check a code a customer typed (an "apply coupon" button) and count a wrong
        one against them.

        After ``code_attempts[0]`` distinct wrong codes in a window of
        ``code_attempts[1]`` seconds the customer's codes are refused
        (``code_throttled``) here and in ``evaluate`` until the window ends, which
        stops codes being guessed. The look-up and the count are one atomic step
        of the store (:meth:`Store.check_codes <promokit.stores.Store.check_codes>`),
        so racing guesses cannot pass the limit, and a wrong code typed again is
        not counted again. A code failing its check character is refused without a
        store lookup and not counted (it tells a guesser nothing). Codes that
        exist but are used up or out of their window are refused without counting
        (they are not guesses).
        """
        setup = self.pricer.setup
        problems = [Problem(path=path, message=why) for path, value in
                    (("code", code), ("customer", customer)) if value is not None
                    and (why := bad_identifier(value, setup.limits)
                         if isinstance(value, str) else "must be a string") is not None]
        if problems:  # a NUL was a StoreError on PostgreSQL only
            raise InputError(problems, what="code")
        campaigns, store = setup.campaigns, setup.store
        text = setup.texts[lang or self.pricer.lang]
        limit, window = setup.code_attempts
        key = counter_keys.code_failures(customer or "anonymous",
                                         int(setup.clock().timestamp()) // window)

        def refused(reason: str, failures: int) -> CodeCheck:
            return CodeCheck(code=code, ok=False, reason=reason, message=text.reason(reason),
                             failures=failures)

        canonical = normalize_code(code)
        literal = tuple(sorted(p.id for p in campaigns.promotions if code in p.codes))
        external = any(batch.external for batch in campaigns.coupons)
        row: CodeRow | None = None
        try:
            if not literal and canonical and (external or is_well_formed(canonical)):
                checked = store.check_codes([canonical], throttle=key, limit=limit,
                                            ttl=window)
                failures = checked.failures
                before = failures - len(checked.counted)  # as the customer came
                row = checked.found.get(canonical)
            else:  # nothing to look up: only the count, to say whether they are throttled
                failures = before = store.read([key])[key]
            if before >= limit:
                return refused("code_throttled", failures)
            if literal:
                return CodeCheck(code=code, ok=True, promotions=literal, failures=failures)
            batch = campaigns.coupon(row.batch) if row is not None else None
            if row is None or batch is None:
                return refused("code_invalid", failures)
            uses_key = counter_keys.code_uses(canonical)
            used = store.read([uses_key])[uses_key]
        except StoreError:
            raise
        except Exception as error:
            raise StoreError(f"checking a code against the store failed: {error!r}") from error
        when = batch.window_reason(setup.clock().astimezone(campaigns.timezone))
        if when is not None:
            return refused(when, failures)
        if used >= row.uses:
            return refused("code_used", failures)
        return CodeCheck(code=code, ok=True, promotions=(batch.promotion,), failures=failures)
