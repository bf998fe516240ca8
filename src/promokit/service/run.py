"""Running the service on uvicorn: ``promokit serve`` (docs/service.md).

Workers are separate processes; each builds its own application from the
configuration passed in ``$PROMOKIT_SERVICE_CONFIG`` (JSON), through
:func:`app_from_environment`, the factory uvicorn imports.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from collections.abc import Iterator, Sequence

import uvicorn
from litestar import Litestar

from .app import create_app
from .holder import EngineHolder, ServiceConfig

__all__ = ["CONFIG_ENV", "app_from_environment", "check", "running", "serve"]

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


@contextlib.contextmanager
def running(app: Litestar, *, host: str = "127.0.0.1", port: int = 0,
            timeout: float = 20.0) -> Iterator[str]:
    """Serve ``app`` on uvicorn in a thread of this process while the block runs, and
    yield its base URL (``port`` 0: a free one): for tests, benchmarks and small
    embedded deployments. On leaving, the server finishes the requests it holds and
    stops."""
    if port == 0:
        with socket.socket() as probe:
            probe.bind((host, 0))
            port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, name=f"promokit-service-{port}",
                              daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError(f"the service did not start on {host}:{port}")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)
