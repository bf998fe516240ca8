"""``python -m promokit``: the same as the ``promokit`` command."""

import sys

from .cli import main

sys.exit(main())
