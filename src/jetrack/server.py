"""Run the app under a production ASGI server (uvicorn or granian), with or without TLS."""

from __future__ import annotations

import logging

from jetrack.config import ConfigError, Settings
from jetrack.store.datadir import DataDirLock, prepare_data_dir

log = logging.getLogger("jetrack")


def _check_data_dir_free(settings: Settings) -> None:
    # Fail before binding the port, with the one-line reason, when another Jetrack holds it.
    prepare_data_dir(settings.data_dir)
    probe = DataDirLock(settings.data_dir)
    probe.acquire()
    probe.release()


def run_server(settings: Settings) -> None:
    _check_data_dir_free(settings)
    if settings.certfile is not None:
        for path in (settings.certfile, settings.keyfile):
            if path is None or not path.is_file():
                raise ConfigError(
                    f"JETRACK_CERTFILE/JETRACK_KEYFILE: {path} is not a readable file"
                )
    if settings.server == "granian":
        _run_granian(settings)
    else:
        _run_uvicorn(settings)


def _run_uvicorn(settings: Settings) -> None:
    import uvicorn

    from jetrack.app import serving_app
    from jetrack.web.ingest_protocol import ingest_protocol

    app = serving_app(settings)
    config = uvicorn.Config(
        app,
        http=ingest_protocol(app.state),  # event requests answered before ASGI
        host=settings.host,
        port=settings.port,
        access_log=False,  # uvicorn's access log records client addresses
        log_config=None,
        server_header=False,
        proxy_headers=False,  # client address handling is Jetrack's (trusted proxies only)
        ssl_certfile=str(settings.certfile) if settings.certfile else None,
        ssl_keyfile=str(settings.keyfile) if settings.keyfile else None,
        timeout_graceful_shutdown=10,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    scheme = "https" if settings.tls else "http"
    log.info("serving on %s://%s:%d", scheme, settings.host, settings.port)
    server.run()
    if not server.started:
        raise ConfigError(
            f"JETRACK_PORT: could not start serving on {settings.host}:{settings.port}"
        )


def _run_granian(settings: Settings) -> None:
    from granian.constants import Interfaces
    from granian.server import Server

    server = Server(
        "jetrack.asgi:app",
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=1,  # chDB allows one process per data dir
        log_access=False,
        ssl_cert=settings.certfile,
        ssl_key=settings.keyfile,
    )
    server.serve()
