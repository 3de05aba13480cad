"""A polite, careful HTTP client for feeds and article pages.

It says who it is (User-Agent with newsbot's version), sends conditional requests when it has
an ETag or Last-Modified, waits a bounded time, follows a bounded number of redirects, sends at
most a few requests to one host at once, fetches only http(s), and stops reading a response at
a size cap, counting decompressed bytes (a gzip bomb stops at the cap, it never fills memory).
Every failure is a FetchError with a one-line reason.
"""

from __future__ import annotations

import threading
import time
import zlib
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from bot import __version__
from bot.errors import FetchError

USER_AGENT = f"newsbot/{__version__} (news question bot; feed reader)"
TIMEOUT = 15.0  # seconds for connecting and between bytes
TOTAL_TIMEOUT = 60.0  # seconds for a whole response
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
    """One HTTP client for a fetch round (thread-safe; close it, or use it as a context)."""

    def __init__(self, timeout: float = TIMEOUT, total_timeout: float = TOTAL_TIMEOUT,
                 max_bytes: int = MAX_BYTES, max_redirects: int = MAX_REDIRECTS,
                 per_host: int = PER_HOST) -> None:
        self.max_bytes, self.total_timeout, self.per_host = max_bytes, total_timeout, per_host
        self._client = httpx.Client(
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip",
                     "Accept-Language": "de, en;q=0.5"},
            timeout=httpx.Timeout(timeout), follow_redirects=True, max_redirects=max_redirects,
        )
        self._hosts: dict[str, threading.BoundedSemaphore] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> WebClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections."""
        self._client.close()

    def _slot(self, url: str) -> threading.BoundedSemaphore:
        host = (urlsplit(url).hostname or "").lower()
        with self._lock:
            return self._hosts.setdefault(host, threading.BoundedSemaphore(self.per_host))

    def get(self, url: str, etag: str | None = None, modified: str | None = None,
            accept: str | None = None) -> Response:
        """GET a URL; status 304 when the validators still hold. Raises FetchError."""
        if not is_web_url(url):
            raise FetchError("not an http(s) address")
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        if accept:
            headers["Accept"] = accept
        with self._slot(url):
            try:
                return self._get(url, headers)
            except httpx.TooManyRedirects:
                raise FetchError("too many redirects (a redirect loop?)") from None
            except httpx.TimeoutException:
                raise FetchError("the server did not answer in time") from None
            except httpx.HTTPError as exc:
                raise FetchError(f"{type(exc).__name__}: {exc}".splitlines()[0]) from None

    def _get(self, url: str, headers: dict[str, str]) -> Response:
        started = time.monotonic()
        with self._client.stream("GET", url, headers=headers) as response:
            if not is_web_url(str(response.url)):
                raise FetchError(f"redirected to {response.url}, not an http(s) address")
            status = response.status_code
            if status >= 400:
                raise FetchError(f"HTTP {status} {response.reason_phrase}".rstrip())
            if status == 304:
                content = b""
            else:
                content = self._body(response, started)
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
