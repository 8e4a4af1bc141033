"""An httpx transport that sends over aiohttp: the client's API stays httpx, the wire is faster.

Why: httpx's own pool (httpcore) spends 7-9 ms of CPU per request once more than ~16
connections are open, which caps a 64-wide fan-out at ~10 % of what the server allows;
aiohttp's connector keeps it near 0.3 ms. Everything above the wire (auth, cookies,
redirect policy, the Response object) is still httpx, so `client.py` and `classify.py` see
the same requests, responses and exceptions whichever transport is used.

`exchange` is the same wire without the httpx objects around it: `ApiClient` uses it when this
is its transport (a fifth of a request's CPU was building httpx Requests and Responses), and
gets an `Answer` with what `answers.classify` reads from an httpx.Response.

aiohttp's errors become the httpx exceptions `classify.py` classifies, keeping the one rule
exactly-once rests on: only a failure before any byte left (refused, unreachable, connect
or pool timeout) is ConnectError/ConnectTimeout; a dropped connection, a reset or a read
timeout after sending is RemoteProtocolError/ReadError/ReadTimeout (a create is UNKNOWN).
"""

from __future__ import annotations

import contextlib
import functools
import json
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx
from aiohttp.helpers import get_env_proxy_for_url
from yarl import URL

__all__ = ["AiohttpTransport", "Answer", "to_httpx_error"]

# Headers aiohttp must not add on its own: httpx already set the ones the request needs.
_NO_AUTO_HEADERS = frozenset({"Content-Type", "User-Agent", "Accept-Encoding", "Accept"})


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer read whole and decoded: the parts of an httpx.Response that classify reads."""

    status_code: int
    reason_phrase: str
    headers: Mapping[str, str]  # case-insensitive, as httpx's
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


@dataclass(frozen=True, slots=True)
class _Raw:
    status: int
    reason: str
    headers: Mapping[str, str]
    raw_headers: Sequence[tuple[bytes, bytes]]
    content: bytes  # as sent: still Content-Encoded


class AiohttpTransport(httpx.AsyncBaseTransport):
    """One aiohttp session with a pooled, keep-alive connector; made on first use.

    Certificates are always verified, against httpx's trust store unless `ssl_context` (a
    verifying context, e.g. with a private CA) is given. The session is created inside the
    running event loop (aiohttp requires it) and closed by `aclose`, which
    httpx.AsyncClient.aclose calls.
    """

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None = None,
        max_connections: int = 64,
        keepalive_expiry: float = 2.0,
        trust_env: bool = True,
    ) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self._ssl = ssl_context  # made on the first https request: loading CAs takes ~0.2 s
        self._max_connections = max_connections
        self._keepalive = keepalive_expiry
        self._trust_env = trust_env
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str, int | None], tuple[URL | None, Any]] = {}
        self._urls: dict[str, URL] = {}
        self._timeouts: dict[tuple[tuple[str, Any], ...], aiohttp.ClientTimeout] = {}

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self._max_connections,
            limit_per_host=0,
            keepalive_timeout=self._keepalive,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),  # httpx keeps the cookies
            auto_decompress=False,  # httpx decodes Content-Encoding itself
            # not aiohttp's trust_env: it looks up the proxy and ~/.netrc in a thread on every
            # request (~0.6 ms); _proxy_for looks the proxy up once per origin instead
            trust_env=False,
            timeout=aiohttp.ClientTimeout(total=None),
        )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        raw = await self._fetch(
            request.method,
            str(request.url),
            _header_pairs(request.headers),
            body or None,
            request.extensions.get("timeout"),
            lambda: request,
        )
        return _response(raw, request)

    async def exchange(
        self,
        method: str,
        url: str,
        headers: Sequence[tuple[str, str]],
        body: bytes | None,
        timeout: Mapping[str, Any] | None,
    ) -> Answer:
        """One request without httpx objects (see the module docstring); the same errors.

        `url` must be quoted already (as httpx.URL makes it); `timeout` is httpx's dict.
        """
        raw = await self._fetch(
            method, url, headers, body, timeout, lambda: httpx.Request(method, url)
        )
        content = raw.content
        if raw.headers.get("Content-Encoding", "identity").lower() != "identity":
            content = await _response(raw, httpx.Request(method, url)).aread()  # httpx decodes
        return Answer(raw.status, raw.reason, raw.headers, content)

    async def _fetch(
        self,
        method: str,
        url: str,
        headers: Sequence[tuple[str, str]],
        body: bytes | None,
        timeout: Mapping[str, Any] | None,
        request: Callable[[], httpx.Request],
    ) -> _Raw:
        session = self._session or self._open()
        target = self._url(url)
        proxy, proxy_auth = self._proxy_for(target)
        try:
            async with session.request(
                method,
                target,
                proxy=proxy,
                proxy_auth=proxy_auth,
                ssl=self._ssl_for(target),
                headers=headers,
                data=body,
                allow_redirects=False,  # httpx's redirect policy decides
                skip_auto_headers=_NO_AUTO_HEADERS,
                timeout=self._timeout(timeout),
            ) as answer:
                content = await answer.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise to_httpx_error(exc, request()) from exc
        return _Raw(answer.status, answer.reason or "", answer.headers, answer.raw_headers, content)

    def _url(self, text: str) -> URL:
        """The URL for aiohttp (httpx has quoted it already); parsed once per distinct URL,
        as creates all go to one."""
        url = self._urls.get(text)
        if url is None:
            if len(self._urls) >= _CACHED:
                self._urls.clear()
            url = self._urls[text] = URL(text, encoded=True)
        return url

    def _timeout(self, spec: Mapping[str, Any] | None) -> aiohttp.ClientTimeout:
        """aiohttp's timeout for httpx's timeout extension; one object per distinct spec."""
        key = tuple(sorted(spec.items())) if spec else ()
        timeout = self._timeouts.get(key)
        if timeout is None:
            timeout = self._timeouts[key] = _timeout(spec)
        return timeout

    def _ssl_for(self, url: URL) -> ssl.SSLContext | bool:
        """httpx's verifying context (its trust store) for https; nothing to do for http."""
        if url.scheme != "https":
            return True
        if self._ssl is None:
            self._ssl = httpx.create_ssl_context()
        return self._ssl

    def _proxy_for(self, url: URL) -> tuple[URL | None, Any]:
        """HTTP(S)_PROXY / NO_PROXY for this origin, as httpx honours them; looked up once."""
        origin = (url.scheme, url.host or "", url.port)
        if origin not in self._proxies:
            found: tuple[URL | None, Any] = (None, None)
            if self._trust_env:
                with contextlib.suppress(LookupError):
                    found = get_env_proxy_for_url(url)
            self._proxies[origin] = found
        return self._proxies[origin]

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def _response(raw: _Raw, request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        raw.status,
        headers=raw.raw_headers,
        # a stream, not content=: httpx then adds no headers of its own to the answer
        stream=httpx.ByteStream(raw.content),
        request=request,
        extensions={
            "http_version": b"HTTP/1.1",
            "reason_phrase": raw.reason.encode("ascii", "replace"),
        },
    )


