"""A service running in a background thread on a free loopback port (for tests and benchmarks)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import uvicorn

from popflow.service.server import log_config


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running(app, host: str = "127.0.0.1", port: int | None = None, access_log: bool = True):
    """Serve ``app`` with Uvicorn in a thread; yields the base URL and stops the server on exit."""
    port = port or free_port(host)
    config = uvicorn.Config(app, host=host, port=port, log_config=log_config(), access_log=access_log,
                            server_header=False, timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="popflow-serve", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the popflow service did not start")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
