"""The ``promokit`` command line (DESIGN §6; docs/cli.md).

- :mod:`.main`: the parser, ``evaluate``, ``validate``, ``rules``, ``plugins``,
  ``demo``, and how errors become exit codes;
- :mod:`.store`: ``checkout``, ``commit``, ``release``, ``refund``, ``sweep``,
  ``replay``, ``ledger``, ``coupons``;
- :mod:`.game`: ``game list|play|rules|reveal|log|verify``.
"""

from .main import EXIT_INVALID, EXIT_OK, EXIT_STORE, EXIT_USAGE, main

__all__ = ["EXIT_INVALID", "EXIT_OK", "EXIT_STORE", "EXIT_USAGE", "main"]
