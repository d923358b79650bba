"""Run the sandbox over a real socket: in a background thread (tests) or in the foreground (CLI)."""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import signal
import socket
import threading
import time
from collections.abc import Iterator
from types import TracebackType

import uvicorn
from starlette.applications import Starlette

from airflow_provider_genesys.core.clock import Clock

from .app import create_app
from .config import SandboxConfig
from .faults import DroppedConnectionError
from .state import Sandbox

__all__ = ["ForegroundServer", "SandboxServer", "bind_socket", "install_log_filter", "uvicorn_config"]


class _HideDrops(logging.Filter):
    """Hides uvicorn's traceback for the ``drop`` fault, which aborts connections on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        while exc is not None:
            if isinstance(exc, DroppedConnectionError):
                return False
            exc = exc.__cause__ or exc.__context__
        return True


def install_log_filter() -> None:
    """Attach the drop filter to uvicorn's error logger once."""
    target = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _HideDrops) for f in target.filters):
        target.addFilter(_HideDrops())


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0 picks a free one)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def uvicorn_config(
    app: Starlette, host: str, port: int, loop: str = "auto", graceful: int = 2
) -> uvicorn.Config:
    """Quiet, lean uvicorn settings: httptools when installed, no access log, no lifespan."""
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=http,
        loop=loop,
        lifespan="off",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=graceful,
        timeout_keep_alive=60,  # pooled test clients reuse idle connections; avoid close/reuse races
        backlog=2048,
    )


class SandboxServer:
    """The sandbox app served by uvicorn on a background thread; a context manager.

    ``with SandboxServer(SandboxConfig(seed=1)) as server: httpx.get(server.url + ...)``.
    Time is real unless a clock is passed (a FakeClock must then be advanced by hand).
    """

    def __init__(
        self,
        config: SandboxConfig | None = None,
        clock: Clock | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        loop: str = "asyncio",
    ) -> None:
        self.app = create_app(config, clock)
        self.sandbox: Sandbox = self.app.state.sandbox
        self.host, self.port = host, port
        self._loop = loop
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = 10.0) -> SandboxServer:
        """Bind, start serving on a daemon thread, and return once requests are accepted."""
        if self._thread is not None:
            raise RuntimeError("the sandbox server is already running")
        sock = bind_socket(self.host, self.port)
        self.port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn_config(self.app, self.host, self.port, self._loop, graceful=1))
        install_log_filter()
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="genesys-sandbox", daemon=True
        )
        self._server, self._thread = server, thread
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the sandbox server did not start")
            time.sleep(0.005)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask uvicorn to exit, wait for the thread; idempotent."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(timeout)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class ForegroundServer(uvicorn.Server):
    """uvicorn's server that exits cleanly (status 0) on SIGINT or SIGTERM instead of re-raising."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
