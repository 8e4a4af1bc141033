"""Welsh as it is written in sheets: the headers of every field, yes/no answers, dropdown
values and sheet names, which the reader and the validator accept in either language mode
(columns/fields.py, validate/values.py, intake/xlsx.py), kept apart from fields.py so each
language's words are in one place.

Headers are matched after columns.fold_label, which keeps accents ("Ffôn" and "Ffon" fold
differently), so `spellings` adds each header without its accents too: people type Welsh
without the circumflex as often as with it. docs/glossary.md says why each word was chosen;
tests/i18n/test_welsh_input.py checks that no Welsh spelling folds onto an English one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class WelshHeader:
    header: str  # the Welsh template's header
    aliases: tuple[str, ...] = ()


_H = WelshHeader

_BOOK: dict[str, WelshHeader] = {
    "reference": _H(
        "Cyfeirnod",
        ("Cyf", "Cyfeirnod archebu", "Cyfeirnod yr archeb", "Cyfeirnod yr apwyntiad"),
    ),
    "appointment_at": _H(
        "Apwyntiad",
        ("Dyddiad ac amser", "Dyddiad ac amser yr apwyntiad", "Slot amser", "Dechrau", "Pryd"),
    ),
    "appointment_date": _H("Dyddiad yr apwyntiad", ("Dyddiad", "Dyddiad apwyntiad")),
    "appointment_time": _H("Amser yr apwyntiad", ("Amser", "Amser apwyntiad", "Amser dechrau")),
    "duration_in_minutes": _H(
        "Hyd (munudau)", ("Hyd", "Hyd mewn munudau", "Munudau", "Hyd yr apwyntiad")
    ),
    "claimant_name": _H(
        "Enw'r hawlydd", ("Enw", "Enw llawn", "Hawlydd", "Enw hawlydd", "Enw llawn yr hawlydd")
    ),
    "claimant_date_of_birth": _H("Dyddiad geni", ("Dyddiad geni'r hawlydd",)),
    "claimant_phone_number": _H(
        "Ffôn",
        ("Rhif ffôn", "Ffôn symudol", "Symudol", "Rhif ffôn symudol", "Teleffon", "Rhif teleffon"),
    ),
    "claimant_email": _H("E-bost", ("Cyfeiriad e-bost",)),
    "is_interpreter_needed": _H(
        "Angen cyfieithydd?", ("Cyfieithydd", "Oes angen cyfieithydd?", "Angen cyfieithu")
    ),
    "interpreter_language": _H(
        "Iaith y cyfieithydd", ("Iaith", "Iaith cyfieithydd", "Iaith cyfieithu")
    ),
    "department": _H("Adran", ("Rhif adran", "Rhif yr adran", "Enw'r adran", "Tîm")),
    "features_call_recording_enable": _H("Recordio", ("Recordio'r alwad", "Recordio galwad")),
    "features_breakout_room_enable": _H(
        "Ystafelloedd trafod", ("Ystafell drafod", "Ystafelloedd grŵp")
    ),
    "features_webcam_access_agent_enable": _H("Gwe-gamera'r asiant", ("Gwe-gamera asiant",)),
    "features_webcam_access_claimant_enable": _H("Gwe-gamera'r hawlydd", ("Gwe-gamera hawlydd",)),
    "features_webcam_background_blurring_enable": _H("Cymylu'r cefndir", ("Cymylu cefndir",)),
    "features_microphone_access_enable": _H(
        "Meicroffon", ("Meicroffonau", "Mynediad i'r meicroffon")
    ),
    "features_screen_sharing_enable": _H("Rhannu sgrin", ("Rhannu'r sgrin",)),
    "features_messages_chat_enable": _H("Sgwrsio", ("Sgwrs", "Negeseuon")),
    "features_participant_list_enable": _H(
        "Rhestr cyfranogwyr", ("Rhestr y cyfranogwyr", "Cyfranogwyr")
    ),
    "features_bandwidth": _H("Lled band", ("Lled band fideo", "Ansawdd fideo")),
    "use_custom_post_call_redirect": _H(
        "Ailgyfeirio ar ôl yr alwad?", ("Ailgyfeirio", "Ailgyfeirio ar ôl galwad")
    ),
    "custom_user_post_call_redirect_url": _H(
        "URL ailgyfeirio'r hawlydd", ("Ailgyfeirio'r hawlydd", "Dolen ailgyfeirio'r hawlydd")
    ),
    "custom_agent_post_call_redirect_url": _H(
        "URL ailgyfeirio'r asiant", ("Ailgyfeirio'r asiant", "Dolen ailgyfeirio'r asiant")
    ),
}

_CANCEL: dict[str, WelshHeader] = {
    "appointment_id": _H("ID yr apwyntiad", ("ID apwyntiad", "Apwyntiad", "Dynodydd yr apwyntiad")),
    "reference": _H("Cyfeirnod", ("Cyf", "Cyfeirnod archebu", "Cyfeirnod yr archeb")),
    "cancellation_reason": _H("Rheswm canslo", ("Rheswm", "Rheswm dros ganslo", "Rheswm y canslo")),
}

# A Claimants sheet: the book's columns but the slot's (the allocator picks it), and the
# claimant's window; a Slots sheet: when, how long, whose, which interpreter, how many.
_SLOT_CHOSEN = ("appointment_at", "appointment_date", "appointment_time", "duration_in_minutes")
_WINDOW: dict[str, WelshHeader] = {
    "earliest_date": _H(
        "Dyddiad cynharaf",
        ("Cynharaf", "Dim cyn", "Ar gael o", "O ddyddiad", "Dechrau'r cyfnod"),
    ),
    "latest_date": _H(
        "Dyddiad diweddaraf",
        (
            "Diweddaraf",
            "Dim ar ôl",
            "Ar gael tan",
            "Tan ddyddiad",
            "Diwedd y cyfnod",
            "Terfyn amser",
        ),
    ),
}
_CLAIMANTS: dict[str, WelshHeader] = {}
for _name, _header in _BOOK.items():  # in the order of fields.CLAIMANT_FIELDS
    if _name not in _SLOT_CHOSEN:
        _CLAIMANTS[_name] = _header
    if _name == "department":
        _CLAIMANTS |= _WINDOW
_SLOTS: dict[str, WelshHeader] = {
    "appointment_at": _H(
        "Dechrau",
        ("Dechrau'r slot", "Dyddiad ac amser dechrau", "Dyddiad ac amser", "Slot amser", "Pryd"),
    ),
    "appointment_date": _H("Dyddiad dechrau", ("Dyddiad", "Dyddiad y slot")),
    "appointment_time": _H("Amser dechrau", ("Amser", "Amser y slot")),
    "duration_in_minutes": _BOOK["duration_in_minutes"],
    "department": _BOOK["department"],
    "interpreter_language": _H(
        "Iaith y cyfieithydd",
        ("Iaith", "Cyfieithydd", "Iaith a gynigir", "Iaith y cyfieithydd a gynigir"),
    ),
    "capacity": _H("Capasiti", ("Lleoedd", "Nifer y lleoedd", "Uchafswm hawlwyr")),
}

HEADERS: dict[str, dict[str, WelshHeader]] = {
    "book": _BOOK,
    "cancel": _CANCEL,
    "claimants": _CLAIMANTS,
    "slots": _SLOTS,
}

# Our own result columns (results_columns.py) as a Welsh results workbook heads them.
RESULT_HEADERS: dict[str, str] = {
    "source_row": "Rhes wreiddiol",
    "outcome": "Canlyniad",
    "reference": "Cyfeirnod",
    "appointment_id": "ID yr apwyntiad",
    "status": "Statws",
    "appointment_at_utc": "Apwyntiad (UTC)",
    "error": "Gwall",
    "attempts": "Ymdrechion",
    "meeting_url": "Dolen y cyfarfod",
    "host_url": "Dolen y gwesteiwr",
}

# Our sheets found by name, by their English names: the two an allocation workbook must
# have, the results workbook's that `cancel` reads, and the plan's that `book` reads (the
# web page books a plan's Book sheet by name). The first Welsh name of each is the one our
# Welsh workbooks write (columns/words.py's sheet_titles; a test holds the two together).
SHEET_NAMES: dict[str, tuple[str, ...]] = {
    "Claimants": ("Hawlwyr",),
    "Slots": ("Slotiau",),
    "Results": ("Canlyniadau",),
    "Book": ("Trefnu",),
}


def without_accents(text: str) -> str:
    """ "Ffôn" -> "Ffon", "Tîm" -> "Tim", "Ystafelloedd grŵp" -> "Ystafelloedd grwp"."""
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not _is_mark(c)))


def _is_mark(character: str) -> bool:
    return unicodedata.category(character) == "Mn"


def written(kind: str) -> dict[str, tuple[str, ...]]:
    """Field -> the Welsh headers of a sheet of `kind` (book, cancel, claimants, slots) as
    written: the template's header first, then the aliases."""
    return {name: (welsh.header, *welsh.aliases) for name, welsh in HEADERS[kind].items()}


