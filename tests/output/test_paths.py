"""Output paths: checked before anything is sent (exit 2); when writing still fails after
sending, the results go to a fallback file in the state directory and the report says where.
Real sandbox on loopback, real files; the folder really disappears mid-run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from batch_scheduler.config import ApiSettings, IntakeSettings, Secret, SendSettings, Settings
from batch_scheduler.demo.samples import write_allocate_sample
from batch_scheduler.errors import OutputError
from batch_scheduler.models import RowResult
from batch_scheduler.pipeline import RunRequest, run
from batch_scheduler.sandbox import RunningSandbox
from tests.support.cli import cli_env, invoke
from tests.support.sheets import NOW, book_sheet, sheet_rows

CONFIG = "[departments]\nBenefits = 1\nHousing = 2\n"


@pytest.mark.parametrize(
    ("option", "name", "words"),
    [
        ("--out", "missing/r.xlsx", "does not exist"),
        ("--out", "r.txt", "must end in .xlsx or .csv"),
        ("--out", "in.xlsx", "it would be overwritten"),
        ("--out", "a-file/r.xlsx", "does not exist"),
        ("--out", ".", "is a folder"),
        ("--summary-json", "s.xlsx", "must end in .json"),
        ("--summary-json", "missing/s.json", "does not exist"),
    ],
)
def test_a_bad_output_path_stops_book_before_anything_is_sent(
    sandbox: RunningSandbox, tmp_path: Path, option: str, name: str, words: str
) -> None:
    env = cli_env(tmp_path, CONFIG)
    sheet = book_sheet(tmp_path / "in.xlsx", 3)
    (tmp_path / "a-file").write_text("not a folder")
    out = {"--out": tmp_path / "r.xlsx", "--summary-json": None, option: tmp_path / name}
    args = [a for key, value in out.items() if value is not None for a in (key, value)]

    result = invoke(env, "book", sheet, *args, "--config", tmp_path / "config.toml",
                    "--base-url", sandbox.base_url)  # fmt: skip

    assert result.exit_code == 2, result.output
    assert words in result.stderr and "Nothing was sent" in result.stderr
    assert "Traceback" not in result.output
    assert sandbox.requests() == []  # not even the access check
    assert not (tmp_path / "r.xlsx").exists()


def test_validate_report_and_allocate_outputs_are_checked_too(tmp_path: Path) -> None:
    env = cli_env(tmp_path, CONFIG)
    sheet = book_sheet(tmp_path / "in.xlsx", 3)
    week = write_allocate_sample(tmp_path / "week.xlsx", NOW.date())
    config = ("--config", tmp_path / "config.toml")

    report = invoke(env, "validate", sheet, "--report", tmp_path / "r.txt", *config)
    results = invoke(env, "allocate", week, "--out", tmp_path / "plan.xlsx", "--book",
                     "--results", tmp_path / "gone" / "r.xlsx", *config,
                     "--base-url", "http://127.0.0.1:9")  # fmt: skip
    plan = invoke(env, "allocate", week, "--out", tmp_path / "plan.csv", *config)

    assert report.exit_code == 2 and "--report" in report.stderr
    assert results.exit_code == 2 and "--results" in results.stderr
    assert plan.exit_code == 2 and "must end in .xlsx" in plan.stderr
    assert not (tmp_path / "plan.xlsx").exists()  # checked before the plan is written


class FolderRemover:
    """A progress display that removes the output folder once every row is sent: the run
    writes into a folder that was there when it was checked and is gone now."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def start(self, total: int, description: str) -> None:
        pass

    def advance(self, result: RowResult) -> None:
        pass

    def finish(self) -> None:
        shutil.rmtree(self.folder)


def settings_for(sandbox: RunningSandbox, state: Path) -> Settings:
    return Settings(
        api=ApiSettings(base_url=sandbox.base_url, token=Secret("sandbox-token")),
        send=SendSettings(rate=200.0, backoff_initial=0.01, backoff_max=0.05),
        intake=IntakeSettings(departments={"Benefits": 1}),
        state_dir=state,
    )


def shared_folder(tmp_path: Path) -> Path:
    """The folder the results go to (and that disappears mid-run)."""
    folder = tmp_path / "shared"
    folder.mkdir()
    return folder


def test_results_that_cannot_be_written_after_sending_go_to_the_state_directory(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    sheet, folder = book_sheet(tmp_path / "in.xlsx", 4), shared_folder(tmp_path)
    request = RunRequest("book", sheet, folder / "results.xlsx",
                         summary_json=folder / "summary.json")  # fmt: skip

    report = run(request, settings_for(sandbox, tmp_path / "state"), now=NOW,
                 progress=FolderRemover(folder))  # fmt: skip

    assert len(sandbox.appointments()) == 4  # booked before the folder went
    assert report.exit_code == 1  # the results are not where a scheduler looks
    assert [saved.asked for saved in report.unsaved] == [folder / "results.xlsx",
                                                          folder / "summary.json"]  # fmt: skip
    assert all("No such file" in (saved.problem or "") for saved in report.unsaved)
    fallback = report.out_path
    assert fallback is not None and fallback.parent == tmp_path / "state" / "unsaved"
    assert fallback.name.endswith("-results.xlsx")
    assert [row["outcome"] for row in sheet_rows(fallback)] == ["created"] * 4
    assert report.unsaved[1].path.read_text().startswith("{")


def test_when_the_fallback_fails_too_the_message_says_how_to_get_the_results(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    sheet, folder = book_sheet(tmp_path / "in.xlsx", 2), shared_folder(tmp_path)
    state = tmp_path / "state"

    class AlsoBlockFallback(FolderRemover):
        def finish(self) -> None:
            super().finish()
            (state / "unsaved").write_text("a file where the fallback folder would go")

    with pytest.raises(OutputError) as raised:
        run(RunRequest("book", sheet, folder / "r.xlsx"), settings_for(sandbox, state),
            now=NOW, progress=AlsoBlockFallback(folder))  # fmt: skip

    assert raised.value.exit_code == 1
    assert "run the same command again" in raised.value.message
    assert len(sandbox.appointments()) == 2
