"""The sandbox over real loopback HTTP: the API contract, the helpers and every fault knob."""

from __future__ import annotations

import asyncio
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from batch_scheduler.columns import FEATURE_FLAGS
from batch_scheduler.sandbox import RunningSandbox, SandboxConfig
from tests.support.sandbox import SandboxFactory, seed_appointments

AUTH = {"Authorization": "Bearer sandbox-token", "Accept": "application/json"}
APPOINTMENTS = "/api/v1/appointments"
IN_TEN_DAYS = (datetime.now(UTC) + timedelta(days=10)).replace(microsecond=0, tzinfo=None)

RESOURCE_FIELDS = {
    "id",
    "reference",
    "appointment_at",
    "duration_in_minutes",
    "is_interpreter_needed",
    "interpreter_language",
    "status",
    "url",
    "created_at",
    "cancelled_at",
    "cancellation_reason",
    "department",
    "claimant",
    "meeting",
    "session_started_at",
    "session_ended_at",
    "on_hold_started_at",
    "on_hold_ended_at",
    *FEATURE_FLAGS,
    "features_bandwidth",
    "use_custom_post_call_redirect",
    "custom_user_post_call_redirect_url",
    "custom_agent_post_call_redirect_url",
}


def client_for(sandbox: RunningSandbox, **headers: str) -> httpx.Client:
    return httpx.Client(base_url=sandbox.base_url, headers={**AUTH, **headers}, timeout=10)


@pytest.fixture
def api(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    with client_for(sandbox) as client:
        yield client


def vendor_form(reference: str = "123456") -> dict[str, str]:
    """The vendor's example request: form-encoded, bracket keys, every value a string."""
    return {
        "reference": reference,
        "appointment_at": IN_TEN_DAYS.strftime("%Y-%m-%d %H:%M:%S"),
        "duration_in_minutes": "30",
        "is_interpreter_needed": "false",
        "interpreter_language": "",
        "department": "1",
        "claimant[name]": "Jane Example",
        "claimant[date_of_birth]": "1985-02-14",
        "claimant[phone_number]": "+447700900123",
        "claimant[email]": "jane@example.org",
        "features_call_recording_enable": "true",
        "features_screen_sharing_enable": "1",
        "features_messages_chat_enable": "0",
        "features_bandwidth": "medium",
        "use_custom_post_call_redirect": "false",
    }


def json_body(reference: str = "REF-1", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "reference": reference,
        "appointment_at": IN_TEN_DAYS.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_in_minutes": 45,
        "claimant": {"name": "Sam Example"},
        "department_id": 2,
    }
    body.update(changes)
    return body


def create(client: httpx.Client, reference: str = "REF-1", **changes: Any) -> dict[str, Any]:
    response = client.post(APPOINTMENTS, json=json_body(reference, **changes))
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


# ---------------------------------------------------------------- create


def test_vendor_example_form_request_creates_full_resource(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    response = api.post(APPOINTMENTS, data=vendor_form("REF 1&2"))

    assert response.status_code == 201
    data = response.json()["data"]
    assert set(data) >= RESOURCE_FIELDS
    assert uuid.UUID(data["id"]).version == 4
    assert data["reference"] == "REF 1&2"
    assert data["appointment_at"] == IN_TEN_DAYS.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    assert data["duration_in_minutes"] == 30
    assert data["is_interpreter_needed"] is False
    assert data["interpreter_language"] is None  # '' came back null
    assert data["status"] == "scheduled"
    assert data["department"] == {"id": 1, "name": "Benefits"}
    assert data["claimant"] == {
        "name": "Jane Example",
        "date_of_birth": "1985-02-14",
        "phone_number": "+447700900123",
        "email": "jane@example.org",
        "data": [],
    }
    assert data["features_call_recording_enable"] is True
    assert data["features_screen_sharing_enable"] is True
    assert data["features_messages_chat_enable"] is False
    assert data["features_bandwidth"] == "medium"
    assert data["cancelled_at"] is None and data["cancellation_reason"] is None
    assert data["session_started_at"] is None and data["on_hold_ended_at"] is None
    url = urlsplit(data["url"])
    assert f"{url.scheme}://{url.netloc}" == sandbox.base_url
    assert url.path == "/client-web/schedule/pre-call/summary"
    assert parse_qs(url.query) == {"reference": ["REF 1&2"]}
    meeting = data["meeting"]
    assert isinstance(meeting["id"], int)
    assert meeting["room_url"].startswith(f"{sandbox.base_url}/meeting/{meeting['room_name']}?")
    assert "roomKey=" in meeting["room_url"]
    assert meeting["start_date"] == data["appointment_at"]
    end = IN_TEN_DAYS + timedelta(minutes=30)
    assert meeting["end_date"] == end.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    assert sandbox.appointments() == [data]


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("2030-01-02T03:04:05Z", "2030-01-02T03:04:05.000000Z"),
        ("2030-01-02T03:04:05.123Z", "2030-01-02T03:04:05.123000Z"),
        ("2030-01-02T03:04:05.123456+00:00", "2030-01-02T03:04:05.123456Z"),
        ("2030-07-02T10:04:05+01:00", "2030-07-02T09:04:05.000000Z"),
        ("2030-01-02 03:04:05", "2030-01-02T03:04:05.000000Z"),
        ("2030-01-02T03:04:05", "2030-01-02T03:04:05.000000Z"),
    ],
)
def test_appointment_at_forms_are_stored_as_utc(api: httpx.Client, sent: str, stored: str) -> None:
    assert create(api, appointment_at=sent)["appointment_at"] == stored


