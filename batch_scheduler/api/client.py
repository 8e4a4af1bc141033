"""The SQOD appointments API: the only code that touches the network.

Every call returns an `ApiResult` (see `classify.py` for how answers are classified), never
an exception for an answer. The token is cached and renewed by `auth.py`; on a 401 the call
is repeated once with a renewed token. Paging through the whole list is the sender's
(send/sweep.py): one loop, paced and retried like every other request.

The httpx transport is a constructor seam: tests pass `httpx.MockTransport`; by default it
is `AiohttpTransport` (httpx's own pool costs ~15x more CPU per request at 64 connections;
`http_client = "httpx"` picks it back), and nothing here depends on which one is used.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus

import httpx

from batch_scheduler import __version__
from batch_scheduler.api.auth import ClientCredentials, StaticToken
from batch_scheduler.api.classify import HttpAnswer, classify, transport_result
from batch_scheduler.api.resource import (
    parse_page,
    parse_single,
    request_body,
)
from batch_scheduler.api.wire import AiohttpTransport
from batch_scheduler.config import ApiSettings, BodyFormat
from batch_scheduler.errors import ConfigError, TokenUnavailable
from batch_scheduler.models import ApiResult, Appointment, AppointmentRequest, Page

__all__ = ["ApiClient"]

T = TypeVar("T")
logger = logging.getLogger(__name__)

APPOINTMENTS = "/api/v1/appointments"
HTTP_CLIENTS = ("aiohttp", "httpx")  # api.http_client: whose connection pool sends
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


class ApiClient:
    """One pooled HTTP client for the API, with a token cache; use `async with`."""

    def __init__(
        self,
        settings: ApiSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = settings.base_url.rstrip("/")
        self._body_format = settings.body_format
        self._collection = httpx.URL(self.base_url + APPOINTMENTS)  # parsed once, not per call
        limits = httpx.Limits(
            max_connections=settings.max_connections,
            max_keepalive_connections=settings.max_connections,
            keepalive_expiry=settings.keepalive_expiry,
        )
        if settings.http_client not in HTTP_CLIENTS:
            raise ConfigError(f"api.http_client must be one of {', '.join(HTTP_CLIENTS)}.")
        if transport is None and settings.http_client == "aiohttp":
            transport = AiohttpTransport(
                max_connections=settings.max_connections,
                keepalive_expiry=settings.keepalive_expiry,
            )
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=settings.timeout,
            verify=True,  # always: there is no setting to turn it off (SECURITY.md)
            limits=limits,
            headers={"Accept": "application/json", "User-Agent": f"batch-scheduler/{__version__}"},
            follow_redirects=False,
        )
        self._http._cookies = _NoCookies()  # see _NoCookies
        # what build_request would add to every request, worked out once (see _send)
        self._default_headers = self._http.headers.multi_items()
        self._timeout = self._http.timeout.as_dict()
        self._extensions = {"timeout": self._timeout}
        self._collection_text = str(self._collection)
        # AiohttpTransport's own door, unless a proxy mount (HTTP(S)_PROXY) takes some URLs
        self._wire = (
            transport
            if isinstance(transport, AiohttpTransport) and not self._http._mounts
            else None
        )
        self._auth = _make_auth(settings, self._http, clock)
        self._clock = clock
        self.contact = Contact(clock())

    def __repr__(self) -> str:
        kind = "client credentials" if self._auth.renewable else "static token"
        return f"ApiClient(base_url={self.base_url!r}, auth={kind!r})"

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # ------------------------------------------------------------ the endpoints

    async def create(self, request: AppointmentRequest) -> ApiResult[Appointment]:
        body = request_body(request, self._body_format)
        if self._body_format is BodyFormat.JSON:
            sent: dict[str, Any] = {"json": body}
        else:
            sent = {"content": form_content(body), "headers": FORM_HEADERS}
        return await self._call(
            "POST", APPOINTMENTS, op="create", changing=True, parse=parse_single, **sent
        )

    async def show(self, appointment_id: str) -> ApiResult[Appointment]:
        path = _item_path(appointment_id)
        return await self._call("GET", path, op="show", changing=False, parse=parse_single)

    async def cancel(
        self, appointment_id: str, reason: str | None = None
    ) -> ApiResult[Appointment]:
        path = _item_path(appointment_id) + "/cancel"
        body = {"cancellation_reason": reason} if reason is not None else None
        return await self._call(
            "POST", path, op="cancel", changing=True, parse=parse_single, json=body
        )

    async def list_page(self, page: int, per_page: int = 100) -> ApiResult[Page]:
        return await self._list(page, per_page, {})

    async def check_access(self) -> ApiResult[Page]:
        """A cheap authenticated call, to fail fast on bad credentials."""
        return await self.list_page(1, per_page=1)

    # ------------------------------------------------------------ plumbing

    async def _list(self, page: int, per_page: int, extra: Mapping[str, str]) -> ApiResult[Page]:
        params = {"page": page, "per_page": per_page, **extra}
        return await self._call(
            "GET",
            APPOINTMENTS,
            op="list",
            changing=False,
            parse=lambda body: parse_page(body, page),
            params=params,
        )

    async def _call(
        self,
        method: str,
        path: str,
        *,
        op: str,
        changing: bool,
        parse: Callable[[Any], T],
        **kwargs: Any,
    ) -> ApiResult[T]:
        """Send with a token; on a 401 renew it once and repeat; classify the answer."""
        url = self._collection if path == APPOINTMENTS else self.base_url + path
        try:
            token = await self._auth.token()
            response = await self._send(method, url, token, **kwargs)
            if response.status_code == 401 and self._auth.renewable:
                token = await self._auth.renew(token)
                response = await self._send(method, url, token, **kwargs)
        except TokenUnavailable as exc:
            logger.debug("%s: no token (%s)", op, exc.kind)
            if exc.status_code is None:
                self.contact.failed(self._clock())
            return ApiResult(
                exc.kind, exc.status_code, message=exc.message, retry_after=exc.retry_after
            )
        except (httpx.RequestError, OSError) as exc:
            logger.debug("%s: %s", op, type(exc).__name__)
            self.contact.failed(self._clock())
            return transport_result(exc, changing=changing)
        self.contact.answered(self._clock())
        result = classify(response, changing=changing, parse=parse)
        logger.debug("%s: HTTP %s -> %s", op, response.status_code, result.kind)
        return result

    async def _send(
        self,
        method: str,
        url: httpx.URL | str,
        token: str,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> HttpAnswer:
        """One request, without httpx.AsyncClient's build_request merging and send's auth,
        redirect and hook layers.

        We never follow redirects, keep no cookies and set the bearer header ourselves, so
        those layers did nothing but cost ~0.15 ms of CPU a request. The request carries the
        client's headers and timeouts, and goes out through the client's transport; over
        AiohttpTransport without httpx Request and Response objects at all (`exchange`).
        """
        sent = [*self._default_headers, ("Authorization", f"Bearer {token}")]
        if headers:
            sent += headers.items()
        if self._wire is not None and kwargs.keys() <= {"content", "json"}:
            body = kwargs.get("content")
            if kwargs.get("json") is not None:
                body = _json_bytes(kwargs["json"])
                sent.append(("Content-Type", "application/json"))
            wire_url = self._collection_text if url is self._collection else str(httpx.URL(url))
            return await self._wire.exchange(method, wire_url, sent, body, self._timeout)
        request = httpx.Request(method, url, headers=sent, extensions=self._extensions, **kwargs)
        transport = self._http._transport_for_url(request.url)  # honours proxy mounts
        response = await transport.handle_async_request(request)
        response.request = request
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response


def _json_bytes(value: Any) -> bytes:
    """A JSON body as httpx encodes one (compact, UTF-8, no NaN)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def form_content(body: Mapping[str, str]) -> bytes:
    """The form body exactly as httpx (urlencode, i.e. quote_plus) would encode it.

    quote_plus was a tenth of a request's CPU (names, emails, phones and times differ on
    every row, so caching it did not help); an ASCII value is quoted by one str.translate.
    """
    return "&".join(f"{_quote(key)}={_quote(value)}" for key, value in body.items()).encode()


