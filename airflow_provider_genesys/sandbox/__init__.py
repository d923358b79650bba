"""An embedded Genesys Cloud analytics API for demos, tests and benchmarks.

``create_app`` builds the ASGI app (state in ``app.state.sandbox``);
``SandboxServer`` serves it on 127.0.0.1 in a background thread;
``python -m airflow_provider_genesys.sandbox`` serves it in the foreground.
Needs the ``[sandbox]`` extra (Starlette, uvicorn).
"""

from __future__ import annotations

from .app import create_app
from .config import ClientSpec, SandboxConfig
from .faults import DroppedConnectionError
from .server import SandboxServer
from .state import Sandbox

__all__ = ["ClientSpec", "DroppedConnectionError", "Sandbox", "SandboxConfig", "SandboxServer", "create_app"]
