"""Run the app under a production ASGI server (uvicorn or granian), with or without TLS."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

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
    if settings.workers > 1:
        _run_workers(settings)
        return
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
    server.run(sockets=[_shared_socket(settings)] if settings.reuse_port else None)
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


def _shared_socket(settings: Settings) -> socket.socket:
    """The listening socket with SO_REUSEPORT: the kernel spreads connections over the
    processes bound to the port (`--workers`)."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((settings.host, settings.port))
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"JETRACK_PORT: could not start serving on {settings.host}:{settings.port}: "
            f"{exc.strerror}"
        ) from None
    sock.set_inheritable(True)
    return sock


def worker_data_dir(settings: Settings, index: int) -> Path:
    """Process `index`'s own data dir under `--workers`: its journal, lock and key files
    (the shared state is in PostgreSQL, Redis and the ClickHouse server)."""
    return settings.data_dir / "workers" / str(index)


def _run_workers(settings: Settings) -> None:
    """`jetrack serve --workers N`: N `jetrack serve` processes of the shared mode on one
    port (SO_REUSEPORT), each with its own data dir; stops them all on SIGTERM/SIGINT, or
    when one of them stops."""
    if settings.server != "uvicorn":
        raise ConfigError("JETRACK_WORKERS: several processes are served by uvicorn only")
    children: list[subprocess.Popen[bytes]] = []
    for index in range(settings.workers):
        env = dict(os.environ)
        env.update(
            {
                "JETRACK_WORKERS": "1",
                "JETRACK_REUSE_PORT": "true",
                "JETRACK_DATA_DIR": str(worker_data_dir(settings, index)),
                "JETRACK_HOST": settings.host,
                "JETRACK_PORT": str(settings.port),
                "JETRACK_SERVER": settings.server,
            }
        )
        for name, path in (("CERTFILE", settings.certfile), ("KEYFILE", settings.keyfile)):
            if path is not None:
                env[f"JETRACK_{name}"] = str(path.resolve())
        children.append(subprocess.Popen([sys.executable, "-m", "jetrack.cli", "serve"], env=env))
    log.info("serving with %d processes on port %d", len(children), settings.port)
    stopping: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = 0
    while not stopping:
        ended = [child for child in children if child.poll() is not None]
        if ended:
            code = ended[0].returncode or 1
            log.error("a worker process stopped (exit %d): stopping the others", code)
            break
        time.sleep(0.2)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        child.wait()
    if code:
        sys.exit(code)
