"""Write the sample sheets (book, cancel, allocate) and the config they need.

Dates are relative to a given `today`: slots from two days later, the one row deliberately
in the past three days before. `batch-scheduler demo` writes a fresh set for the real date.
The checked-in files in sample_data/ are made for SHIPPED_TODAY with their slots moved years
ahead (SHIPPED_SLOTS_FROM), so they show only their deliberate mistakes for years; a test
fails a year before their first slot passes. Phones are only Ofcom's drama numbers and
emails only example.org/.com: no real person can be contacted. A handful of rows carry the
mistakes ops really make (see MISTAKES and sample_data/README.md), so `validate` has
something to say.
Run: python sample_data/make_samples.py [FOLDER] [--today YYYY-MM-DD]
"""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime, time, timedelta
from pathlib import Path

from batch_scheduler.demo.sample_files import Cell, write_csv, write_sheets, write_xlsx

BOOK_HEADERS: tuple[str, ...] = (
    "Ref",
    "Claimant Name",
    "Date/Time",
    "Duration",
    "DOB",
    "Mobile",
    "Email address",
    "Interpreter?",
    "Language",
    "Department",
    "Recording",
    "Chat",
    "Bandwidth",
    "Notes",
)
CANCEL_HEADERS: tuple[str, ...] = ("Reference", "Reason")

# The names the samples' Department column uses; written beside them as CONFIG_NAME.
SAMPLE_DEPARTMENTS: dict[str, int] = {"Benefits": 1, "Housing": 2, "Employment support": 3}
CONFIG_NAME = "sample-config.toml"
# The checked-in samples: made "on" SHIPPED_TODAY (the deliberate past row is three days
# before it), slots from SHIPPED_SLOTS_FROM (a Monday), years ahead so they do not go stale.
SHIPPED_TODAY = date(2026, 12, 6)
SHIPPED_SLOTS_FROM = date(2032, 1, 5)

# Reference of each row that carries a deliberate mistake, and what it is.
MISTAKES: dict[str, str] = {
    "SQ-1007": "phone typed as a number: Excel dropped the leading 0 (2920180123)",
    "SQ-1010": "not a valid phone number (07700 900170: a mobile range no phone uses)",
    "SQ-1012": "phone shown by Excel in scientific notation (4.41134960123E+11)",
    "SQ-1016": "invalid email address",
    "SQ-1020": "interpreter needed but no language given",
    "SQ-1024": "appointment three days in the past",
    "SQ-1026": "reference used twice (the row after SQ-1026 reuses it)",
    "SQ-1030": "bad yes/no value (maybe) for Recording",
    "SQ-1035": "time that does not exist (clocks go forward at 01:00 that night)",
}

_PEOPLE: tuple[tuple[str, str], ...] = (
    ("Siân Llewelyn", "sian.llewelyn"),
    ("Dafydd Jones", "dafydd.jones"),
    ("Gwenllian Prys", "gwenllian.prys"),
    ("Rhys ap Gruffudd", "rhys.apgruffudd"),
    ("Ffion Hughes", "ffion.hughes"),
    ("Llinos ap Iorwerth", "llinos.apiorwerth"),
    ("Siobhán O'Connor", "siobhan.oconnor"),
    ("Mark Smith-Jones", "mark.smith-jones"),
    ("Tomasz Nowak", "tomasz.nowak"),
    ("Amira Haddad", "amira.haddad"),
    ("Iolo Morgan", "iolo.morgan"),
    ("Catrin Wyn Davies", "catrin.davies"),
    ("Zofia Kowalska", "zofia.kowalska"),
    ("Yusuf Ali", "yusuf.ali"),
    ("Megan Roberts", "megan.roberts"),
    ("Oluwaseun Adeyemi", "seun.adeyemi"),
    ("Priya Patel", "priya.patel"),
    ("Gareth Evans", "gareth.evans"),
    ("Angharad Thomas", "angharad.thomas"),
    ("Bethan Lloyd", "bethan.lloyd"),
    ("Owain Glyn", "owain.glyn"),
    ("Nia Pritchard", "nia.pritchard"),
    ("Aled Rees", "aled.rees"),
    ("Eleri Griffiths", "eleri.griffiths"),
    ("Jan Wiśniewski", "jan.wisniewski"),
    ("Fatima Rahman", "fatima.rahman"),
    ("Ceri Powell", "ceri.powell"),
    ("Hywel Bowen", "hywel.bowen"),
    ("Mari Jenkins", "mari.jenkins"),
    ("Connor McCarthy", "connor.mccarthy"),
    ("Rhiannon Price", "rhiannon.price"),
    ("Emrys Parry", "emrys.parry"),
    ("Lowri Vaughan", "lowri.vaughan"),
    ("Dewi Sant-Williams", "dewi.santwilliams"),
    ("Heledd Owen", "heledd.owen"),
    ("Karim Mansour", "karim.mansour"),
    ("Tegan Harris", "tegan.harris"),
    ("Sioned Edwards", "sioned.edwards"),
    ("Osian Ellis", "osian.ellis"),
    ("Anna Kowalczyk", "anna.kowalczyk"),
)
# Ofcom's numbers for drama (Cardiff, London, Leeds), written the ways people write phones.
_PHONES = (
    "029 2018 0{n:03d}",
    "+44 29 2018 0{n:03d}",
    "02920180{n:03d}",
    "020 7946 0{n:03d}",
    "0113 496 0{n:03d}",
    "(020) 7946 0{n:03d}",
    "+44 (0)113 496 0{n:03d}",
    "",
)
_DEPARTMENTS = ("Benefits", "Housing", "Employment support", "2", "")
_LANGUAGES = ("Welsh", "Polish", "Arabic", "BSL")
_NOTES = ("", "Prefers afternoons", "Called to confirm, happy with video", "", "Carer will join")