def test_json_create_with_nested_claimant(api: httpx.Client) -> None:
    data = create(
        api,
        duration_in_minutes="60",
        is_interpreter_needed=True,
        interpreter_language="Welsh",
        claimant={"name": "Siân", "email": "", "date_of_birth": None},
        features_bandwidth="",
        custom_user_post_call_redirect_url="https://example.org/done",
    )
    assert data["duration_in_minutes"] == 60
    assert data["is_interpreter_needed"] is True
    assert data["interpreter_language"] == "Welsh"
    assert data["department"] == {"id": 2, "name": "Housing"}
    assert data["claimant"]["name"] == "Siân"
    assert data["claimant"]["email"] is None  # empty string -> null
    assert data["features_bandwidth"] is None
    assert data["custom_user_post_call_redirect_url"] == "https://example.org/done"


def test_integer_reference_is_stored_as_text(api: httpx.Client) -> None:
    assert create(api, reference=12345)["reference"] == "12345"  # type: ignore[arg-type]


# ---------------------------------------------------------------- auth and errors


def test_missing_and_unknown_tokens_are_401(sandbox: RunningSandbox) -> None:
    with httpx.Client(base_url=sandbox.base_url) as bare:
        missing = bare.get(APPOINTMENTS, headers={"Accept": "application/json"})
        unknown = bare.get(APPOINTMENTS, headers={"Authorization": "Bearer nope"})
        basic = bare.get(APPOINTMENTS, headers={"Authorization": "Basic c2FuZGJveC10b2tlbg=="})
    for response in (missing, unknown, basic):
        assert response.status_code == 401
        assert response.json() == {"message": "Unauthenticated."}


def test_underprivileged_token_is_403(sandbox_factory: SandboxFactory) -> None:
    sandbox = sandbox_factory(underprivileged_tokens=frozenset({"weak"}))
    with client_for(sandbox, Authorization="Bearer weak") as client:
        response = client.post(APPOINTMENTS, json=json_body())
    assert response.status_code == 403
    assert response.json() == {"message": "This action is unauthorized."}
    assert sandbox.appointments() == []


def test_unknown_ids_and_routes_are_404(api: httpx.Client) -> None:
    for path in (
        f"{APPOINTMENTS}/{uuid.uuid4()}",
        f"{APPOINTMENTS}/not-a-uuid",
        "/api/v1/nothing",
        "/",
    ):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"message": "Not Found."}
    assert api.post(f"{APPOINTMENTS}/{uuid.uuid4()}/cancel").status_code == 404


def test_show_returns_the_stored_appointment(api: httpx.Client) -> None:
    created = create(api)
    response = api.get(f"{APPOINTMENTS}/{created['id']}")
    assert response.status_code == 200
    assert response.json() == {"data": created}


def test_422_lists_every_field_error_with_laravel_message(api: httpx.Client) -> None:
    response = api.post(
        APPOINTMENTS,
        data={
            "appointment_at": "next tuesday",
            "duration_in_minutes": "0",
            "claimant[email]": "not-an-email",
            "claimant[date_of_birth]": "14/02/1985",
            "is_interpreter_needed": "yes",
            "features_bandwidth": "ultra",
            "custom_agent_post_call_redirect_url": "not a url",
            "department": "99",
            "reference": "x" * 256,
        },
    )
    assert response.status_code == 422
    body = response.json()
    errors = body["errors"]
    assert set(errors) == {
        "reference",
        "appointment_at",
        "duration_in_minutes",
        "department",
        "claimant.name",
        "claimant.email",
        "claimant.date_of_birth",
        "is_interpreter_needed",
        "features_bandwidth",
        "custom_agent_post_call_redirect_url",
    }
    assert errors["claimant.email"] == ["The claimant.email field must be a valid email address."]
    assert errors["claimant.name"] == ["The claimant.name field is required."]
    assert errors["duration_in_minutes"] == [
        "The duration in minutes field must be between 1 and 1440."
    ]
    first = errors["reference"][0]
    assert body["message"] == f"{first} (and 9 more errors)"


