"""The built-in game kinds, each a plugin module: ``lottery``, ``blind_box``,
``group_buy``, ``bargain``, ``presale``."""
