"""A request-shaped service loop: parse, build cyclic request objects, render, time each one.

Setup prepares a pool of 64 deterministic raw requests, each a request line plus a
block of five headers: ``GET /items?...`` and ``GET /users/<id>?...`` query strings, and
``POST /orders`` requests whose body is a JSON document with 2 to 6 order lines. Each
step serves ``size`` requests picked from the pool by the seeded generator. Serving one
request parses the request line, query string and headers with string methods (and
the body with ``json.loads``), then builds a ``Request`` and a ``Context`` that point at
each other, three ``Middleware`` objects with a notes dict each, a route ``Handler``,
one ``Row`` per result row (8 for item listings, one per requested field for users,
one per order line), and a ``Response``; every one of them points back at the context
or the request. The handler then renders the response text. That is 12 to 20
GC-tracked objects per request (plus a few dicts holding only strings, which the
collector does not track), all reachable only through reference cycles once the
request returns, so reference counting frees none of them and only the cyclic
collector can. Each request's wall time, including any collection that lands inside
it, is measured with ``time.perf_counter_ns`` and passed to
``gctune.measure.probe.record_request``. Only the raw pool, a request counter and the checksum
of the rendered output outlive a step.
"""

from __future__ import annotations

import json
import random
import time
import zlib
from dataclasses import dataclass
from typing import Any, Optional

from gctune.measure.probe import record_request

DEFAULT_SIZE: int = 100
SIZE_HELP: str = "requests served per step"

_POOL = 64
_MASK = (1 << 64) - 1
_ITEMS_PER_PAGE = 8
_SORTS = ("price", "name", "rating", "newest")
_SKUS = ("A-100", "A-220", "B-310", "B-404", "C-512", "D-777", "E-901", "F-333")
_FIELDS = ("name", "email", "plan", "country", "created")
_AGENTS = ("curl/8.5", "Mozilla/5.0 (X11; Linux x86_64)", "python-requests/2.31")


@dataclass(frozen=True)
class RawRequest:
    """What arrives on the wire: request line, header block and body, all unparsed."""

    line: str
    headers: str
    body: str


class Request:
    """The parsed request; its context and response point back to it."""

    __slots__ = (
        "body",
        "context",
        "headers",
        "method",
        "params",
        "path",
        "request_id",
        "response",
    )

    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: Optional[dict[str, Any]]
    request_id: int
    context: Optional[Context]
    response: Optional[Response]

    def __init__(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        headers: dict[str, str],
        request_id: int,
    ) -> None:
        self.method = method
        self.path = path
        self.params = params
        self.headers = headers
        self.body = None
        self.request_id = request_id
        self.context = None
        self.response = None


class Context:
    """Per-request state that the middleware, handler and rows all refer back to."""

    __slots__ = ("handler", "middleware", "request", "rows", "user")

    request: Request
    user: str
    handler: Optional[Handler]
    middleware: list[Middleware]
    rows: list[Row]

    def __init__(self, request: Request, user: str) -> None:
        self.request = request
        self.user = user
        self.handler = None
        self.middleware = []
        self.rows = []
        request.context = self


class Middleware:
    """One layer of the per-request middleware chain, holding what it learned."""

    __slots__ = ("context", "name", "notes")

    name: str
    context: Context
    notes: dict[str, str]

    def __init__(self, name: str, context: Context, notes: dict[str, str]) -> None:
        self.name = name
        self.context = context
        self.notes = notes
        context.middleware.append(self)


class Row:
    """One result row (listing entry, profile field or order line) owned by the context."""

    __slots__ = ("context", "key", "label", "qty", "value")

    context: Context
    key: int
    label: str
    qty: int
    value: int

    def __init__(self, context: Context, key: int, label: str, qty: int, value: int) -> None:
        self.context = context
        self.key = key
        self.label = label
        self.qty = qty
        self.value = value
        context.rows.append(self)


class Handler:
    """One route's handler, instantiated per request as many frameworks do."""

    __slots__ = ("context", "route")

    route: str
    context: Context

    def __init__(self, route: str, context: Context) -> None:
        self.route = route
        self.context = context
        context.handler = self

    def render(self) -> str:
        ctx = self.context
        req = ctx.request
        head = [f"HTTP/1.1 200 OK\r\nX-Request-Id: {req.request_id}\r\nX-User: {ctx.user}"]
        head.extend(f"X-{mw.name}: {len(mw.notes)}" for mw in ctx.middleware)
        if self.route == "orders":
            rows = [
                f"{row.label:<6} x{row.qty:>3} @ {row.value / 100:>8.2f} = "
                f"{row.qty * row.value / 100:>9.2f}"
                for row in ctx.rows
            ]
            rows.append(f"TOTAL {sum(row.qty * row.value for row in ctx.rows) / 100:.2f}")
        elif self.route == "users":
            rows = [f"user {req.path.rsplit('/', 1)[-1]} ({req.params.get('lang', '-')})"]
            rows.extend(f"{row.label}: {row.label[:2]}{row.value}" for row in ctx.rows)
        else:
            rows = [f"#{row.key} {row.label} {row.value / 100:.2f}" for row in ctx.rows]
        return "\r\n".join(head) + "\r\n\r\n" + "\n".join(rows)


