"""What the send says about a row (the Results' error column, the page's failed rows) and
about the API (a run stopped by refused credentials) is Welsh in a Welsh run: every reason a
row was not booked or cancelled, the answers in words, the network's failures."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from typing import Any

import httpx
import pytest
from multidict import CIMultiDict

from batch_scheduler import i18n
from batch_scheduler.api.auth import ClientCredentials
from batch_scheduler.api.classify import classify, describe, transport_result
from batch_scheduler.api.wire import _HTTPX_WORDS, Answer, HttpxWire
from batch_scheduler.config import ApiSettings, Secret, load_settings
from batch_scheduler.errors import AnswerLost, LedgerError, NotSent, TokenUnavailable
from batch_scheduler.ledger import Ledger
from batch_scheduler.models import (
    ApiResult,
    Appointment,
    AppointmentRequest,
    ClaimantIn,
    Outcome,
    ResultKind,
)
from batch_scheduler.pipeline import RunRequest, run
from batch_scheduler.send import cancels, creates, existing, rows, triage
from batch_scheduler.send.matching import compare, conflict_message
from batch_scheduler.send.pacing import GiveUp
from tests.i18n.test_welsh_messages import assert_welsh
from tests.support.sheets import NOW, book_sheet, sheet_rows, write_xlsx
from tests.support.welsh import english_left

AT = datetime(2030, 3, 4, 9, 30, tzinfo=UTC)
ID = "8f14e45f-ceea-4e7a-9c1b-2f1d3c4b5a69"


@pytest.fixture
def welsh() -> Iterator[None]:
    with i18n.use_language("cy"):
        yield


def answer(status: int, body: bytes = b"{}") -> Answer:
    return Answer(status, HTTPStatus(status).phrase, CIMultiDict(), body)


def request() -> AppointmentRequest:
    return AppointmentRequest(
        reference="CYF-001",
        appointment_at=AT,
        duration_in_minutes=30,
        claimant=ClaimantIn(name="Siân Llewelyn"),
    )


def test_every_reason_a_row_stopped_is_welsh(welsh: None) -> None:
    row: rows.Row[Any] = rows.Row(0, "CYF-001", None, attempts=1, retries=6)
    said = [rows.interrupted(None).error, rows.interrupted(row).error]
    for state in ("on_wire", "waiting_check"):
        said.append(rows.interrupted(dataclasses.replace(row, **{state: True})).error)
    said.append(rows.interrupted(dataclasses.replace(row, attempts=0)).error)
    assert len(set(said)) == 4  # never reached and never sent say the same
    for text in said:
        assert_welsh(str(text))


def test_giving_up_and_refusals_are_welsh(welsh: None) -> None:
    row: rows.Row[Any] = rows.Row(0, "CYF-001", None, attempts=3, retries=6, waiting_check=True)
    busy: ApiResult[Any] = ApiResult(ResultKind.RETRY_LATER, 503, message="Service Unavailable")
    lost = transport_result(AnswerLost(_HTTPX_WORDS[3][2]), changing=True)
    for result, reason in ((busy, GiveUp.DEADLINE), (busy, GiveUp.RETRIES), (lost, None)):
        text = rows.gave_up(row, result, reason or GiveUp.RETRIES, 62.4, 60).error
        assert_welsh(str(text), "HTTP", "503")
    assert describe(busy) == "503 (gwasanaeth ddim ar gael)"
    refused = rows.rejection(ApiResult(ResultKind.REJECTED, 409), 1).error
    assert refused == "Gwrthododd yr API y cais (HTTP 409)."
    for text in (
        triage.nothing_to_cancel(Outcome.FAILED).error,
        cancels._no_reference("CYF-001").error,
        creates._taken_but_missing(rows.Row(0, "CYF-001", None)).error,
        existing._duplicates_warning(
            "CYF-001",
            Appointment(ID, "CYF-001", AT, 30, "scheduled", None),
            [Appointment("x-2", "CYF-001", AT, 30, "scheduled", None)],
        ),
    ):
        assert_welsh(str(text), "CYF-001", ID, "x-2", "book")
    assert "wedi methu" in str(triage.nothing_to_cancel(Outcome.FAILED).error)  # the word shown


def test_the_api_s_answers_and_the_network_s_failures_are_welsh(welsh: None) -> None:
    def parse(body: Any) -> Any:
        return body["id"]

    said = [
        classify(answer(401, b'{"message": "Unauthenticated."}'), changing=True, parse=parse),
        classify(answer(403, b'{"message": "Forbidden"}'), changing=True, parse=parse),
        classify(answer(302, b""), changing=True, parse=parse),
        classify(answer(201, b"[]"), changing=True, parse=parse),
        classify(answer(200, b"[]"), changing=False, parse=parse),
    ]
    for result in said:
        assert_welsh(str(result.message), "HTTP", "JSON", "Unauthenticated.", "Forbidden", "URL")
    for _cls, kind, words in _HTTPX_WORDS:
        for changing in (True, False):
            result = transport_result(kind(words), changing=changing)
            assert_welsh(str(result.message), "API")
    assert describe(transport_result(NotSent(_HTTPX_WORDS[1][2]), changing=False)).startswith(
        "nid oedd modd cysylltu"
    )


def test_how_a_booking_found_differs_is_welsh(welsh: None) -> None:
    found = Appointment(ID, "CYF-001", AT + timedelta(hours=1), 45, "scheduled", None, "Arall")
    match = compare(request(), found)
    assert match.differences == ("am 04/03/2030 10:30, nid 04/03/2030 09:30",
                                 "45 munud, nid 30", "ar gyfer hawlydd arall")  # fmt: skip
    assert_welsh(conflict_message(match), "CYF-001", ID, "04/03/2030 10:30", "04/03/2030 09:30")


CONFIG = "[send]\nmax_retries = 1\nbackoff_initial = 0.01\nbackoff_max = 0.02\n"


@pytest.mark.parametrize("language", ["en", "cy"])
def test_a_welsh_run_against_a_failing_api_writes_its_reasons_in_welsh(
    tmp_path: Path, sandbox_factory: Any, language: str
) -> None:
    """Every request answered 500: each row fails, its reason in the run's language; the
    same run in English says the same in English (the codes and outcomes do not change)."""
    sandbox = sandbox_factory(error_rate=1.0)
    (tmp_path / "config.toml").write_text(CONFIG + "[departments]\nBenefits = 1\nHousing = 2\n")
    settings = load_settings(
        config_path=tmp_path / "config.toml",
        env={"BATCH_SCHEDULER_TOKEN": "sandbox-token"},
        overrides={"api": {"base_url": sandbox.base_url}, "root": {"state_dir": tmp_path / "s"}},
        need_api=True,
    )
    sheet = book_sheet(tmp_path / "in.xlsx", 3)
    with i18n.use_language(language):
        report = run(RunRequest("book", sheet, tmp_path / "out.xlsx"), settings, now=NOW)
        cancelled = run(
            RunRequest("cancel", write_xlsx(tmp_path / "c.xlsx", [{"reference": "NONE-1"}],
                                            headers=["reference"]), tmp_path / "c-out.xlsx"),
            settings, now=NOW,
        )  # fmt: skip
    # failed (the API kept failing) or not sent (a run that asks the account first could not)
    unbooked = {Outcome.FAILED.value, Outcome.NOT_ATTEMPTED.value}
    assert sum(report.outcomes.values()) == 3 and set(report.outcomes) <= unbooked
    assert report.exit_code == 1
    assert cancelled.outcomes == {Outcome.FAILED.value: 1}  # the list could not be read
    sheet_name = {"en": "Results", "cy": "Canlyniadau"}[language]
    error = {"en": "error", "cy": "Gwall"}[language]
    reasons = [r[error] for r in sheet_rows(tmp_path / "out.xlsx", sheet_name)]
    reasons += [r[error] for r in sheet_rows(tmp_path / "c-out.xlsx", sheet_name)]
    assert len(reasons) == 4 and all(reasons)
    for reason in reasons:
        if language == "cy":
            assert_welsh(str(reason), "HTTP", "500", "503", "NONE-1")
        else:  # the same run in English: English reasons, as before
            assert english_left(str(reason)), reason


@pytest.mark.parametrize("status", [401, 503, 404, 200])
def test_the_token_endpoint_s_refusals_are_welsh(welsh: None, status: int) -> None:
    url = "http://127.0.0.1:9"
    settings = ApiSettings(url, client_id="cleient", client_secret=Secret("cyfrinach-hir"),
                           token_url=url + "/t")  # fmt: skip
    provider = ClientCredentials(settings, HttpxWire(httpx.MockTransport(lambda r: None)), float)
    with pytest.raises(TokenUnavailable) as refused:
        provider._read(answer(status, b"{}"), 0.0)
    quoted = ["HTTP", str(status), "BATCH_SCHEDULER_CLIENT_ID", "BATCH_SCHEDULER_CLIENT_SECRET",
              "BATCH_SCHEDULER_TOKEN_URL", "ID"]  # fmt: skip
    assert_welsh(str(refused.value.message), *quoted)


def test_a_ledger_that_cannot_be_used_is_said_in_welsh(welsh: None, tmp_path: Path) -> None:
    state = tmp_path / "cyflwr"
    Ledger.open(state, base_url="http://127.0.0.1:9").close()
    conn = sqlite3.connect(state / Ledger.FILE_NAME)
    with conn:
        conn.execute("UPDATE schema_version SET version = 99")
    conn.close()
    with pytest.raises(LedgerError) as newer:
        Ledger.open(state, base_url="http://127.0.0.1:9")
    assert_welsh(str(newer.value), state / Ledger.FILE_NAME, "batch-scheduler", "--state-dir")
    (tmp_path / "ffeil").write_text("")
    with pytest.raises(LedgerError) as blocked:
        Ledger.open(tmp_path / "ffeil" / "cyflwr", base_url="http://127.0.0.1:9")
    assert_welsh(
        str(blocked.value), tmp_path / "ffeil" / "cyflwr", "--state-dir", "Not a directory"
    )
