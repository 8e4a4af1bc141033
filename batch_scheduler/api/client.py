"""The SQOD appointments API: the only code that touches the network.

Every call returns an `ApiResult` (see `classify.py` for how answers are classified), never
an exception for an answer. The token is cached and renewed by `auth.py`; on a 401 the call
is repeated once with a renewed token. Paging through the whole list is the sender's
(send/sweep.py): one loop, paced and retried like every other request.

The wire is a constructor seam (`wire.py`): aiohttp's pool by default, httpx's with
`http_client = "httpx"`, and tests pass `HttpxWire(httpx.MockTransport(...))`; nothing here
depends on which one is used.
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

from batch_scheduler import __version__
from batch_scheduler.api.auth import ClientCredentials, StaticToken
from batch_scheduler.api.classify import classify, transport_result
from batch_scheduler.api.resource import parse_page, parse_single, request_body
from batch_scheduler.api.wire import AiohttpWire, Answer, Headers, HttpxWire, Wire, encoded_url
from batch_scheduler.config import ApiSettings, BodyFormat
from batch_scheduler.errors import ConfigError, TokenUnavailable, WireError
from batch_scheduler.i18n import _
from batch_scheduler.models import ApiResult, Appointment, AppointmentRequest, Page

__all__ = ["ApiClient"]

T = TypeVar("T")
logger = logging.getLogger(__name__)

APPOINTMENTS = "/api/v1/appointments"
HTTP_CLIENTS = ("aiohttp", "httpx")  # api.http_client: whose connection pool sends
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


class ApiClient:
    """One pooled HTTP client for the API, with a token cache; use `async with`."""

    def __init__(
        self,
        settings: ApiSettings,
        *,
        wire: Wire | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if settings.http_client not in HTTP_CLIENTS:
            words = _("api.http_client must be one of {names}.")
            raise ConfigError(words.format(names=", ".join(HTTP_CLIENTS)))
        self.base_url = settings.base_url.rstrip("/")
        self._body_format = settings.body_format
        self._base = encoded_url(self.base_url)  # quoted once, not per call
        self._collection = self._base + APPOINTMENTS
        self._timeout = settings.timeout
        self._headers: Headers = (
            ("Accept", JSON),
            ("Accept-Encoding", "gzip, deflate"),
            ("Connection", "keep-alive"),
            ("User-Agent", f"batch-scheduler/{__version__}"),
        )
        self.wire = wire if wire is not None else _open_wire(settings)
        self._auth = _make_auth(settings, self.wire, self._headers, clock)
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
        await self.wire.aclose()

    # ------------------------------------------------------------ the endpoints

    async def create(self, request: AppointmentRequest) -> ApiResult[Appointment]:
        body = request_body(request, self._body_format)
        if self._body_format is BodyFormat.JSON:
            content, kind = _json_bytes(body), JSON
        else:
            content, kind = form_content(body), FORM
        return await self._call(
            "POST", self._collection, op="create", changing=True, parse=parse_single,
            body=content, content_type=kind,
        )  # fmt: skip

    async def show(self, appointment_id: str) -> ApiResult[Appointment]:
        url = self._base + _item_path(appointment_id)
        return await self._call("GET", url, op="show", changing=False, parse=parse_single)

    async def cancel(
        self, appointment_id: str, reason: str | None = None
    ) -> ApiResult[Appointment]:
        url = self._base + _item_path(appointment_id) + "/cancel"
        body = _json_bytes({"cancellation_reason": reason}) if reason is not None else None
        return await self._call(
            "POST", url, op="cancel", changing=True, parse=parse_single,
            body=body, content_type=JSON if body is not None else None,
        )  # fmt: skip

    async def list_page(self, page: int, per_page: int = 100) -> ApiResult[Page]:
        url = f"{self._collection}?page={int(page)}&per_page={int(per_page)}"
        return await self._call(
            "GET", url, op="list", changing=False, parse=lambda body: parse_page(body, page)
        )

    async def check_access(self) -> ApiResult[Page]:
        """A cheap authenticated call, to fail fast on bad credentials."""
        return await self.list_page(1, per_page=1)

    # ------------------------------------------------------------ plumbing

    async def _call(
        self,
        method: str,
        url: str,
        *,
        op: str,
        changing: bool,
        parse: Callable[[Any], T],
        body: bytes | None = None,
        content_type: str | None = None,
    ) -> ApiResult[T]:
        """Send with a token; on a 401 renew it once and repeat; classify the answer."""
        try:
            token = await self._auth.token()
            answer = await self._send(method, url, token, body, content_type)
            if answer.status_code == 401 and self._auth.renewable:
                token = await self._auth.renew(token)
                answer = await self._send(method, url, token, body, content_type)
        except TokenUnavailable as exc:
            logger.debug("%s: no token (%s)", op, exc.kind)
            if exc.status_code is None:
                self.contact.failed(self._clock())
            return ApiResult(
                exc.kind, exc.status_code, message=exc.message, retry_after=exc.retry_after
            )
        except WireError as exc:
            logger.debug("%s: %s", op, type(exc).__name__)
            self.contact.failed(self._clock())
            return transport_result(exc, changing=changing)
        self.contact.answered(self._clock())
        result = classify(answer, changing=changing, parse=parse)
        logger.debug("%s: HTTP %s -> %s", op, answer.status_code, result.kind)
        return result

    async def _send(
        self, method: str, url: str, token: str, body: bytes | None, content_type: str | None
    ) -> Answer:
        """One request with the client's headers, the bearer token and the body's type.

        We never follow redirects, keep no cookies and set the bearer header ourselves: the
        wire does nothing else, which keeps a request's CPU near the bare connection's.
        """
        headers = [*self._headers, ("Authorization", f"Bearer {token}")]
        if content_type is not None:
            headers.append(("Content-Type", content_type))
        return await self.wire.exchange(method, url, headers, body, self._timeout)


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


def _open_wire(settings: ApiSettings) -> Wire:
    """The wire `api.http_client` names, sized by the settings."""
    kind = AiohttpWire if settings.http_client == "aiohttp" else HttpxWire
    return kind(
        max_connections=settings.max_connections, keepalive_expiry=settings.keepalive_expiry
    )


def _make_auth(
    settings: ApiSettings, wire: Wire, headers: Headers, clock: Callable[[], float]
) -> StaticToken | ClientCredentials:
    if settings.token is not None:
        return StaticToken(settings.token)
    if settings.client_id and settings.client_secret is not None:
        return ClientCredentials(settings, wire, clock, headers)
    raise ConfigError(_("No API credentials: give a token, or a client id and client secret."))