class Response:
    """The rendered response; it keeps its request, which keeps it."""

    __slots__ = ("request", "status", "text")

    request: Request
    status: int
    text: str

    def __init__(self, request: Request, status: int, text: str) -> None:
        self.request = request
        self.status = status
        self.text = text
        request.response = self


@dataclass
class State:
    """The raw request pool, the request counter and the seeded generator."""

    rng: random.Random
    size: int
    pool: list[RawRequest]
    served: int = 0
    checksum: int = 0


def _make_pool(rng: random.Random) -> list[RawRequest]:
    pool: list[RawRequest] = []
    for n in range(_POOL):
        user = f"u{rng.randrange(10_000):04d}"
        headers = "\r\n".join(
            (
                "Host: shop.example",
                "Accept: application/json",
                f"User-Agent: {rng.choice(_AGENTS)}",
                f"Cookie: session={rng.getrandbits(64):016x}; theme=dark; ab={n % 4}",
                f"X-Trace: {rng.getrandbits(32):08x}",
            )
        )
        kind = n % 3
        if kind == 0:
            query = f"user={user}&page={rng.randrange(1, 40)}&sort={rng.choice(_SORTS)}"
            pool.append(RawRequest(f"GET /items?{query}", headers, ""))
        elif kind == 1:
            fields = ",".join(rng.sample(_FIELDS, 3))
            query = f"user={user}&lang=en&fields={fields}&v={rng.randrange(3)}"
            pool.append(RawRequest(f"GET /users/{rng.randrange(100_000)}?{query}", headers, ""))
        else:
            lines = [
                {
                    "sku": rng.choice(_SKUS),
                    "qty": rng.randrange(1, 10),
                    "price_cents": rng.randrange(99, 99_999),
                }
                for _ in range(rng.randint(2, 6))
            ]
            body = json.dumps({"user": user, "lines": lines, "note": "deliver " + user})
            pool.append(RawRequest("POST /orders?user=" + user, headers, body))
    return pool


def setup(size: int) -> State:
    """Build the pool of raw requests; nothing else is prebuilt."""
    rng = random.Random(0x2E9)
    return State(rng=rng, size=size, pool=_make_pool(rng))


def _serve(raw: RawRequest, request_id: int) -> str:
    method, _, target = raw.line.partition(" ")
    path, _, query = target.partition("?")
    params = dict(pair.split("=", 1) for pair in query.split("&") if pair)
    headers = {}
    for header in raw.headers.split("\r\n"):
        name, _, value = header.partition(": ")
        headers[name.lower()] = value
    request = Request(method, path, params, headers, request_id)
    context = Context(request, params.get("user", "anonymous"))

    cookies = dict(
        part.strip().split("=", 1) for part in headers.get("cookie", "").split(";") if part
    )
    Middleware("auth", context, {"user": context.user, "agent": headers.get("user-agent", "")})
    Middleware("session", context, cookies)
    Middleware("trace", context, {"trace": headers.get("x-trace", ""), "path": path})

    if path.startswith("/orders"):
        route = "orders"
        body: dict[str, Any] = json.loads(raw.body)
        request.body = body
        for n, line in enumerate(body["lines"]):
            Row(context, n, line["sku"], line["qty"], line["price_cents"])
    elif path.startswith("/users/"):
        route = "users"
        for n, field in enumerate(params.get("fields", "").split(",")):
            Row(context, n, field, 1, len(field) * 37 + request_id % 7)
    else:
        route = "items"
        page = int(params.get("page", "1"))
        sort = params.get("sort", "price")
        for n in range(_ITEMS_PER_PAGE):
            key = page * _ITEMS_PER_PAGE + n
            Row(context, key, f"{sort}-{key}", 1, key * 997 % 10_000)
    text = Handler(route, context).render()
    return Response(request, 200, text).text


def step(state: State) -> None:
    """Serve ``size`` requests, recording each one's latency with the probe."""
    rng = state.rng
    pool = state.pool
    acc = state.checksum
    clock = time.perf_counter_ns
    for _ in range(state.size):
        raw = pool[rng.randrange(_POOL)]
        state.served += 1
        start = clock()
        text = _serve(raw, state.served)
        record_request(clock() - start)
        acc = (acc * 1_000_003 + zlib.crc32(text.encode())) & _MASK
    state.checksum = acc