def test_one_error_message_has_no_count(api: httpx.Client) -> None:
    response = api.post(APPOINTMENTS, json=json_body(claimant={"name": "A", "email": "a@"}))
    assert response.status_code == 422
    assert response.json() == {
        "message": "The claimant.email field must be a valid email address.",
        "errors": {"claimant.email": ["The claimant.email field must be a valid email address."]},
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"appointment_at": None}, "appointment_at"),
        ({"duration_in_minutes": 1441}, "duration_in_minutes"),
        ({"duration_in_minutes": "30.5"}, "duration_in_minutes"),
        ({"claimant": {"name": "x" * 256}}, "claimant.name"),
        ({"claimant": {"name": "A", "date_of_birth": "2999-01-01"}}, "claimant.date_of_birth"),
        ({"is_interpreter_needed": True}, "interpreter_language"),
        ({"department_id": 99}, "department_id"),
        ({"use_custom_post_call_redirect": "maybe"}, "use_custom_post_call_redirect"),
        ({"custom_user_post_call_redirect_url": "ftp:/x"}, "custom_user_post_call_redirect_url"),
    ],
)
def test_each_rule_rejects_with_its_field(
    sandbox: RunningSandbox, api: httpx.Client, changes: dict[str, Any], field: str
) -> None:
    response = api.post(APPOINTMENTS, json=json_body(**changes))
    assert response.status_code == 422
    assert list(response.json()["errors"]) == [field]
    assert sandbox.appointments() == []


# ---------------------------------------------------------------- tokens


def test_token_endpoint_issues_usable_tokens(sandbox: RunningSandbox) -> None:
    with httpx.Client() as raw:
        good = raw.post(
            sandbox.token_url,
            auth=("sandbox-client", "sandbox-secret"),
            data={"grant_type": "client_credentials"},
        )
        bad_client = raw.post(
            sandbox.token_url,
            auth=("sandbox-client", "wrong"),
            data={"grant_type": "client_credentials"},
        )
        bad_grant = raw.post(
            sandbox.token_url,
            auth=("sandbox-client", "sandbox-secret"),
            data={"grant_type": "password"},
        )
    assert good.status_code == 200
    body = good.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert (bad_client.status_code, bad_client.json()) == (401, {"error": "invalid_client"})
    assert (bad_grant.status_code, bad_grant.json()) == (400, {"error": "unsupported_grant_type"})
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    with httpx.Client(base_url=sandbox.base_url, headers=headers) as client:
        assert client.get(APPOINTMENTS).status_code == 200


def test_issued_tokens_expire(sandbox_factory: SandboxFactory) -> None:
    sandbox = sandbox_factory(token_lifetime=0.3)
    token = httpx.post(
        sandbox.token_url,
        auth=("sandbox-client", "sandbox-secret"),
        data={"grant_type": "client_credentials"},
    ).json()["access_token"]
    with httpx.Client(base_url=sandbox.base_url, headers={"Authorization": f"Bearer {token}"}) as c:
        assert c.get(APPOINTMENTS).status_code == 200
        time.sleep(0.4)
        expired = c.get(APPOINTMENTS)
    assert (expired.status_code, expired.json()) == (401, {"message": "Unauthenticated."})


# ---------------------------------------------------------------- list


