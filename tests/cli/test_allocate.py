"""`allocate` end to end: plan, book on the sandbox; a re-run books nothing twice."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from batch_scheduler.demo.samples import (
    ALLOCATE_STORY,
    make_claimant_rows,
    make_slot_rows,
    write_allocate_sample,
)
from tests.support.cli import invoke
from tests.support.sheets import NOW, sheet_rows

CONFIG = (
    '[departments]\nBenefits = 1\nHousing = 2\n"Employment support" = 3\n\n'
    "[send]\nbackoff_initial = 0.02\nbackoff_max = 0.2\nretry_after_floor = 0.05\n"
)


def test_allocate_and_book_once_per_placed_claimant(sandbox: Any, tmp_path: Path, env: Any) -> None:
    sample = write_allocate_sample(tmp_path / "week.xlsx", NOW.date())
    plan = tmp_path / "plan.xlsx"
    args = ("allocate", sample, "--out", plan, "--book", "--base-url", sandbox.base_url)

    first = invoke(env, *args, "--config", tmp_path / "config.toml")

    assert first.exit_code == 1, first.output  # some claimants could not be placed
    assert "no-language-slot" in first.output and "Wrote the plan" in first.output
    booked = sheet_rows(plan, "Book")
    assert len(booked) == 22
    stored = sandbox.appointments()
    assert len(stored) == 22  # exactly one appointment per placed claimant
    assert len({a["reference"] for a in stored}) == 22
    results = sheet_rows(tmp_path / "plan-results.xlsx", "Results")
    assert Counter(r["outcome"] for r in results) == {"created": 22}
    assert {r["Claimant name"] for r in results} == {r["Claimant name"] for r in booked}
    unplaced = {r["Claimant name"] for r in sheet_rows(plan, "Unplaced")}
    assert unplaced == set(ALLOCATE_STORY)
    both = unplaced & {r["Claimant name"] for r in booked}
    assert both == {"Eleri Griffiths"}  # her first row is booked; the repeat is refused

    again = invoke(env, *args, "--config", tmp_path / "config.toml")

    assert again.exit_code == 1, again.output
    assert len(sandbox.appointments()) == 22  # nothing booked twice
    results = sheet_rows(tmp_path / "plan-results.xlsx", "Results")
    assert Counter(r["outcome"] for r in results) == {"already_exists": 22}


def test_two_csv_files_and_the_plan_without_booking(tmp_path: Path, env: Any) -> None:
    claimants, slots = tmp_path / "claimants.csv", tmp_path / "slots.csv"
    for path, rows in ((claimants, make_claimant_rows(NOW.date())[:6]),
                       (slots, make_slot_rows(NOW.date())[:3])):  # fmt: skip
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list({k for r in rows for k in r}))
            writer.writeheader()
            for row in rows:
                writer.writerow({k: _csv(v) for k, v in row.items()})
    plan = tmp_path / "plan.xlsx"

    result = invoke(env, "allocate", claimants, "--slots", slots, "--out", plan,
                    "--strategy", "interpreter-first",
                    "--config", tmp_path / "config.toml")  # fmt: skip

    assert result.exit_code == 1, result.output  # 6 claimants, 4 places
    assert "allocate (interpreter-first)" in result.output
    assert len(sheet_rows(plan, "Book")) == 4
    assert not (tmp_path / "plan-results.xlsx").exists()


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=sorted({k for r in rows for k in r}))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _csv(v) for k, v in row.items()})
    return path


def test_changed_slots_do_not_book_a_claimant_without_reference_twice(
    sandbox: Any, tmp_path: Path, env: Any
) -> None:
    plain = {"Department": "Benefits", "Interpreter?": "No", "Language": None}
    people = [{**r, **plain} for r in make_claimant_rows(NOW.date()) if not r["Ref"]][:2]
    claimants = write_csv(tmp_path / "claimants.csv", people)
    slots = [r for r in make_slot_rows(NOW.date()) if r.get("Department") == "Benefits"]
    plan = tmp_path / "plan.xlsx"
    args = ("allocate", claimants, "--out", plan, "--book", "--base-url", sandbox.base_url)

    first = invoke(
        env,
        *args,
        "--slots",
        write_csv(tmp_path / "s1.csv", slots[:4]),
        "--config",
        tmp_path / "config.toml",
    )
    booked_first = {r["Claimant name"]: r for r in sheet_rows(plan, "Book")}
    # the week's first slots are taken elsewhere: the same claimants land in other slots
    second = invoke(
        env,
        *args,
        "--slots",
        write_csv(tmp_path / "s2.csv", slots[2:8]),
        "--config",
        tmp_path / "config.toml",
    )
    booked_second = {r["Claimant name"]: r for r in sheet_rows(plan, "Book")}

    assert first.exit_code == 0, first.output
    assert set(booked_first) == set(booked_second) == {r["Claimant Name"] for r in people}
    moved = [
        n for n in booked_first if booked_first[n]["Appointment"] != booked_second[n]["Appointment"]
    ]
    assert moved  # the test means something only if a claimant changed slot
    for name in booked_first:  # the reference follows the claimant, not the slot
        assert booked_first[name]["Reference"] == booked_second[name]["Reference"]
    assert len(sandbox.appointments()) == len(people)  # nobody booked twice
    # a moved claimant's booking is for the old slot: a conflict to act on, not "done"
    assert second.exit_code == 1, second.output
    results = sheet_rows(tmp_path / "plan-results.xlsx", "Results")
    outcomes = {r["Claimant name"]: r["outcome"] for r in results}
    assert outcomes == {n: "conflict" if n in moved else "already_exists" for n in booked_first}
    assert all("not" in r["error"] for r in results if r["outcome"] == "conflict")


def test_a_single_csv_is_refused(tmp_path: Path, env: Any) -> None:
    path = tmp_path / "claimants.csv"
    path.write_text("Name\nAnn Lee\n")
    result = invoke(
        env, "allocate", path, "--out", tmp_path / "p.xlsx", "--config", tmp_path / "config.toml"
    )
    assert result.exit_code == 2
    assert "--slots" in result.output


def test_template_kind_allocate(tmp_path: Path, env: Any) -> None:
    out = tmp_path / "t.xlsx"
    result = invoke(
        env, "template", out, "--kind", "allocate", "--config", tmp_path / "config.toml"
    )
    assert result.exit_code == 0, result.output
    assert load_workbook(out).sheetnames[:2] == ["Claimants", "Slots"]


def _csv(value: Any) -> str:
    from batch_scheduler.demo.sample_files import _csv_cell

    return _csv_cell(value)
