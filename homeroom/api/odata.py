"""OData query options over a collection, written once for every resource.

Collections of the control plane are small (tens to thousands of rows per tenant), so options are applied to
the Graph JSON of the rows: ``$filter`` (eq, ne, gt, ge, lt, le, and, or, not, ``in``, ``startswith``,
``endswith``, ``contains``), ``$orderby``, ``$count``, ``$skip``, ``$top``, ``$select``, ``$expand``, and
server-driven paging with ``@odata.nextLink``. Property names are checked against the resource's declared properties.

As in Graph, ``$top`` is the page size (bounded by the server's own): a page is followed by an ``@odata.nextLink``
while more results remain. NextLinks carry an opaque ``$skiptoken``: the position of the next page, signed with a
key of the server and bound to the query's ``$filter``, ``$orderby`` and ``$search``, so that a token edited by
hand or used on another query is a clear 400 rather than a silently different page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlencode

from homeroom.api.errors import BadRequest

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)(?![\w-])|(?P<punct>[(),])|(?P<word>[A-Za-z_][\w./@-]*))"
)
_COMPARISONS = {"eq", "ne", "gt", "ge", "lt", "le"}
_FUNCTIONS = {"startswith", "endswith", "contains"}

Predicate = Callable[[dict], bool]
MAX_FILTER_LENGTH = 4000
MAX_FILTER_DEPTH = 50


def _tokens(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise BadRequest(f"Invalid $filter: unexpected text at position {pos}: {text[pos:pos + 20]!r}.")
        pos = m.end()
        if m.group("str") is not None:
            out.append(("lit", m.group("str")[1:-1].replace("''", "'")))
        elif m.group("num") is not None:
            n = m.group("num")
            out.append(("lit", float(n) if "." in n else int(n)))
        elif m.group("punct"):
            out.append((m.group("punct"), None))
        else:
            word = m.group("word")
            low = word.lower()
            if low in ("true", "false"):
                out.append(("lit", low == "true"))
            elif low == "null":
                out.append(("lit", None))
            elif low in _COMPARISONS | {"and", "or", "not", "in"}:
                out.append((low, None))
            else:
                out.append(("name", word))
        if pos < len(text) and text[pos:].strip() == "":
            break
    return out


def lookup(item: dict, path: str) -> Any:
    """The value at a ``/``-separated property path of a JSON object, or None."""
    value: Any = item
    for part in path.split("/"):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _comparable(a: Any, b: Any) -> tuple[Any, Any]:
    if isinstance(a, str) and isinstance(b, str):
        return a.lower(), b.lower()  # Graph compares strings case-insensitively
    return a, b


class _FilterParser:
    def __init__(self, text: str, properties: frozenset[str]):
        if len(text) > MAX_FILTER_LENGTH:
            raise BadRequest(f"Invalid $filter: longer than {MAX_FILTER_LENGTH} characters.")
        self.depth = 0
        self.tokens = _tokens(text)
        self.pos = 0
        self.properties = properties

    def peek(self) -> str | None:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def take(self, kind: str | None = None) -> tuple[str, Any]:
        if self.pos >= len(self.tokens):
            raise BadRequest("Invalid $filter: the expression ends too early.")
        tok = self.tokens[self.pos]
        if kind is not None and tok[0] != kind:
            raise BadRequest(f"Invalid $filter: expected {kind!r} but found {tok[1] if tok[1] is not None else tok[0]!r}.")
        self.pos += 1
        return tok

    def parse(self) -> Predicate:
        pred = self.or_expr()
        if self.pos != len(self.tokens):
            raise BadRequest(f"Invalid $filter: unexpected {self.tokens[self.pos][1] or self.tokens[self.pos][0]!r}.")
        return pred

    def or_expr(self) -> Predicate:
        left = self.and_expr()
        while self.peek() == "or":
            self.take()
            right = self.and_expr()
            left = (lambda a, b: lambda i: a(i) or b(i))(left, right)
        return left

    def and_expr(self) -> Predicate:
        left = self.unary()
        while self.peek() == "and":
            self.take()
            right = self.unary()
            left = (lambda a, b: lambda i: a(i) and b(i))(left, right)
        return left

    def unary(self) -> Predicate:
        if self.peek() == "not":
            self.take()
            self.depth += 1
            if self.depth > MAX_FILTER_DEPTH:
                raise BadRequest(f"Invalid $filter: nested deeper than {MAX_FILTER_DEPTH} levels.")
            inner = self.unary()
            self.depth -= 1
            return lambda i: not inner(i)
        if self.peek() == "(":
            self.take()
            self.depth += 1
            if self.depth > MAX_FILTER_DEPTH:
                raise BadRequest(f"Invalid $filter: nested deeper than {MAX_FILTER_DEPTH} levels.")
            inner = self.or_expr()
            self.take(")")
            self.depth -= 1
            return inner
        return self.comparison()

    def prop(self) -> str:
        _, name = self.take("name")
        if name.split("/")[0] not in self.properties:
            raise BadRequest(f"Invalid $filter: property '{name}' does not exist on this resource.")
        return name

    def literal(self) -> Any:
        return self.take("lit")[1]

    def comparison(self) -> Predicate:
        kind, word = self.tokens[self.pos] if self.pos < len(self.tokens) else (None, None)
        if kind == "name" and word.lower() in _FUNCTIONS and self.pos + 1 < len(self.tokens) and self.tokens[self.pos + 1][0] == "(":
            self.take()
            self.take("(")
            path = self.prop()
            self.take(",")
            needle = self.literal()
            self.take(")")
            if not isinstance(needle, str):
                raise BadRequest(f"Invalid $filter: {word} takes a string.")
            fn = {"startswith": str.startswith, "endswith": str.endswith, "contains": str.__contains__}[word.lower()]
            return lambda i: isinstance(lookup(i, path), str) and fn(lookup(i, path).lower(), needle.lower())
        path = self.prop()
        op = self.take()[0]
        if op == "in":
            self.take("(")
            values = [self.literal()]
            while self.peek() == ",":
                self.take()
                values.append(self.literal())
            self.take(")")
            return lambda i: any(_comparable(lookup(i, path), v)[0] == _comparable(lookup(i, path), v)[1] for v in values)
        if op not in _COMPARISONS:
            raise BadRequest(f"Invalid $filter: unsupported operator {op!r}.")
        value = self.literal()

        def compare(item: dict) -> bool:
            a, b = _comparable(lookup(item, path), value)
            if op == "eq":
                return a == b
            if op == "ne":
                return a != b
            if a is None or b is None:
                return False
            try:
                return {"gt": a > b, "ge": a >= b, "lt": a < b, "le": a <= b}[op]
            except TypeError:
                return False

        return compare


def parse_filter(text: str, properties: frozenset[str]) -> Predicate:
    """A predicate over Graph JSON objects from a ``$filter`` expression."""
    return _FilterParser(text, properties).parse()


def _sort_key(value: Any) -> tuple:
    if value is None:
        return (0, "")
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, (int, float)):
        return (1, value)
    return (2, str(value).lower())


@dataclass
class QueryOptions:
    """The OData system query options of one request."""

    top: int | None = None
    skip: int = 0
    count: bool = False
    filter: str | None = None
    orderby: str | None = None
    select: list[str] | None = None
    expand: list[str] = field(default_factory=list)
    search: str | None = None
    skiptoken: str | None = None  #: opaque, checked by ``page`` (which holds the key)

    @classmethod
    def from_query(cls, params: dict[str, str]) -> "QueryOptions":
        """Parse the ``$``-options of a query string (with or without the ``$``, any case), within ``LIMITS``."""
        opts = cls()
        for raw, value in params.items():
            _within_limits(raw.lstrip("$").lower(), raw, value)
        known = {"top", "skip", "count", "filter", "orderby", "select", "expand", "search", "skiptoken", "format"}
        for raw, value in params.items():
            name = raw.lstrip("$").lower()
            if name not in known:
                if raw.startswith("$"):
                    raise BadRequest(f"Query option '{raw}' is not supported.")
                continue
            if name == "skiptoken":
                opts.skiptoken = value
            elif name in ("top", "skip"):
                try:
                    number = int(value)
                except ValueError:
                    raise BadRequest(f"Invalid value {value!r} for query option '${name}': a non-negative integer is required.") from None
                if number < 0:
                    raise BadRequest(f"Invalid value {value!r} for query option '${name}': a non-negative integer is required.")
                if name == "top":
                    opts.top = number
                else:
                    opts.skip = number
            elif name == "count":
                if value.lower() not in ("true", "false"):
                    raise BadRequest(f"Invalid value {value!r} for query option '$count': true or false.")
                opts.count = value.lower() == "true"
            elif name == "filter":
                opts.filter = value
            elif name == "orderby":
                opts.orderby = value
            elif name == "select":
                opts.select = [s.strip() for s in value.split(",") if s.strip()]
            elif name == "expand":
                opts.expand = [s.strip().split("(")[0] for s in value.split(",") if s.strip()]
            elif name == "search":
                opts.search = value.strip('"')
        return opts


#: Bounds on what one request may ask for (a client asking for more is refused with 400 before any work):
#: every industryData type has fewer than 20 properties and navigations.
MAX_QUERY_CHARS = 4096
MAX_LIST_ITEMS = 32
MAX_FILTER_CHARS = 2000


def _within_limits(name: str, raw: str, value: str) -> None:
    """Refuse an option that asks for more than a request may: too long, too many or repeated items."""
    if name == "filter" and len(value) > MAX_FILTER_CHARS:
        raise BadRequest(f"Query option '{raw}' is longer than {MAX_FILTER_CHARS} characters.")
    if name in ("select", "expand", "orderby"):
        items = [s.strip().split("(")[0].split()[0] for s in value.split(",") if s.strip()]
        if len(items) > MAX_LIST_ITEMS:
            raise BadRequest(f"Query option '{raw}' lists {len(items)} items; at most {MAX_LIST_ITEMS} are accepted.")
        seen: set[str] = set()
        for item in items:
            if item.lower() in seen:
                raise BadRequest(f"Query option '{raw}' names '{item}' more than once.")
            seen.add(item.lower())


def check_query_length(query: str) -> None:
    """Refuse a query string longer than ``MAX_QUERY_CHARS``."""
    if len(query) > MAX_QUERY_CHARS:
        raise BadRequest(f"The query string is longer than {MAX_QUERY_CHARS} characters.")


def filter_and_sort(items: list[dict], opts: QueryOptions, properties: frozenset[str]) -> list[dict]:
    """Items matching ``$filter`` and ``$search``, in ``$orderby`` order."""
    if opts.filter:
        predicate = parse_filter(opts.filter, properties)
        items = [i for i in items if predicate(i)]
    if opts.search:
        needle = opts.search.lower()
        items = [i for i in items if needle in str(i.get("displayName") or i.get("code") or "").lower()]
    if opts.orderby:
        for clause in reversed([c.strip() for c in opts.orderby.split(",") if c.strip()]):
            parts = clause.split()
            path = parts[0]
            direction = parts[1].lower() if len(parts) > 1 else "asc"
            if path.split("/")[0] not in properties:
                raise BadRequest(f"Invalid $orderby: property '{path}' does not exist on this resource.")
            if direction not in ("asc", "desc") or len(parts) > 2:
                raise BadRequest(f"Invalid $orderby clause {clause!r}.")
            items = sorted(items, key=lambda i: _sort_key(lookup(i, path)), reverse=direction == "desc")
    return items


def select_properties(item: dict, select: list[str] | None, properties: frozenset[str], expanded: Iterable[str] = ()) -> dict:
    """The item with only the ``$select``-ed properties, plus ``id``, annotations and the ``expanded`` navigations
    (OData returns what ``$expand`` asked for whatever ``$select`` says)."""
    if not select:
        return item
    for name in select:
        if name not in properties:
            raise BadRequest(f"Invalid $select: property '{name}' does not exist on this resource.")
    keep = {*select, *expanded}
    return {k: v for k, v in item.items() if k in keep or k == "id" or k.startswith("@odata.")}


#: The ``$skiptoken`` of a nextLink: urlsafe base64 of ``<position>.<signature>``.
_SKIPTOKEN = re.compile(r"(\d{1,12})\.([0-9a-f]{32})")


def _signature(key: bytes, position: int, opts: QueryOptions) -> str:
    # Bound to what decides the order of the results, so a token only continues the query it came from.
    query = "\n".join((str(position), opts.filter or "", opts.orderby or "", opts.search or ""))
    return hmac.new(key, query.encode(), hashlib.sha256).hexdigest()[:32]


def skiptoken(position: int, opts: QueryOptions, key: bytes) -> str:
    """The opaque ``$skiptoken`` that continues the query of ``opts`` at ``position``."""
    return base64.urlsafe_b64encode(f"{position}.{_signature(key, position, opts)}".encode()).decode().rstrip("=")


def skiptoken_position(token: str, opts: QueryOptions, key: bytes) -> int:
    """Where a ``$skiptoken`` of this server continues the query of ``opts``; 400 for any other token."""
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        text = ""
    m = _SKIPTOKEN.fullmatch(text)
    if m is None or not hmac.compare_digest(m.group(2), _signature(key, int(m.group(1)), opts)):
        raise BadRequest("Invalid value for query option '$skiptoken': it is not a token of this server for this query "
                         "(take $skiptoken from an @odata.nextLink, unchanged, with the same $filter, $orderby and $search).")
    return int(m.group(1))


def page(items: list[dict], opts: QueryOptions, *, page_size: int, url: str, params: dict[str, str],
         key: bytes) -> tuple[list[dict], str | None]:
    """One page of items and the ``@odata.nextLink`` to the next one while more remain.

    The page starts after ``$skip`` items (or where ``$skiptoken`` says) and holds ``$top`` items, at most
    ``page_size``. The nextLink keeps the request's other options, ``$top`` included, and continues with a
    ``$skiptoken`` in place of ``$skip``.
    """
    start = opts.skip
    if opts.skiptoken is not None:
        if opts.skip:
            raise BadRequest("Query options '$skip' and '$skiptoken' cannot be combined: a $skiptoken already says where the page starts.")
        start = skiptoken_position(opts.skiptoken, opts, key)
    size = page_size if opts.top is None else min(opts.top, page_size)
    chunk = items[start:start + size]
    next_link = None
    if size > 0 and start + size < len(items):
        rest = {k: v for k, v in params.items() if k.lstrip("$").lower() not in ("skip", "skiptoken")}
        rest["$skiptoken"] = skiptoken(start + size, opts, key)
        next_link = f"{url}?{urlencode(rest, safe='$,()')}"
    return chunk, next_link
