"""Graph's URL tolerances (spec §0.5), applied before routing so that routes are declared once.

- path segments are matched case-insensitively (``/OutboundProvisioningFlowSets``, ``/GetStatistics``);
- keys in parentheses, quoted or not: ``/dataConnectors('id')`` is ``/dataConnectors/id``;
- namespace-qualified actions and functions, with or without ``()``: ``/microsoft.graph.industryData.getStatistics()``;
- type-cast segments (``/microsoft.graph.industryData.azureDataLakeConnector``) are dropped.
"""

from __future__ import annotations

import re
from urllib.parse import quote

_KEYED = re.compile(r"^(?P<name>[A-Za-z$][\w.$]*)\((?P<key>[^()]*)\)$")


class GraphPaths:
    """Rewrites request paths to the canonical spelling of their known segments."""

    def __init__(self, app, segments: set[str], type_names: set[str], namespaces: tuple[str, ...] = (),
                 untouched_prefixes: tuple[str, ...] = ()):
        self.app = app
        #: Namespaces that qualify actions and casts, longest first (``microsoft.graph.industryData.`` before ``microsoft.graph.``).
        self.namespaces = tuple(sorted({f"{n.lower()}." for n in (*namespaces, "microsoft.graph")}, key=len, reverse=True))
        self.untouched_prefixes = untouched_prefixes  # e.g. the upload endpoint, whose blob names are case-sensitive
        self.canonical = {s.lower(): s for s in segments}
        self.type_names = {t.lower() for t in type_names}

    def rewrite(self, path: str) -> str:
        """The canonical form of a path."""
        out: list[str] = []
        for segment in path.split("/"):
            m = _KEYED.match(segment)
            if m and m.group("name").lower() in self.canonical:
                out.append(self.canonical[m.group("name").lower()])
                key = m.group("key")
                if key:
                    out.append(key[1:-1].replace("''", "'") if key.startswith("'") and key.endswith("'") else key)
                continue
            low = segment.lower()
            qualified = False
            for ns in self.namespaces:
                if low.startswith(ns):
                    low, segment, qualified = low[len(ns):], segment[len(ns):], True
                    break
            if low.endswith("()") and (qualified or low[:-2] in self.canonical):
                low, segment = low[:-2], segment[:-2]
            if qualified and low in self.type_names:
                continue  # a type cast
            out.append(self.canonical.get(low, segment))
        return "/".join(out)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and not scope["path"].startswith(self.untouched_prefixes):
            path = self.rewrite(scope["path"])
            if path != scope["path"]:
                scope = dict(scope, path=path, raw_path=quote(path, safe="/$'()@:,").encode())
        await self.app(scope, receive, send)