def with_plain(headers: tuple[str, ...]) -> tuple[str, ...]:
    """The headers, then each without its accents (once): "Ffôn" is typed "Ffon" too."""
    return tuple(dict.fromkeys((*headers, *map(without_accents, headers))))


def spellings(kind: str) -> dict[str, tuple[str, ...]]:
    """Field -> every Welsh header accepted for it in a sheet of `kind`: the template's
    header first, then aliases, each also unaccented."""
    return {name: with_plain(headers) for name, headers in written(kind).items()}


# ---------------------------------------------------------------- answers


# Welsh has no single word for yes or no: the answer echoes the verb of the question
# ("Oes angen cyfieithydd?" "Oes" / "Nac oes"). Every common pair is accepted, and "Nag",
# the spelling of "Nac" many people use.
YES_ANSWERS: tuple[str, ...] = (
    "ie", "ia", "oes", "ydy", "ydi", "ydyw", "ydw", "ydyn", "ydynt", "oedd", "do", "gwir",
)  # fmt: skip
NO_ANSWERS: tuple[str, ...] = (
    "na", "naddo", "nac oes", "nac ydy", "nac ydi", "nac ydyw", "nac ydw", "nac ydyn",
    "nac ydynt", "nac oedd", "nag oes", "nag ydy", "nag ydi", "nag ydw", "nag ydyn",
    "nag oedd", "gau", "anwir",
)  # fmt: skip
_SPACES = re.compile(r"\s+")


def fold_answer(text: str) -> str:
    """How an answer is compared: trimmed, lower case, one space between words, no accents
    ("Nac  Ŷdy" and "nac ydy" are the same answer)."""
    return without_accents(_SPACES.sub(" ", text.strip()).casefold())


ANSWERS: dict[str, bool] = {word: True for word in YES_ANSWERS} | {
    word: False for word in NO_ANSWERS
}


def welsh_answer(text: str) -> bool | None:
    """True for a Welsh yes, False for a Welsh no, None for anything else."""
    return ANSWERS.get(fold_answer(text))


# ---------------------------------------------------------------- dropdown values

# What a Welsh template's dropdowns offer, and the value each stands for.
DROPDOWNS: dict[str, dict[str, object]] = {
    "boolean": {"Ie": True, "Na": False},
    "bandwidth": {"isel": "low", "canolig": "medium", "uchel": "high"},
}
BANDWIDTHS: dict[str, str] = {
    welsh.casefold(): str(english) for welsh, english in DROPDOWNS["bandwidth"].items()
}
