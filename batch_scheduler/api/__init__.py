"""The remote API: the only code that talks to the network.

Takes API settings (base URL, credentials, timeout) and requests; returns `models.ApiResult`s,
each classified (success, retry later, unknown outcome, rejected, fatal) so the sender can
decide what to do without reading HTTP. Never raises for an answer, only for settings.

    client.py    ApiClient: create, list, show, cancel; the access check; contact tracking
    auth.py      the bearer token: static, or client credentials renewed before expiry
    classify.py  HTTP answers and transport errors -> ResultKind, in plain words
    resource.py  request bodies out (JSON or form), tolerant parsing of resources in
    wire.py      one HTTP exchange behind our own interface: aiohttp (default) or httpx
"""

from batch_scheduler.api.client import ApiClient
from batch_scheduler.api.resource import parse_appointment

__all__ = ["ApiClient", "parse_appointment"]
