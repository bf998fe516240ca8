"""Running the service on uvicorn: ``promokit serve`` (docs/service.md).

Workers are separate processes; each builds its own application from the
configuration passed in ``$PROMOKIT_SERVICE_CONFIG`` (JSON), through
:func:`app_from_environment`, the factory uvicorn imports.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

import uvicorn
from litestar import Litestar

from .app import create_app
from .holder import EngineHolder, ServiceConfig

__all__ = ["CONFIG_ENV", "app_from_environment", "check", "serve"]

CONFIG_ENV = "PROMOKIT_SERVICE_CONFIG"


def _config_json(config: ServiceConfig) -> str:
    return json.dumps({"campaigns": list(config.campaigns), "store": config.store,
                       "keys": config.keys, "watch": config.watch,
                       "load_entry_points": config.load_entry_points})


def app_from_environment() -> Litestar:
    """The application for the configuration in ``$PROMOKIT_SERVICE_CONFIG``."""
    data = json.loads(os.environ[CONFIG_ENV])
    return create_app(ServiceConfig(secret=os.environ.get("PROMOKIT_SECRET"), **data))


def check(config: ServiceConfig) -> None:
    """Load everything the service needs once, so a bad campaign file, keys file or
    store fails here, with promokit's own error, before uvicorn starts."""
    EngineHolder(config).close()


def serve(config: ServiceConfig, *, host: str = "127.0.0.1", port: int = 8000,
          workers: int = 1, log_level: str = "info",
          extra: Sequence[str] = ()) -> None:
    """Serve until interrupted. ``workers`` > 1 runs that many processes."""
    check(config)
    os.environ[CONFIG_ENV] = _config_json(config)
    uvicorn.run("promokit.service.run:app_from_environment", factory=True, host=host,
                port=port, workers=workers, log_level=log_level, access_log=False,
                timeout_graceful_shutdown=10)
