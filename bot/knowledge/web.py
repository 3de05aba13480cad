"""A polite, careful HTTP client for feeds and article pages.

It says who it is (User-Agent with newsbot's version), sends conditional requests when it has
an ETag or Last-Modified, gives each request one deadline over connecting, headers, body and
redirects (a watchdog hangs up; `cancel` hangs up every request at once), follows a bounded
number of redirects itself, checking each hop (`bot.knowledge.safety`: the feed's own host or
public addresses only), sends at most a few requests to one host at once, fetches only
http(s), and stops reading a response at a size cap, counting decompressed bytes (a gzip bomb
stops at the cap, it never fills memory). Every failure is a FetchError with a one-line reason.
"""

from __future__ import annotations

import socket
import threading
import time
import zlib
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit
from urllib.request import getproxies

import httpx

from bot import __version__
from bot.errors import FetchError
from bot.knowledge.safety import RefusedAddress, check_peer, check_url, host_of
from bot.text import printable

USER_AGENT = f"newsbot/{__version__} (news question bot; feed reader)"
TIMEOUT = 15.0  # seconds for connecting and between bytes
TOTAL_TIMEOUT = 60.0  # seconds for a whole request: connecting, headers, body, redirects
MAX_BYTES = 5 * 1024 * 1024  # decoded bytes per response
MAX_REDIRECTS = 5
PER_HOST = 2  # requests to one host at once


@dataclass(frozen=True)
class Response:
    """A finished download: the final URL (after redirects), status, body and validators."""

    url: str
    status: int
    content: bytes
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def is_web_url(url: str) -> bool:
    """Only http and https addresses are fetched."""
    parts = urlsplit(url)
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


