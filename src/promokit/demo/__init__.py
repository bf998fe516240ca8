"""``promokit demo``: a scripted 雙11 story on the embedded SQLite store.

- :mod:`.story`: the pricing and checkout steps, and :func:`run`;
- :mod:`.games`: the five built-in games played on the same store;
- ``campaigns.toml`` and ``games.toml``: the demo's campaign files.
"""

from .story import run

__all__ = ["run"]
