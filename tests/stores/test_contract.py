"""The store contract (promokit.testing.StoreContract) on every backend."""

from __future__ import annotations

import pytest

from promokit.testing import StoreContract

pytestmark = pytest.mark.parametrize("store_url", [
    "memory", "sqlite",
    pytest.param("redis", marks=pytest.mark.redis),
    pytest.param("postgres", marks=pytest.mark.postgres),
], indirect=True)


class TestStoreContract(StoreContract):
    pass
