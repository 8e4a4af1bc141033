"""The wire: one HTTP exchange, behind a small interface of our own.

`Wire` is all the client needs of HTTP: send a method, a URL, headers and a body; get back an
`Answer` (status, reason, headers, the body read whole and decoded) or a `WireError`. Nothing
above this module sees aiohttp or httpx types. Two wires:

    AiohttpWire   the default: aiohttp's pooled keep-alive connector. httpx's own pool
                  (httpcore) spends 7-9 ms of CPU per request once more than ~16 connections
                  are open, which caps a 64-wide fan-out at ~10 % of what the server allows;
                  aiohttp's stays near 0.3 ms.
    HttpxWire     httpx behind the same interface: `api.http_client = "httpx"`, and the tests'
                  `httpx.MockTransport`.

The one rule exactly-once rests on is kept here: only a failure before any byte left
(refused, unreachable, connect or pool timeout) is `NotSent`; a dropped connection, a reset or
a read timeout after sending is `AnswerLost` (a create is then UNKNOWN). Both carry the
failure in plain words, never the URL or a header.

Certificates are always verified (there is no switch: SECURITY.md), against SSL_CERT_FILE or
SSL_CERT_DIR when set (a private CA), else certifi's bundle: the rule httpx follows.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http.cookiejar import CookieJar
from typing import Any, Protocol

import aiohttp
import certifi
import httpx
from aiohttp.helpers import get_env_proxy_for_url
from yarl import URL

from batch_scheduler.errors import AnswerLost, NotSent, WireError
from batch_scheduler.i18n import N_

__all__ = ["AiohttpWire", "Answer", "HttpxWire", "Wire", "encoded_url", "verifying_context"]

Headers = Sequence[tuple[str, str]]
# Headers aiohttp must not add on its own: the client sets the ones the request needs.
_NO_AUTO_HEADERS = frozenset({"Content-Type", "User-Agent", "Accept-Encoding", "Accept"})
_CACHED = 1024  # distinct URLs kept parsed (item URLs differ per appointment)


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer read whole, its body decoded (gzip, deflate): what classify reads."""

    status_code: int
    reason_phrase: str
    headers: Mapping[str, str]  # case-insensitive
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


class Wire(Protocol):
    """One request out, one answer back (or a WireError); pooled connections; `aclose` once.

    `url` is already quoted (see `encoded_url`); `timeout` (seconds) bounds each phase:
    waiting for a pooled connection, connecting, and each read of the answer.
    """

    async def exchange(
        self, method: str, url: str, headers: Headers, body: bytes | None, timeout: float
    ) -> Answer: ...

    async def aclose(self) -> None: ...


def encoded_url(text: str) -> str:
    """A URL as it goes on the wire: host IDNA-encoded, path and query percent-quoted."""
    return str(URL(text))


def verifying_context() -> ssl.SSLContext:
    """The TLS context of both wires: SSL_CERT_FILE, else SSL_CERT_DIR, else certifi."""
    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    return ssl.create_default_context(cafile=certifi.where())


# ---------------------------------------------------------------- aiohttp, the default


class AiohttpWire:
    """One aiohttp session with a pooled, keep-alive connector; made on first use.

    The session is created inside the running event loop (aiohttp requires it). Proxies come
    from HTTP(S)_PROXY / NO_PROXY, looked up once per origin (`trust_env`).
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

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self._max_connections,
            limit_per_host=0,
            keepalive_timeout=self._keepalive,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),  # every call carries a bearer token
            # not aiohttp's trust_env: it looks up the proxy and ~/.netrc in a thread on every
            # request (~0.6 ms); _proxy_for looks the proxy up once per origin instead
            trust_env=False,
            timeout=aiohttp.ClientTimeout(total=None),
        )
        return self._session

    async def exchange(
        self, method: str, url: str, headers: Headers, body: bytes | None, timeout: float
    ) -> Answer:
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
                allow_redirects=False,  # a redirect is an answer to classify, not to follow
                skip_auto_headers=_NO_AUTO_HEADERS,
                timeout=_client_timeout(timeout),
            ) as answer:
                content = await answer.read()
        except (aiohttp.ClientError, OSError) as exc:  # TimeoutError is an OSError
            raise _from_aiohttp(exc) from exc
        return Answer(answer.status, answer.reason or "", answer.headers, content)

    def _url(self, text: str) -> URL:
        """The URL as aiohttp takes it, parsed once per distinct URL (creates all go to one)."""
        url = self._urls.get(text)
        if url is None:
            if len(self._urls) >= _CACHED:
                self._urls.clear()
            url = self._urls[text] = URL(text, encoded=True)
        return url

    def _ssl_for(self, url: URL) -> ssl.SSLContext | bool:
        """The verifying context for https; nothing to do for http."""
        if url.scheme != "https":
            return True
        if self._ssl is None:
            self._ssl = verifying_context()
        return self._ssl

    def _proxy_for(self, url: URL) -> tuple[URL | None, Any]:
        """HTTP(S)_PROXY / NO_PROXY for this origin; looked up once."""
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


@functools.lru_cache(maxsize=16)  # the same timeout every request
def _client_timeout(seconds: float) -> aiohttp.ClientTimeout:
    """Our per-phase timeout in aiohttp's terms.

    aiohttp's `connect` covers waiting for a pooled connection and opening it, so it gets
    both phases' time; `sock_read` is the time allowed between bytes of the answer. aiohttp
    has no write timeout: our bodies are a few hundred bytes.
    """
    return aiohttp.ClientTimeout(
        total=None, connect=2 * seconds, sock_connect=seconds, sock_read=seconds
    )


def _from_aiohttp(exc: BaseException) -> WireError:
    """Our error meaning the same thing; order matters (subclasses first)."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return NotSent(_CONNECT_TIMEOUT)  # waiting for a connection or opening one
    if isinstance(exc, TimeoutError):
        return AnswerLost(_READ_TIMEOUT)  # sock_read, or any timeout once the request was sent
    if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ServerFingerprintMismatch):
        return NotSent(_REFUSED)  # refused, unreachable, DNS, TLS handshake or certificate
    if isinstance(exc, aiohttp.InvalidURL):
        return AnswerLost(_unexpected("UnsupportedProtocol"))  # the words httpx's gave
    if isinstance(
        exc,
        aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError | aiohttp.ClientResponseError,
    ):
        return AnswerLost(_CLOSED)  # closed before (all of) an answer, or not HTTP
    if isinstance(exc, aiohttp.ClientError):
        return AnswerLost(_READ_FAILED)  # reset or broken while the request was on the wire
    return AnswerLost(_unexpected(type(exc).__name__))


