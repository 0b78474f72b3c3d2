"""``homeroom serve``: the Graph-compatible API under uvicorn."""

from __future__ import annotations

from typing import Annotated, Optional

import typer


def serve(
    host: Annotated[Optional[str], typer.Option(help="Address to listen on (default: HOMEROOM_API_HOST, 127.0.0.1).")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port to listen on (default: HOMEROOM_API_PORT, 8000).")] = None,
) -> None:
    """Serve the Graph-compatible API (/beta/external/industryData) with uvicorn."""
    import uvicorn

    from homeroom.api import create_app
    from homeroom.settings import get_settings

    settings = get_settings()
    uvicorn.run(create_app(settings), host=host or settings.api_host, port=port or settings.api_port, log_level="info")
