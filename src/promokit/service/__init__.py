"""``promokit serve``: promokit over HTTP, for shop backends in any language
(docs/service.md). Needs the ``service`` extra: ``pip install 'promokit[service]'``.

- :mod:`.app`: the Litestar application and its routes (``create_app``);
- :mod:`.wire`: request bodies, read by promokit's own readers, documented by
  the attrs classes of :mod:`.schemas` in the generated OpenAPI document;
- :mod:`.problems`: errors as RFC 9457 problem documents;
- :mod:`.keys`: API keys, hashed at rest, scoped, compared in constant time;
- :mod:`.holder`: the running engine, swapped whole on a reload;
- :mod:`.run`: uvicorn.

This package's own names (the configuration, the keys) import without the extra,
so ``promokit serve`` can say what to install; :mod:`.app` and :mod:`.run` need it.
"""

from .holder import EngineHolder, ServiceConfig
from .keys import KeyRing, hash_key, load_keys

__all__ = ["EngineHolder", "KeyRing", "ServiceConfig", "hash_key", "load_keys"]