# ---------------------------------------------------------------- httpx, behind the same door


class HttpxWire:
    """httpx behind the Wire interface: `api.http_client = "httpx"` and test transports.

    Without `transport`, httpx's own pool, honouring HTTP(S)_PROXY / NO_PROXY; with one (e.g.
    `httpx.MockTransport`), that transport. No cookies are kept and redirects are answers.
    """

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        max_connections: int = 64,
        keepalive_expiry: float = 2.0,
    ) -> None:
        self._client = httpx.AsyncClient(
            transport=transport,
            verify=verifying_context(),
            limits=httpx.Limits(
                max_connections=max_connections,
                max_keepalive_connections=max_connections,
                keepalive_expiry=keepalive_expiry,
            ),
            follow_redirects=False,
            cookies=_NoCookies(),
        )

    async def exchange(
        self, method: str, url: str, headers: Headers, body: bytes | None, timeout: float
    ) -> Answer:
        request = httpx.Request(
            method,
            url,
            headers=headers,
            content=body,
            extensions={"timeout": httpx.Timeout(timeout).as_dict()},
        )
        try:
            response = await self._client.send(request)
        except (httpx.RequestError, OSError) as exc:
            raise _from_httpx(exc) from exc
        return Answer(
            response.status_code, response.reason_phrase, response.headers, response.content
        )

    async def aclose(self) -> None:
        await self._client.aclose()


class _NoCookies(CookieJar):
    """A cookie jar that keeps nothing: every call carries a bearer token, and no session
    cookie can tie our calls together."""

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None


# the words stay English here (a WireError is raised on the wire's hot path and logged);
# they are translated where a person reads them (api/classify.py: transport_result)
_HTTPX_WORDS: tuple[tuple[type[Exception], type[WireError], str], ...] = (
    (httpx.ConnectTimeout, NotSent, N_("timed out while connecting to the API")),
    (httpx.ConnectError, NotSent, N_("could not connect to the API (refused or unreachable)")),
    (httpx.PoolTimeout, NotSent, N_("timed out waiting for a free connection to the API")),
    (httpx.ReadTimeout, AnswerLost, N_("no answer arrived before the timeout")),
    (httpx.WriteTimeout, AnswerLost, N_("timed out while sending the request")),
    (
        httpx.RemoteProtocolError,
        AnswerLost,
        N_("the connection was closed before an answer arrived"),
    ),
    (httpx.ReadError, AnswerLost, N_("the connection failed while waiting for the answer")),
    (httpx.WriteError, AnswerLost, N_("the connection failed while sending the request")),
    (httpx.TimeoutException, AnswerLost, N_("the request timed out")),
)
_CONNECT_TIMEOUT, _REFUSED = _HTTPX_WORDS[0][2], _HTTPX_WORDS[1][2]
_READ_TIMEOUT, _CLOSED, _READ_FAILED = _HTTPX_WORDS[3][2], _HTTPX_WORDS[5][2], _HTTPX_WORDS[6][2]


def _from_httpx(exc: Exception) -> WireError:
    for cls, kind, words in _HTTPX_WORDS:
        if isinstance(exc, cls):
            return kind(words)
    return AnswerLost(_unexpected(type(exc).__name__))


def _unexpected(name: str) -> str:
    """An error with no plain words of its own: its class name, never str(exc) (a URL...)."""
    return f"a network error occurred ({name})"