def _quote(text: str) -> str:
    if _PLAIN(text):
        return text
    return text.translate(_FORM_QUOTING) if text.isascii() else quote_plus(text)


_PLAIN = re.compile(r"[A-Za-z0-9_.~-]*").fullmatch  # what quote_plus leaves as it is


# quote_plus on ASCII: letters, digits and _.-~ stay, a space becomes +, the rest %XX
_FORM_QUOTING = {
    code: f"%{code:02X}" for code in range(128) if not (chr(code).isalnum() or chr(code) in "_.-~")
} | {ord(" "): "+"}


class _NoCookies(httpx.Cookies):
    """A cookie store that keeps nothing: every call carries a bearer token, and httpx
    turns each answer into a urllib request/response pair to look for cookies, a fifth of
    its CPU per request. No session cookie can then tie our calls together either."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class Contact:
    """When the API last answered (any status) and last could not be reached at all.

    The run's watchdog (pipeline.py) stops a run the API has not answered for a long time,
    but only when tries have failed meanwhile: a run idling through a long Retry-After is
    not a lost server.
    """

    __slots__ = ("last_answer", "last_failure")

    def __init__(self, now: float) -> None:
        self.last_answer = now
        self.last_failure: float | None = None

    def answered(self, now: float) -> None:
        self.last_answer = now

    def failed(self, now: float) -> None:
        self.last_failure = now

    def silent_for(self, now: float) -> float:
        """Seconds without an answer, counted only while tries have been failing (else 0)."""
        if self.last_failure is None or self.last_failure < self.last_answer:
            return 0.0
        return now - self.last_answer


def _item_path(appointment_id: str) -> str:
    """The path of one appointment; the id is quoted so no sheet value can change the path."""
    if not appointment_id or not appointment_id.strip():
        raise ValueError("appointment_id must not be empty")
    return f"{APPOINTMENTS}/{quote(appointment_id.strip(), safe='')}"


def _make_auth(
    settings: ApiSettings, http: httpx.AsyncClient, clock: Callable[[], float]
) -> StaticToken | ClientCredentials:
    if settings.token is not None:
        return StaticToken(settings.token)
    if settings.client_id and settings.client_secret is not None:
        return ClientCredentials(settings, http, clock)
    raise ConfigError("No API credentials: give a token, or a client id and client secret.")
