"""What stands between `serve`'s routes and a client that means harm: one ASGI middleware,
outside all of FastAPI's, and the uvicorn settings that bound connections.

`Guard`, in this order: every response gets the security headers (errors, 404s and /static/
too); a request is refused, as JSON `{"error": ...}`, when its headers are over MAX_HEADERS
bytes (431), its Host names another server (400: DNS rebinding), a request other than a POST
declares a body (400: it is never read), a POST's Origin is not this server's (403), a POST is not `application/json` or is compressed (415), its
body is over MAX_BODY bytes (413) or does not arrive within BODY_TIMEOUT seconds (408), or
MAX_IN_FLIGHT POSTs are already being answered (503). HEAD is answered as GET, without the
body. `_HeadTimeout` is uvicorn's h11 protocol
with a deadline on a request's line and headers, which uvicorn itself does not have.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol

MAX_BODY = 1 << 20  # bytes of a request body; more is a 413
MAX_HEADERS = 8 << 10  # bytes of headers the app reads; h11 answers a head over MAX_HEAD itself
MAX_HEAD = 16 << 10  # bytes of request line and headers that h11 buffers (its 400 past it)
BODY_TIMEOUT = 20.0  # seconds for a whole request body to arrive
HEAD_TIMEOUT = 10.0  # seconds for a request's line and headers, from a connection's first wait
KEEP_ALIVE = 5.0  # seconds an idle keep-alive connection is kept
MAX_IN_FLIGHT = 8  # POSTs being answered at once; past it a 503 at once, never a queue
MAX_CONNECTIONS = 100  # connections and requests at once; past it uvicorn answers 503 itself
LOOPBACK = ("127.0.0.1", "localhost", "::1")
HEADERS = {  # the page loads nothing from elsewhere; nothing may frame it
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                               "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
_RAW = [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()]
_WILDCARD = ("0.0.0.0", "::", "")


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or a name) reaches this machine only: every address it
    resolves to is a loopback one. 0.0.0.0, :: and a LAN address are not."""
    name = host.strip("[]")
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        pass
    if name.lower() == "localhost":
        return True
    try:
        infos = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0].split("%")[0]).is_loopback
                               for i in infos)


def host_warning(host: str) -> str | None:
    """The warning `serve --host HOST` prints, or None for a loopback address."""
    if is_loopback(host):
        return None
    return (f"Warning: listening on {host}: the API has no authentication, so anyone who can "
            f"reach this address can use it (and read the model's path)")


def allowed_hosts(host: str) -> tuple[frozenset[str], bool]:
    """The names a request's Host may give when serving on `host`, and whether any IP
    address is allowed too (on 0.0.0.0 or ::, other machines use this one's addresses). A
    name that is not an address is what DNS rebinding needs, so only these are let in."""
    names = {h.lower() for h in (*LOOPBACK, host.strip("[]"))}
    wildcard = host.strip("[]") in _WILDCARD
    if wildcard:
        names.add(socket.gethostname().lower())
    return frozenset(names - {""}), wildcard


def _host_name(value: str) -> str | None:
    """The name in a Host header value (`name`, `name:port`, `[v6]:port`), else None."""
    if value.startswith("["):
        name, _, rest = value[1:].partition("]")
    else:
        name, _, port = value.partition(":")
        rest = f":{port}" if _ else ""
    if rest and not (rest[0] == ":" and rest[1:].isdigit() and rest[1:].isascii()):
        return None
    return name.lower() or None


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


def _shown(value: bytes, width: int = 80) -> str:
    text = value.decode("latin-1")
    return ascii(text[:width] + ("…" if len(text) > width else ""))


async def send_error(send, status: int, message: str, *extra: tuple[bytes, bytes]) -> None:
    """`{"error": message}` as a whole response, straight on the ASGI `send`."""
    body = json.dumps({"error": message}, separators=(",", ":")).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        *extra]})
    await send({"type": "http.response.body", "body": body})


def _headers_only(send):
    """An ASGI `send` that passes a response's start and drops its body (for HEAD)."""
    async def head(message):
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)
    return head


CLOSE = (b"connection", b"close")  # after an error mid-request, the connection is not reused