def test_list_pages_through_250_appointments(sandbox: RunningSandbox, api: httpx.Client) -> None:
    for number in range(250):
        api.post(APPOINTMENTS, data=vendor_form(f"R{number:03d}")).raise_for_status()

    default = api.get(APPOINTMENTS).json()
    assert len(default["data"]) == 15
    meta = default["meta"]
    path = f"{sandbox.base_url}{APPOINTMENTS}"
    assert meta == {
        "current_page": 1,
        "from": 1,
        "last_page": 17,
        "path": path,
        "per_page": 15,
        "to": 15,
        "total": 250,
    }
    assert default["links"] == {
        "first": f"{path}?page=1",
        "last": f"{path}?page=17",
        "prev": None,
        "next": f"{path}?page=2",
    }

    seen: list[str] = []
    for page in (1, 2, 3):
        body = api.get(APPOINTMENTS, params={"page": page, "per_page": 500}).json()
        assert body["meta"]["per_page"] == 100  # clamped
        seen += [item["reference"] for item in body["data"]]
    assert seen == [f"R{n:03d}" for n in range(250)]
    assert body["meta"]["from"] == 201 and body["meta"]["to"] == 250
    assert body["links"]["next"] is None and body["links"]["prev"] == f"{path}?page=2"

    beyond = api.get(APPOINTMENTS, params={"page": 9, "per_page": 100}).json()
    assert beyond["data"] == [] and beyond["meta"]["from"] is None

    filtered = api.get(APPOINTMENTS, params={"reference": "R200"}).json()
    assert filtered["meta"]["total"] == 250  # unknown filters are ignored
    assert filtered["data"][0]["reference"] == "R000"


