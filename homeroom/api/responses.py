"""JSON responses encoded with orjson: a page of 100 entities is encoded several times faster than with json."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse


class GraphJSON(JSONResponse):
    """``application/json`` in UTF-8, as ``JSONResponse`` but encoded with orjson."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