class Guard:
    """The ASGI middleware described at the top of this module."""

    def __init__(self, app, hosts: tuple[frozenset[str], bool] = (frozenset(LOOPBACK), False),
                 max_body: int = MAX_BODY, body_timeout: float = BODY_TIMEOUT,
                 max_in_flight: int = MAX_IN_FLIGHT):
        self.app, (self.names, self.any_ip) = app, hosts
        self.max_body, self.body_timeout, self.max_in_flight = max_body, body_timeout, max_in_flight
        self.in_flight = 0

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def secure(message):
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                message = {**message, "headers": [*message.get("headers", []),
                                                  *(h for h in _RAW if h[0] not in have)]}
            await send(message)

        refusal = self.refusal(scope)
        if refusal is not None:
            return await send_error(secure, *refusal, CLOSE)
        if scope["method"] == "HEAD":  # answered as GET is, without the body (RFC 9110)
            scope, secure = {**scope, "method": "GET"}, _headers_only(secure)
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, secure)
        body = await self.read_body(scope, receive, secure)
        if body is None:
            return
        if self.in_flight >= self.max_in_flight:
            return await send_error(secure, 503, f"busy: {self.in_flight} requests are being "
                                    f"answered; try again in a moment", (b"retry-after", b"1"))
        self.in_flight += 1
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        try:
            await self.app(scope, replay, secure)
        finally:
            self.in_flight -= 1

    def refusal(self, scope) -> tuple[int, str] | None:
        """(status, message) for a request refused on its headers alone, else None."""
        headers = scope["headers"]
        if sum(len(k) + len(v) for k, v in headers) > MAX_HEADERS:
            return 431, f"the request headers are over {MAX_HEADERS:,} bytes"
        values: dict[bytes, list[bytes]] = {}
        for key, value in headers:
            values.setdefault(key.lower(), []).append(value)
        for key in (b"host", b"origin", b"content-type", b"content-encoding"):
            if len(values.get(key, [])) > 1:
                return 400, f"more than one {key.decode()} header"
        host = values.get(b"host", [b""])[0]
        name = _host_name(host.decode("latin-1"))
        if name is None or not (name in self.names or self.any_ip and _is_ip(name)):
            return 400, (f"the Host header {_shown(host)} is not a name this server answers to "
                         f"(it answers to {', '.join(sorted(self.names))})")
        has_body = (values.get(b"content-length", [b"0"])[0].strip() not in (b"0", b"")
                    or b"transfer-encoding" in values)
        if scope["method"] not in ("POST", "PUT", "PATCH") and has_body:
            # never read, it would keep the connection open as long as bytes trickle in
            return 400, f"a {scope['method']} request carries no body"
        if scope["method"] in ("GET", "HEAD"):
            return None
        origin = values.get(b"origin", [None])[0]
        if origin is not None and origin.lower() != b"http://" + host.lower():
            return 403, f"a request from another site's page (Origin {_shown(origin)}) is refused"
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            return None
        encoding = values.get(b"content-encoding", [b"identity"])[0].strip().lower()
        if encoding != b"identity":
            return 415, f"Content-Encoding not supported ({_shown(encoding)}): send the body as is"
        kind = values.get(b"content-type", [b""])[0].decode("latin-1")
        media, *params = (p.strip().lower() for p in kind.split(";"))
        if media != "application/json":
            return 415, (f"the body must be sent as Content-Type: application/json, not "
                         f"{_shown(kind.encode('latin-1')) if kind else 'none'}")
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "charset" and value.strip().strip('"') not in ("utf-8", "utf8"):
                return 415, f"the body must be UTF-8, not {_shown(value.encode('latin-1'))}"
        length = values.get(b"content-length", [b""])[0]
        if length.isdigit() and int(length) > self.max_body:
            return 413, f"the body is over {self.max_body:,} bytes"
        return None

    async def read_body(self, scope, receive, send) -> bytes | None:
        """The whole body, or None once a 413 or 408 is sent (or the client left)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.body_timeout
        chunks, size, more = [], 0, True
        while more:
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                await send_error(send, 408, f"the body did not arrive within "
                                 f"{self.body_timeout:g} s", CLOSE)
                return None
            if message["type"] != "http.request":
                return None  # the client left
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_body:
                await send_error(send, 413, f"the body is over {self.max_body:,} bytes", CLOSE)
                return None
            more = message.get("more_body", False)
        return b"".join(chunks)


class _HeadTimeout(H11Protocol):
    """uvicorn's h11 protocol, with a connection closed when a request's line and headers
    have not all arrived HEAD_TIMEOUT seconds after it began waiting for them (uvicorn itself
    times out only idle keep-alive connections: a half-sent head would be held forever)."""

    head_timeout = HEAD_TIMEOUT

    def connection_made(self, transport) -> None:
        self._head_timer = None
        super().connection_made(transport)
        self._watch()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch()

    def connection_lost(self, exc) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        super().connection_lost(exc)

    def _waiting(self) -> bool:
        import h11

        return self.conn.their_state is h11.IDLE and not self.transport.is_closing()

    def _watch(self) -> None:
        if self._waiting() and self._head_timer is None:
            self._head_timer = self.loop.call_later(self.head_timeout, self._expired)
        elif not self._waiting() and self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _expired(self) -> None:
        self._head_timer = None
        if self._waiting():
            self.transport.close()


def uvicorn_config(app, head_timeout: float = HEAD_TIMEOUT, keep_alive: float = KEEP_ALIVE,
                   max_connections: int = MAX_CONNECTIONS):
    """uvicorn's settings for `serve`: the h11 protocol above, its head size bound, the
    keep-alive timeout and the connection limit."""
    import uvicorn

    protocol = type("Protocol", (_HeadTimeout,), {"head_timeout": head_timeout})
    return uvicorn.Config(app, http=protocol, h11_max_incomplete_event_size=MAX_HEAD,
                          timeout_keep_alive=keep_alive, limit_concurrency=max_connections,
                          log_level="warning", access_log=False, lifespan="off")