def test_the_list_is_ordered_by_created_at_then_id_whatever_changes_later(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    """The order the incremental check of the account relies on (docs/api-contract.md):
    created_at, then id; a cancel or an update does not move an appointment."""
    made = [create(api, f"ORD-{n:02d}") for n in range(30)]
    api.post(f"{APPOINTMENTS}/{made[3]['id']}/cancel").raise_for_status()
    api.patch(f"{APPOINTMENTS}/{made[7]['id']}", json={"duration_in_minutes": 60})

    pages = [api.get(APPOINTMENTS, params={"page": n, "per_page": 20}).json() for n in (1, 2)]
    listed = [item for page in pages for item in page["data"]]

    keys = [(datetime.fromisoformat(i["created_at"].replace("Z", "+00:00")), i["id"])
            for i in listed]  # fmt: skip
    assert keys == sorted(keys)
    assert len({at for at, _ in keys}) == 30  # and created_at alone already orders them
    assert [i["id"] for i in listed] == [m["id"] for m in made]


def test_seed_stores_many_appointments_behind_the_apis_back(sandbox: RunningSandbox) -> None:
    with httpx.Client(base_url=sandbox.base_url) as helper:
        answer = helper.post("/_sandbox/seed", json={"count": 3, "prefix": "BIG"})
        refused = helper.post("/_sandbox/seed", json={"count": "many"})

    assert answer.json() == {"created": 3} and refused.status_code == 422
    assert [a["reference"] for a in sandbox.appointments()] == ["BIG-00000", "BIG-00001",
                                                                "BIG-00002"]  # fmt: skip
    assert sandbox.requests() == []  # a helper: neither logged nor counted


def test_listing_100_000_appointments_reads_only_the_page_asked_for(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    """A page of the list costs the same whichever it is: no page walks the whole list (a
    full sweep of 100,000 is 1,000 pages; bench/bench_existing.py times it)."""
    seed_appointments(sandbox, 100_000)

    def timed(page: int) -> float:
        started = time.perf_counter()
        body = api.get(APPOINTMENTS, params={"page": page, "per_page": 100}).json()
        assert len(body["data"]) == 100 and body["meta"]["total"] == 100_000
        return time.perf_counter() - started

    first, last = min(timed(1) for _ in range(5)), min(timed(1000) for _ in range(5))
    assert last < 0.1 and last < 5 * first + 0.01


# ---------------------------------------------------------------- update, cancel, messages


def test_patch_changes_only_given_fields(api: httpx.Client) -> None:
    created = create(api)
    response = api.patch(
        f"{APPOINTMENTS}/{created['id']}",
        json={"status": "waiting", "department_id": 3, "duration_in_minutes": 10},
    )
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["status"] == "waiting"
    assert data["department"] == {"id": 3, "name": "Employment support"}
    assert data["duration_in_minutes"] == 10
    assert data["meeting"]["end_date"] != created["meeting"]["end_date"]
    assert data["claimant"] == created["claimant"]
    assert data["reference"] == created["reference"]


def test_patch_cannot_cancel_or_touch_a_cancelled_appointment(api: httpx.Client) -> None:
    created = create(api)
    path = f"{APPOINTMENTS}/{created['id']}"
    assert api.patch(path, json={"status": "cancelled"}).status_code == 422
    assert api.patch(path, json={"duration_in_minutes": 0}).status_code == 422
    api.post(f"{path}/cancel").raise_for_status()
    locked = api.patch(path, json={"status": "scheduled"})
    assert locked.status_code == 422
    assert "status" in locked.json()["errors"]
    assert api.get(path).json()["data"]["status"] == "cancelled"


def test_patch_reference_must_stay_unique(api: httpx.Client) -> None:
    first, second = create(api, "ONE"), create(api, "TWO")
    taken = api.patch(f"{APPOINTMENTS}/{second['id']}", json={"reference": "ONE"})
    assert taken.status_code == 422
    assert taken.json()["errors"] == {"reference": ["The reference has already been taken."]}
    moved = api.patch(f"{APPOINTMENTS}/{first['id']}", json={"reference": "THREE"})
    assert moved.json()["data"]["url"].endswith("?reference=THREE")
    assert api.patch(f"{APPOINTMENTS}/{second['id']}", json={"reference": "ONE"}).is_success


def test_cancel_twice_is_422_already_cancelled(api: httpx.Client) -> None:
    created = create(api)
    path = f"{APPOINTMENTS}/{created['id']}/cancel"
    first = api.post(path, json={"cancellation_reason": "Claimant asked"})
    assert first.status_code == 200
    data = first.json()["data"]
    assert data["status"] == "cancelled"
    assert data["cancellation_reason"] == "Claimant asked"
    assert data["cancelled_at"].endswith("Z")
    second = api.post(path, data={"cancellation_reason": "again"})
    assert second.status_code == 422
    assert second.json() == {
        "message": "The appointment has already been cancelled.",
        "errors": {"status": ["The appointment has already been cancelled."]},
    }


def test_cancel_reason_is_limited_to_255(api: httpx.Client) -> None:
    created = create(api)
    path = f"{APPOINTMENTS}/{created['id']}/cancel"
    assert api.post(path, json={"cancellation_reason": "x" * 256}).status_code == 422
    assert api.post(path).status_code == 200


def test_messages_need_a_message(api: httpx.Client) -> None:
    created = create(api)
    path = f"{APPOINTMENTS}/{created['id']}/messages"
    sent = api.post(path, json={"message": "We will call you in 5 minutes."})
    assert sent.status_code == 201
    assert sent.json()["data"]["message"] == "We will call you in 5 minutes."
    missing = api.post(path, json={})
    assert missing.status_code == 422
    assert missing.json()["errors"] == {"message": ["The message field is required."]}


# ---------------------------------------------------------------- duplicates


def test_duplicate_reference_rejected_by_default(
    sandbox: RunningSandbox, api: httpx.Client
) -> None:
    create(api, "DUP")
    again = api.post(APPOINTMENTS, json=json_body("DUP"))
    assert again.status_code == 422
    assert again.json()["errors"] == {"reference": ["The reference has already been taken."]}
    assert len(sandbox.appointments()) == 1


def test_duplicate_reference_allowed_creates_another(sandbox_factory: SandboxFactory) -> None:
    sandbox = sandbox_factory(duplicate_references="allow")
    with client_for(sandbox) as client:
        first, second = create(client, "DUP"), create(client, "DUP")
    assert first["id"] != second["id"]
    assert [a["reference"] for a in sandbox.appointments()] == ["DUP", "DUP"]


def test_concurrent_creates_of_one_reference_store_one(sandbox: RunningSandbox) -> None:
    async def send() -> int:
        async with _caller(sandbox) as client:
            return (await client.post(APPOINTMENTS, json=json_body("SAME"))).status_code

    async def burst() -> list[int]:
        return list(await asyncio.gather(*(send() for _ in range(20))))

    codes = asyncio.run(burst())
    assert sorted(codes) == [201] + [422] * 19
    assert len(sandbox.appointments()) == 1


# ---------------------------------------------------------------- faults


def test_error_rate_one_answers_5xx_and_stores_nothing(sandbox_factory: SandboxFactory) -> None:
    sandbox = sandbox_factory(error_rate=1.0, error_statuses=(502, 504))
    with client_for(sandbox) as client:
        for number in range(10):
            response = client.post(APPOINTMENTS, json=json_body(f"E{number}"))
            assert response.status_code in (502, 504)
            assert response.json() == {"message": "Server Error"}
        token = client.post(
            sandbox.token_url,
            auth=("sandbox-client", "sandbox-secret"),
            data={"grant_type": "client_credentials"},
        )
    assert token.status_code == 200  # the token endpoint never fails on purpose
    assert sandbox.appointments() == []
    assert sandbox.stats()["created"] == 0


def test_drop_rate_one_stores_then_sends_no_answer(sandbox_factory: SandboxFactory) -> None:
    sandbox = sandbox_factory(drop_rate=1.0)
    with client_for(sandbox) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.post(APPOINTMENTS, json=json_body("DROP-1"))
        (stored,) = sandbox.appointments()
        assert stored["reference"] == "DROP-1"
        with pytest.raises(httpx.RemoteProtocolError):
            client.post(f"{APPOINTMENTS}/{stored['id']}/cancel")
        assert sandbox.appointments()[0]["status"] == "cancelled"
        shown = client.get(f"{APPOINTMENTS}/{stored['id']}")  # reads are never dropped
        assert shown.status_code == 200
    stats = sandbox.stats()
    assert stats["dropped"] == 2 and stats["created"] == 1
    log = sandbox.requests()
    assert [(e["dropped"], e["status"]) for e in log] == [(True, None), (True, None), (False, 200)]


def test_a_drop_is_no_error_in_the_log_but_a_real_error_is(
    sandbox_factory: SandboxFactory,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Drops are on purpose (plain ASGI: start a 502, then raise): uvicorn's error log stays
    quiet about them, and still reports anything else that goes wrong."""
    sandbox = sandbox_factory(drop_rate=1.0)
    with client_for(sandbox) as client, pytest.raises(httpx.RemoteProtocolError) as dropped:
        client.post(APPOINTMENTS, json=json_body("DROP-1"))
    assert "incomplete" in str(dropped.value)  # the 502 started, its body never came
    # uvicorn logs an application's exception before it closes the connection
    assert [r for r in caplog.records if r.name == "uvicorn.error"] == []

    def broken(*args: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(sandbox.state, "stats", broken)
    with client_for(sandbox) as client:
        assert client.get("/_sandbox/stats").status_code == 500
    deadline = time.monotonic() + 5  # here the answer went out before uvicorn logged
    while not [r for r in caplog.records if r.name == "uvicorn.error"]:
        assert time.monotonic() < deadline, "the error was not logged"
        time.sleep(0.01)
    (logged,) = [r for r in caplog.records if r.name == "uvicorn.error"]
    assert logged.exc_info is not None and isinstance(logged.exc_info[1], RuntimeError)


def test_burst_answers_calls_n_to_m_and_changes_nothing(sandbox_factory: SandboxFactory) -> None:
    sandbox = sandbox_factory(burst_start=2, burst_length=3, burst_status=503)
    with client_for(sandbox) as client:
        statuses = [
            client.post(APPOINTMENTS, json=json_body(f"B{n}")).status_code for n in range(6)
        ]
    assert statuses == [201, 503, 503, 503, 201, 201]
    assert sorted(a["reference"] for a in sandbox.appointments()) == ["B0", "B4", "B5"]


def test_burst_without_a_status_mixes_error_statuses(sandbox_factory: SandboxFactory) -> None:
    sandbox = sandbox_factory(burst_start=1, burst_length=40, error_statuses=(500, 502))
    with client_for(sandbox) as client:
        statuses = {client.get(APPOINTMENTS).status_code for _ in range(40)}
    assert statuses == {500, 502}


def test_throttle_storm_answers_429_with_retry_after_zero(sandbox_factory: SandboxFactory) -> None:
    sandbox = sandbox_factory(throttle_rate=1.0)
    with client_for(sandbox) as client:
        response = client.post(APPOINTMENTS, json=json_body("T1"))
        assert (response.status_code, response.headers["Retry-After"]) == (429, "0")
        sandbox.reconfigure(throttle_rate=0.0)
        assert client.post(APPOINTMENTS, json=json_body("T1")).status_code == 201


def test_spike_stores_first_and_answers_late(sandbox_factory: SandboxFactory) -> None:
    """The nasty case: the client times out, yet the appointment exists."""
    sandbox = sandbox_factory(spike_rate=1.0, spike_delay=0.5)
    with client_for(sandbox) as client, pytest.raises(httpx.ReadTimeout):
        client.post(APPOINTMENTS, json=json_body("S1"), timeout=0.2)
    assert [a["reference"] for a in sandbox.appointments()] == ["S1"]


def test_tokens_revoked_at_call_n_then_new_ones_work(sandbox_factory: SandboxFactory) -> None:
    sandbox = sandbox_factory(revoke_tokens_at=3)
    with client_for(sandbox) as client:
        issued = client.post(
            sandbox.token_url,
            auth=("sandbox-client", "sandbox-secret"),
            data={"grant_type": "client_credentials"},
        ).json()["access_token"]
        oauth = {"Authorization": f"Bearer {issued}"}
        assert client.get(APPOINTMENTS).status_code == 200
        assert client.get(APPOINTMENTS, headers=oauth).status_code == 200
        assert client.get(APPOINTMENTS).status_code == 401  # call 3: static token revoked
        assert client.get(APPOINTMENTS, headers=oauth).status_code == 401
        renewed = client.post(
            sandbox.token_url,
            auth=("sandbox-client", "sandbox-secret"),
            data={"grant_type": "client_credentials"},
        ).json()["access_token"]
        assert client.get(APPOINTMENTS, headers={"Authorization": f"Bearer {renewed}"}).is_success
        sandbox.reconfigure(static_token="rotated")
        assert client.get(APPOINTMENTS, headers={"Authorization": "Bearer rotated"}).is_success


def test_stop_listening_refuses_then_resume_keeps_the_store(sandbox: RunningSandbox) -> None:
    with client_for(sandbox) as client:
        assert client.post(APPOINTMENTS, json=json_body("R1")).status_code == 201
        sandbox.stop_listening()
        with pytest.raises(httpx.ConnectError):  # the kept-alive connection was cut too
            client.get(APPOINTMENTS)
        sandbox.resume()
        listed = client.get(APPOINTMENTS).json()["data"]
    assert [a["reference"] for a in listed] == ["R1"]


def test_latency_delays_every_api_call(sandbox_factory: SandboxFactory) -> None:
    sandbox = sandbox_factory(latency=0.2)
    with client_for(sandbox) as client:
        started = time.perf_counter()
        client.get(APPOINTMENTS).raise_for_status()
        assert time.perf_counter() - started >= 0.2
        started = time.perf_counter()
        client.get("/_sandbox/stats").raise_for_status()
        assert time.perf_counter() - started < 0.2


def test_rate_limit_answers_429_with_headers(sandbox_factory: SandboxFactory) -> None:
    sandbox = sandbox_factory(rate_limit=2)
    with client_for(sandbox) as client:
        first = client.get(APPOINTMENTS)
        second = client.get(APPOINTMENTS)
        third = client.get(APPOINTMENTS)
    assert first.headers["X-RateLimit-Limit"] == "2"
    assert (first.headers["X-RateLimit-Remaining"], second.headers["X-RateLimit-Remaining"]) == (
        "1",
        "0",
    )
    assert third.status_code == 429
    assert third.json() == {"message": "Too Many Attempts."}
    assert third.headers["Retry-After"] == "1"
    assert third.headers["X-RateLimit-Limit"] == "2"
    assert third.headers["X-RateLimit-Remaining"] == "0"
    time.sleep(1.0)
    with client_for(sandbox) as client:
        assert client.get(APPOINTMENTS).status_code == 200


# One connection per simulated caller: a shared httpx pool queues 64 requests and spends more
# CPU assigning them than the sandbox spends answering. One TLS context for all (unused: http).
_TLS = ssl.create_default_context()


def _caller(sandbox: RunningSandbox) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=sandbox.base_url, headers=AUTH, timeout=10, verify=_TLS)


def _fault_run(sandbox: RunningSandbox, attempts: int = 2) -> dict[str, list[int | str]]:
    """64 references sent concurrently, each `attempts` times; what each attempt came to."""

    async def attempt(reference: str) -> list[int | str]:
        outcomes: list[int | str] = []
        async with _caller(sandbox) as client:
            for _ in range(attempts):
                try:
                    response = await client.post(APPOINTMENTS, json=json_body(reference))
                    outcomes.append(response.status_code)
                except httpx.TransportError:
                    outcomes.append("dropped")
        return outcomes

    async def run() -> dict[str, list[int | str]]:
        references = [f"S{n:02d}" for n in range(64)]
        results = await asyncio.gather(*(attempt(r) for r in references))
        return dict(zip(references, results, strict=True))

    return asyncio.run(run())


def test_same_seed_same_faults_whatever_the_arrival_order(
    sandbox_factory: SandboxFactory,
) -> None:
    config = SandboxConfig(seed=7, error_rate=0.3, drop_rate=0.3, latency_jitter=0.02)
    first = _fault_run(sandbox_factory(config))
    second = _fault_run(sandbox_factory(config))
    other = _fault_run(sandbox_factory(config, seed=8), attempts=1)
    assert first == second
    assert [o[0] for o in first.values()] != [o[0] for o in other.values()]
    outcomes = {o for attempts in first.values() for o in attempts}
    assert {201, "dropped", 422}.issubset(outcomes)  # 422: the retried reference was stored
    assert outcomes & {500, 502, 503, 504}


def test_stats_count_concurrency_and_arrivals(sandbox_factory: SandboxFactory) -> None:
    sandbox = sandbox_factory(latency=0.4)  # margin: all 8 must arrive while the first waits

    async def get() -> None:
        async with _caller(sandbox) as client:
            (await client.get(APPOINTMENTS)).raise_for_status()

    async def burst() -> None:
        await asyncio.gather(*(get() for _ in range(8)))

    asyncio.run(burst())
    stats = sandbox.stats()
    assert stats["requests"] == 8
    assert stats["max_in_flight"] == 8
    assert stats["max_per_second"] == 8
    assert stats["responses"] == {"200": 8}
    assert stats["in_flight"] == 0
    with httpx.Client() as raw:
        assert raw.get(f"{sandbox.base_url}/_sandbox/stats").json() == sandbox.stats()


def test_max_per_second_is_a_sliding_window(sandbox: RunningSandbox, api: httpx.Client) -> None:
    for _ in range(3):
        api.get(APPOINTMENTS)
    time.sleep(1.05)
    for _ in range(2):
        api.get(APPOINTMENTS)
    assert sandbox.stats()["max_per_second"] == 3


# ---------------------------------------------------------------- helpers and lifecycle


def test_helpers_reconfigure_and_reset(sandbox: RunningSandbox, api: httpx.Client) -> None:
    create(api, "KEEP")
    helpers = httpx.Client(base_url=f"{sandbox.base_url}/_sandbox")
    with helpers:
        assert [a["reference"] for a in helpers.get("/state").json()] == ["KEEP"]
        changed = helpers.post("/config", json={"error_rate": 1, "error_statuses": [503]})
        assert changed.json()["error_rate"] == 1.0
        assert "client_secret" not in changed.json()
        assert api.get(APPOINTMENTS).status_code == 503
        assert helpers.post("/config", json={"no_such_knob": 1}).status_code == 422
        sandbox.reconfigure(error_rate=0.0)
        assert api.get(APPOINTMENTS).status_code == 200
        assert [e["status"] for e in helpers.get("/requests").json()] == [201, 503, 200]
        helpers.post("/reset").raise_for_status()
    assert sandbox.appointments() == []
    assert sandbox.stats()["requests"] == 0
    assert sandbox.requests() == []


def test_config_repr_hides_credentials() -> None:
    text = repr(SandboxConfig(client_secret="s3cr3t", static_token="t0k3n"))
    assert "s3cr3t" not in text and "t0k3n" not in text


def test_start_and_stop_are_quick(sandbox_factory: SandboxFactory) -> None:
    started = time.perf_counter()
    sandbox = sandbox_factory()
    with client_for(sandbox) as client:
        client.get(APPOINTMENTS).raise_for_status()
    sandbox.stop()
    assert time.perf_counter() - started < 1.0
    with pytest.raises(httpx.ConnectError):
        httpx.get(sandbox.base_url + APPOINTMENTS, headers=AUTH)


def test_stop_ends_requests_in_flight_without_an_answer(sandbox_factory: SandboxFactory) -> None:
    sandbox = sandbox_factory(latency=30.0)
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            httpx.get(sandbox.base_url + APPOINTMENTS, headers=AUTH, timeout=10)
        except httpx.HTTPError as exc:
            outcome.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    deadline = time.monotonic() + 5
    while sandbox.stats()["in_flight"] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.perf_counter()
    sandbox.stop()
    caller.join(5)
    assert time.perf_counter() - started < 1.0
    assert [type(exc) for exc in outcome] == [httpx.RemoteProtocolError]


def test_command_serves_until_interrupted() -> None:
    code = "from batch_scheduler.sandbox.command import sandbox_command; sandbox_command()"
    process = subprocess.Popen(
        [sys.executable, "-c", code, "--port", "0", "--static-token", "tok"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        base_url = first.split()[-1]
        assert first.startswith("Sandbox API:") and base_url.startswith("http://127.0.0.1:")
        headers = {"Authorization": "Bearer tok"}
        assert httpx.get(base_url + APPOINTMENTS, headers=headers).status_code == 200
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=10)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 0
    assert "Sandbox stopped." in out


def test_config_refuses_nonsense_knobs() -> None:
    with pytest.raises(ValueError, match="duplicate_references"):
        SandboxConfig(duplicate_references="maybe")
    with pytest.raises(ValueError, match="error_rate"):
        SandboxConfig(error_rate=1.5)


def test_duplicate_is_reported_with_other_errors(api: httpx.Client) -> None:
    create(api, "TWICE")
    response = api.post(APPOINTMENTS, json=json_body("TWICE", duration_in_minutes=0))
    assert list(response.json()["errors"]) == ["reference", "duration_in_minutes"]
    assert response.json()["message"].endswith("(and 1 more error)")