def weekday_slots(today: date, first: int = 2, last: int = 20) -> list[datetime]:
    """Every 30-minute slot 09:00-16:30 on weekdays `first`..`last` days after `today`."""
    slots: list[datetime] = []
    for offset in range(first, last + 1):
        day = today + timedelta(days=offset)
        if day.weekday() < 5:
            start = datetime.combine(day, time(9, 0))
            slots.extend(start + timedelta(minutes=30 * k) for k in range(16))
    return slots


def spring_forward_gap(day: date) -> datetime:
    """01:30 on the next last Sunday of March after `day`: a UK time that does not exist
    (clocks go from 01:00 to 02:00), and always less than a year ahead."""
    for year in (day.year, day.year + 1):
        march_end = date(year, 3, 31)
        sunday = march_end - timedelta(days=(march_end.weekday() + 1) % 7)
        if sunday > day:
            break
    return datetime.combine(sunday, time(1, 30))


def _good_row(i: int, slot: datetime) -> dict[str, Cell]:
    name, email = _PEOPLE[i % len(_PEOPLE)]
    interpreter = i % 6 == 3
    return {
        "Ref": f"SQ-{1000 + i}" if i % 9 != 4 else None,
        "Claimant Name": name,
        "Date/Time": slot.strftime("%Y-%m-%dT%H:%M") if i % 13 == 5 else slot,
        "Duration": (30, 45, 60, None)[i % 4],
        "DOB": date(1950 + (i * 7) % 50, 1 + i % 12, 1 + (i * 5) % 28) if i % 3 else None,
        "Mobile": _PHONES[i % len(_PHONES)].format(n=100 + i * 7),
        "Email address": f"{email}@{'example.org' if i % 2 else 'example.com'}" if i % 5 else None,
        "Interpreter?": "Yes" if interpreter else ("No" if i % 2 else None),
        "Language": _LANGUAGES[(i // 6) % len(_LANGUAGES)] if interpreter else None,
        "Department": _DEPARTMENTS[i % len(_DEPARTMENTS)] or None,
        "Recording": ("Yes", "No", None)[i % 3],
        "Chat": (True, False, "y", "N")[i % 4],
        "Bandwidth": ("medium", "High", "low", None)[i % 4],
        "Notes": _NOTES[i % len(_NOTES)] or None,
    }


def first_slot_day(today: date, slots_from: date | None = None) -> date:
    """The first day slots may fall on: `slots_from`, or two days after `today`."""
    return slots_from or today + timedelta(days=2)


def make_book_rows(today: date, slots_from: date | None = None) -> list[dict[str, Cell]]:
    """About 40 book rows keyed by BOOK_HEADERS; the rows in MISTAKES are wrong on purpose.

    Slots fall on weekdays in the 19 days from `first_slot_day(today, slots_from)`."""
    start = first_slot_day(today, slots_from)
    slots = weekday_slots(start, first=0, last=18)
    rows = [_good_row(i, slots[(i * 11) % len(slots)]) for i in range(40)]
    by_ref = {row["Ref"]: row for row in rows}
    by_ref["SQ-1007"]["Mobile"] = 2920180123
    by_ref["SQ-1010"]["Mobile"] = "07700 900170"
    by_ref["SQ-1012"]["Mobile"] = 441134960123.0
    by_ref["SQ-1016"]["Email address"] = "ffion.hughes@@example.org"
    by_ref["SQ-1020"].update({"Interpreter?": "Yes", "Language": None})
    by_ref["SQ-1024"]["Date/Time"] = datetime.combine(today - timedelta(days=3), time(10, 0))
    by_ref["SQ-1027"]["Ref"] = "SQ-1026"
    by_ref["SQ-1030"]["Recording"] = "maybe"
    by_ref["SQ-1035"]["Date/Time"] = spring_forward_gap(start)
    return rows


def make_cancel_rows(today: date, slots_from: date | None = None) -> list[dict[str, Cell]]:
    """Cancellations of a few booked references (one unknown, one without a reason)."""
    refs = [row["Ref"] for row in make_book_rows(today, slots_from) if row["Ref"]][:5]
    reasons = ("Claimant asked to rebook", "Duplicate booking", None, "Claimant unwell")
    rows: list[dict[str, Cell]] = [
        {"Reference": ref, "Reason": reasons[i % len(reasons)]} for i, ref in enumerate(refs)
    ]
    rows.append({"Reference": "SQ-9999", "Reason": "Booked in error"})
    return rows


# ---------------------------------------------------------------- allocate (Claimants + Slots)

CLAIMANT_HEADERS: tuple[str, ...] = (
    "Ref", "Claimant Name", "DOB", "Mobile", "Email address", "Interpreter?", "Language",
    "Department", "Earliest", "Latest", "Notes",
)  # fmt: skip
SLOT_HEADERS: tuple[str, ...] = (
    "Slot start", "Duration", "Department", "Interpreter language", "Capacity",
)  # fmt: skip
# Claimant name -> what the sample shows for them with the first-fit strategy.
ALLOCATE_STORY: dict[str, str] = {
    "Mari Jenkins": "needs Polish: the only Polish slot went to a Housing claimant served "
    "earlier (all-slots-full); --strategy interpreter-first places her",
    "Iolo Morgan": "needs Arabic: no-language-slot",
    "Megan Roberts": "Employment support has no slots: no-department-slot",
    "Gareth Evans": "available only on a Saturday: no-slot-in-window",
    "Bethan Lloyd": "invalid email: invalid-row",
    "Nia Pritchard": "interpreter needed, no language: invalid-row",
    "Eleri Griffiths": "listed twice (row 26 repeats row 25): duplicate-claimant",
    "Ceri Powell": "fifth Housing claimant for four Housing places: all-slots-full",
}


def sample_week(today: date, slots_from: date | None = None) -> list[date]:
    """The five working days the allocate sample's slots fall on, from `first_slot_day`."""
    days: list[date] = []
    day = first_slot_day(today, slots_from)
    while len(days) < 5:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def make_slot_rows(today: date, slots_from: date | None = None) -> list[dict[str, Cell]]:
    """A week of free slots: Benefits (Welsh twice), Housing (Polish once); one bad capacity."""
    rows: list[dict[str, Cell]] = []
    week = sample_week(today, slots_from)
    for n, day in enumerate(week):
        for at, department, capacity in ((10, "Benefits", 2), (11, "Benefits", 1),
                                         (14, "Benefits", 1)):  # fmt: skip
            start = datetime.combine(day, time(at, 0))
            rows.append({"Slot start": start, "Duration": 45, "Department": department,
                         "Capacity": capacity})  # fmt: skip
        if n in (0, 3):
            rows.append({"Slot start": datetime.combine(day, time(12, 0)), "Duration": 60,
                         "Department": "Benefits", "Interpreter language": "Welsh"})  # fmt: skip
        if n in (0, 2, 4):
            rows.append({"Slot start": datetime.combine(day, time(10, 30)), "Duration": 30,
                         "Department": "Housing"})  # fmt: skip
        if n == 1:
            rows.append({"Slot start": datetime.combine(day, time(15, 0)), "Duration": 30,
                         "Department": "Housing", "Interpreter language": "polish"})  # fmt: skip
    rows.append({"Slot start": datetime.combine(week[4], time(16, 0)),
                 "Duration": 30, "Department": "Benefits", "Capacity": "two"})  # fmt: skip
    return rows


def make_claimant_rows(today: date, slots_from: date | None = None) -> list[dict[str, Cell]]:
    """30 claimants for the sample week; ALLOCATE_STORY says what happens to the special ones."""
    rows: list[dict[str, Cell]] = []
    for i in range(30):
        name, email = _PEOPLE[i]
        rows.append(
            {
                "Ref": f"AL-{2000 + i}" if i % 5 else None,
                "Claimant Name": name,
                "DOB": date(1950 + (i * 7) % 50, 1 + i % 12, 1 + (i * 5) % 28),
                "Mobile": f"0113 496 0{300 + i:03d}",
                "Email address": f"{email}@example.org",
                "Interpreter?": "No" if i % 2 else None,
                "Department": "Housing" if i % 6 == 0 else "Benefits",
                "Notes": _NOTES[i % len(_NOTES)] or None,
            }
        )
    week = sample_week(today, slots_from)
    saturday = week[0] + timedelta(days=5 - week[0].weekday())
    by_name = {row["Claimant Name"]: row for row in rows}
    by_name["Gwenllian Prys"].update({"Interpreter?": "Yes", "Language": "Welsh"})
    by_name["Mark Smith-Jones"].update(
        {"Interpreter?": "yes", "Language": "Welsh", "Earliest": week[3], "Latest": week[4]}
    )
    by_name["Mari Jenkins"].update({"Interpreter?": "Y", "Language": "Polish",
                                    "Department": "Housing"})  # fmt: skip
    by_name["Iolo Morgan"].update({"Interpreter?": "Yes", "Language": "Arabic"})
    by_name["Megan Roberts"]["Department"] = "Employment support"
    by_name["Gareth Evans"].update({"Earliest": saturday, "Latest": saturday})
    by_name["Bethan Lloyd"]["Email address"] = "bethan.lloyd@@example.org"
    by_name["Nia Pritchard"].update({"Interpreter?": "Yes", "Language": None})
    by_name["Eleri Griffiths"]["Ref"] = None
    by_name["Jan Wiśniewski"].update(
        {key: by_name["Eleri Griffiths"][key] for key in ("Ref", "Claimant Name", "DOB")}
    )
    by_name["Ceri Powell"]["Department"] = "Housing"
    return rows


def write_allocate_sample(path: Path, today: date, slots_from: date | None = None) -> Path:
    """One workbook with a Claimants sheet and a Slots sheet, for `allocate`."""
    return write_sheets(
        path,
        {
            "Claimants": (CLAIMANT_HEADERS, make_claimant_rows(today, slots_from)),
            "Slots": (SLOT_HEADERS, make_slot_rows(today, slots_from)),
        },
    )


def write_config(path: Path) -> Path:
    """The config the samples need: the department names their sheets use."""
    lines = [
        "# The settings the sample sheets beside this file need: the department names their",
        "# Department column uses. Give it to any command: --config sample-config.toml",
        "",
        "[departments]",
        *(f"{json.dumps(name)} = {number}" for name, number in SAMPLE_DEPARTMENTS.items()),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_samples(folder: Path, today: date, slots_from: date | None = None) -> dict[str, Path]:
    """Write book.xlsx, book.csv, cancel.csv, allocate_sample.xlsx and sample-config.toml
    into `folder`, dated from `today` (slots from `slots_from` when given); return their paths.
    """
    folder.mkdir(parents=True, exist_ok=True)
    book = make_book_rows(today, slots_from)
    cancel = make_cancel_rows(today, slots_from)
    return {
        "book.xlsx": write_xlsx(folder / "book.xlsx", BOOK_HEADERS, book),
        "book.csv": write_csv(folder / "book.csv", BOOK_HEADERS, book),
        "cancel.csv": write_csv(folder / "cancel.csv", CANCEL_HEADERS, cancel),
        "allocate_sample.xlsx": write_allocate_sample(
            folder / "allocate_sample.xlsx", today, slots_from
        ),
        CONFIG_NAME: write_config(folder / CONFIG_NAME),
    }


def write_shipped_samples(folder: Path) -> dict[str, Path]:
    """The checked-in set: the same bytes on every run (see SHIPPED_TODAY)."""
    return write_samples(folder, SHIPPED_TODAY, SHIPPED_SLOTS_FROM)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, nargs="?", default=Path("sample_data"))
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        help="date a fresh set from this day; without it: the checked-in set",
    )
    args = parser.parse_args()
    if args.today:
        write_samples(args.folder, args.today)
    else:
        write_shipped_samples(args.folder)


if __name__ == "__main__":
    main()