_CACHED = 1024  # distinct URLs kept parsed (item URLs differ per appointment)


def _header_pairs(headers: httpx.Headers) -> list[tuple[str, str]]:
    """headers.multi_items(), but finding their encoding once, not twice per header."""
    encoding = headers.encoding
    return [(key.decode(encoding), value.decode(encoding)) for key, value in headers.raw]


def _timeout(spec: Mapping[str, Any] | None) -> aiohttp.ClientTimeout:
    spec = spec or {}
    return _client_timeout(spec.get("connect"), spec.get("read"), spec.get("pool"))


@functools.lru_cache(maxsize=64)  # the same few timeouts every request
def _client_timeout(
    connect: float | None, read: float | None, pool: float | None
) -> aiohttp.ClientTimeout:
    """httpx's per-phase timeouts (connect, read, write, pool) in aiohttp's terms.

    aiohttp's `connect` covers waiting for a pooled connection and opening it, so it gets
    pool + connect; `sock_read` is the time allowed between bytes of the answer. aiohttp
    has no write timeout: our bodies are a few hundred bytes.
    """
    waiting = None if connect is None or pool is None else connect + pool
    return aiohttp.ClientTimeout(total=None, connect=waiting, sock_connect=connect, sock_read=read)


def to_httpx_error(exc: BaseException, request: httpx.Request) -> httpx.TransportError:
    """The httpx exception meaning the same thing; order matters (subclasses first)."""
    kind: type[httpx.TransportError]
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        kind = httpx.ConnectTimeout  # waiting for a connection or opening one: nothing sent
    elif isinstance(exc, TimeoutError):
        kind = httpx.ReadTimeout  # sock_read, or any other timeout once the request was sent
    elif isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ServerFingerprintMismatch):
        kind = httpx.ConnectError  # refused, unreachable, DNS, TLS handshake or certificate
    elif isinstance(exc, aiohttp.InvalidURL):
        kind = httpx.UnsupportedProtocol
    elif isinstance(
        exc,
        aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError | aiohttp.ClientResponseError,
    ):
        kind = httpx.RemoteProtocolError  # closed before (all of) an answer, or not HTTP
    else:
        kind = httpx.ReadError  # reset or broken while the request was on the wire
    return kind(f"{type(exc).__name__} from aiohttp", request=request)