class WebClient:
    """One HTTP client for a fetch round (thread-safe; close it, or use it as a context).

    Each request has one deadline (`total_timeout`) over connecting, the headers, the body and
    its redirects; `cancel` ends every request in flight at once and refuses new ones (a round
    cut short by its own deadline, or by the bot shutting down)."""

    def __init__(self, timeout: float = TIMEOUT, total_timeout: float = TOTAL_TIMEOUT,
                 max_bytes: int = MAX_BYTES, max_redirects: int = MAX_REDIRECTS,
                 per_host: int = PER_HOST) -> None:
        self.max_bytes, self.total_timeout, self.per_host = max_bytes, total_timeout, per_host
        self.max_redirects = max_redirects
        self._client = httpx.Client(  # a connection per request: each is checked and timed
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip",
                     "Accept-Language": "de, en;q=0.5"},
            timeout=httpx.Timeout(timeout), follow_redirects=False,
            limits=httpx.Limits(max_keepalive_connections=0),
        )
        self._proxied = bool(getproxies())  # then the peer is the proxy, not the site
        self._hosts: dict[str, threading.BoundedSemaphore] = {}
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._cancelled: str | None = None

    def __enter__(self) -> WebClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections."""
        self._client.close()

    @property
    def cancelled(self) -> str | None:
        """Why the client was cancelled (the reason its requests fail with), or None."""
        return self._cancelled

    def cancel(self, reason: str = "stopped") -> None:
        """End every request in flight now (it fails with `reason`) and refuse new ones."""
        with self._lock:
            self._cancelled = reason
            sockets = list(self._open)
        for sock in sockets:
            _hang_up(sock)

    def _slot(self, url: str) -> threading.BoundedSemaphore:
        host = (urlsplit(url).hostname or "").lower()
        with self._lock:
            return self._hosts.setdefault(host, threading.BoundedSemaphore(self.per_host))

    def get(self, url: str, etag: str | None = None, modified: str | None = None,
            accept: str | None = None, own_host: str | None = None) -> Response:
        """GET a URL; status 304 when the validators still hold. Raises FetchError.
        `own_host`: the feed's host when the URL came from a feed (untrusted): then it and
        every redirect must lead to that host or to a public address. Without it (the
        operator's feed URL) the URL itself is trusted and redirects must stay on its host
        or go public."""
        if not is_web_url(url):
            raise FetchError("not an http(s) address")
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        if accept:
            headers["Accept"] = accept
        deadline = _Deadline(self, self.total_timeout)
        try:
            with self._slot(url), deadline:
                return self._follow(url, headers, own_host, deadline)
        except RefusedAddress as exc:
            raise FetchError(f"refused: {exc}") from None
        except httpx.HTTPError as exc:
            if self._cancelled:
                raise FetchError(self._cancelled) from None
            if deadline.expired:
                raise FetchError(f"the server is too slow (gave up after "
                                 f"{self.total_timeout:.0f} s)") from None
            if isinstance(exc, httpx.TimeoutException):
                raise FetchError("the server did not answer in time") from None
            raise FetchError(f"{type(exc).__name__}: {exc}".splitlines()[0]) from None

    def _follow(self, url: str, headers: dict[str, str], own_host: str | None,
                deadline: _Deadline) -> Response:
        """Request `url` and follow its redirects, checking each hop before it is requested."""
        anchor = own_host if own_host is not None else host_of(url)
        trusted = own_host is None  # the first hop of an operator's feed URL
        for _ in range(self.max_redirects + 1):
            if self._cancelled:
                raise FetchError(self._cancelled)
            if not trusted:
                check_url(url, anchor)
            response = self._get(url, headers, None if trusted else anchor, deadline)
            if isinstance(response, Response):
                return response
            location = urljoin(url, response)
            if not is_web_url(location):
                raise FetchError(f"redirected to {printable(location)}, not an http(s) address")
            url, trusted = location, False
        raise FetchError("too many redirects (a redirect loop?)")

    def _get(self, url: str, headers: dict[str, str], anchor: str | None,
             deadline: _Deadline) -> Response | str:
        """One hop: the Response, or the Location it redirects to."""
        host = host_of(url)

        def trace(event: str, info: dict) -> None:
            if event == "connection.connect_tcp.complete":
                stream = info["return_value"]
                deadline.watch(stream.get_extra_info("socket"))
                if anchor is not None and not self._proxied:
                    check_peer(stream.get_extra_info("server_addr")[0], host, anchor)

        started = time.monotonic()
        with self._client.stream("GET", url, headers=headers,
                                 extensions={"trace": trace}) as response:
            status = response.status_code
            if status in (301, 302, 303, 307, 308) and "location" in response.headers:
                return response.headers["location"]
            if status >= 400:
                raise FetchError(f"HTTP {status} {printable(response.reason_phrase)}".rstrip())
            content = b"" if status == 304 else self._body(response, started)
            return Response(
                url=str(response.url), status=status, content=content,
                content_type=response.headers.get("content-type", "").lower(),
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
                headers=dict(response.headers),
            )

    def _body(self, response: httpx.Response, started: float) -> bytes:
        cap = self.max_bytes
        too_big = FetchError(f"the response is larger than {cap // 1024} KB")
        declared = response.headers.get("content-length", "")
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if declared.isdigit() and encoding == "identity" and int(declared) > cap:
            raise too_big
        if encoding in ("gzip", "x-gzip"):
            decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding in ("", "identity"):
            decoder = None
        else:
            raise FetchError(f"unsupported content encoding {encoding!r}")
        chunks: list[bytes] = []
        size = 0
        for raw in response.iter_raw():
            if time.monotonic() - started > self.total_timeout:
                raise FetchError("the server is too slow (gave up after "
                                 f"{self.total_timeout:.0f} s)")
            data = raw
            while data:
                if decoder is None:
                    out, data = data, b""
                else:  # never more than fits under the cap, whatever the ratio
                    try:
                        out = decoder.decompress(data, cap - size + 1)
                    except zlib.error:
                        raise FetchError("the response is not valid gzip") from None
                    data = decoder.unconsumed_tail
                size += len(out)
                if size > cap:
                    raise too_big
                chunks.append(out)
                if decoder is not None and not out:
                    break
        return b"".join(chunks)


class _Deadline:
    """Hangs up a request's connections when its time is up (connect, headers and body all
    count): a server that sends its headers a byte at a time cannot hold a round forever."""

    def __init__(self, client: WebClient, seconds: float) -> None:
        self.client, self.seconds, self.expired = client, seconds, False
        self.sockets: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        with self.client._lock:
            self.client._open.difference_update(self.sockets)

    def watch(self, sock: socket.socket) -> None:
        with self.client._lock:
            self.sockets.append(sock)
            self.client._open.add(sock)
            cancelled = self.client._cancelled
        if self.expired or cancelled:
            _hang_up(sock)

    def _expire(self) -> None:
        self.expired = True
        with self.client._lock:
            sockets = list(self.sockets)
        for sock in sockets:
            _hang_up(sock)


def _hang_up(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # closed already
        pass
