"""``python -m airflow_provider_genesys.sandbox``: serve the sandbox in the foreground until a signal."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .app import create_app
from .config import parse_args
from .server import ForegroundServer, bind_socket, install_log_filter, uvicorn_config

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Bind, announce the URL on stdout, serve; exit 0 on SIGINT or SIGTERM."""
    config, host, port = parse_args(argv)
    app = create_app(config)
    sock = bind_socket(host, port)
    port = sock.getsockname()[1]
    server = ForegroundServer(uvicorn_config(app, host, port))
    install_log_filter()
    shown = f"[{host}]" if ":" in host else host
    print(f"Genesys Cloud sandbox listening on http://{shown}:{port}", flush=True)
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
