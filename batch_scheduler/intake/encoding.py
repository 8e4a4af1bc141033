"""CSV bytes -> text: which encoding, and refusing bytes that are no CSV text at all.

UTF-8 with or without BOM, UTF-16 with BOM, or Windows-1252 (cp1252) from older Excel. A
file in another single-byte encoding (Greek, Cyrillic, ...) would read as cp1252 without
an error but with every letter wrong: it is refused, naming the likely encoding.
"""

from __future__ import annotations

import re

from batch_scheduler.errors import InputError
from batch_scheduler.i18n import N_, _
from batch_scheduler.intake.guard import save_again

_HEAD = 65_536  # bytes looked at to decide a file is text


def decode(name: str, data: bytes) -> tuple[str, str]:
    """The text and its encoding; InputError for bytes that are not text."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    head = data[:_HEAD]
    if head.startswith(b"%PDF"):
        raise save_again(N_("{name} is a PDF, not a spreadsheet."), name=name)
    controls = sum(head.count(bytes([b])) for b in (*range(0, 9), *range(14, 32)))
    if b"\x00" in head or controls > 2 + len(head) // 100:
        raise save_again(
            N_(
                "{name} is neither an Excel .xlsx file nor a CSV text file (its contents look "
                "like binary data)."
            ),
            name=name,
        )
    try:
        text, encoding = data.decode("utf-8-sig"), "utf-8-sig"
    except UnicodeDecodeError as exc:
        text, encoding = _not_utf8(name, data, exc.start), "cp1252"
    _reject_markup(name, text)
    return text, encoding


_UTF8_LETTER = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _not_utf8(name: str, data: bytes, bad: int) -> str:
    """Text that is not UTF-8: Windows-1252 (older Excel) if all of it is, else InputError.

    A file with UTF-8 letters (é as two bytes) AND bytes that are not UTF-8 mixes two
    encodings, usually text pasted from an older program. It is refused, naming the first
    line that is not UTF-8: decoding it either way, or line by line, would put wrong
    letters in names that are sent and booked, and a re-save fixes it in a minute.
    """
    line = data.count(b"\n", 0, bad) + 1
    if _UTF8_LETTER.search(data):
        raise InputError(
            _(
                "{name} mixes two text encodings: it is UTF-8, but line {line} is not (perhaps "
                "text pasted from an older program), so some letters would come out wrong. "
                'Open it in Excel and save it as "CSV UTF-8 (Comma delimited)", or retype the '
                "accented letters on line {line}, then try again."
            ).format(name=name, line=line)
        )
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise save_again(
            N_(
                "{name} is not a CSV text file in UTF-8 or Windows-1252 (line {line} holds "
                "bytes that are neither)."
            ),
            name=name,
            line=line,
        ) from None
    _check_cp1252_reading(name, data)
    return text


# ---------------------------------------------------------------- another single-byte encoding
# Windows-1252 decodes almost any byte, so a Greek (Windows-1253) or Cyrillic file reads
# "fine" as garbled Latin letters: "Γιώργος" becomes "Ãéþñãïò". Real names in Windows-1252
# have an accented letter here and there (Siân, Zoë, Renée, Muñoz); words made mostly of
# accented letters are the mark of another encoding. Only lines holding bytes over 127 are
# looked at, at most _SAMPLE bytes of them, so a 100,000-row file costs a few milliseconds.

_HIGH = re.compile(rb"[\x80-\xff]")
_SAMPLE = 32_768
_WORD = re.compile(r"[^\W\d_]+")
# Single-byte code pages of other scripts, and what to call them (Latin ones, such as
# Windows-1250, mostly read as plausible Latin letters and are not told apart here).
_OTHER_SCRIPTS = {  # translated when shown
    "cp1253": N_("Greek (Windows-1253)"),
    "iso8859_7": N_("Greek (ISO-8859-7)"),
    "cp1251": N_("Cyrillic (Windows-1251)"),
    "koi8_r": N_("Cyrillic (KOI8-R)"),
    "cp866": N_("Cyrillic (DOS 866)"),
    "cp1255": N_("Hebrew (Windows-1255)"),
    "cp1256": N_("Arabic (Windows-1256)"),
    "cp874": N_("Thai (Windows-874)"),
}


def _check_cp1252_reading(name: str, data: bytes) -> None:
    """InputError when the Windows-1252 reading of `data` looks like another encoding."""
    sample = _high_lines(data)
    _check_central_european(name, data, sample)
    odd, accented, first_odd = 0, 0, None
    for offset, raw in sample:
        for word in _WORD.findall(raw.decode("cp1252")):
            high = sum(1 for char in word if char > "\x7f")
            if not high:
                continue
            accented += 1
            if high >= 2 and 2 * high > len(word):
                odd += 1
                first_odd = offset if first_odd is None else first_odd
    if first_odd is None or odd < 2 or 2 * odd < accented:
        return
    likely = _likely_encoding(b"\n".join(raw for _, raw in sample))
    raise _misread(name, data.count(b"\n", 0, first_odd) + 1, likely)


def _misread(name: str, line: int, likely: str) -> InputError:
    return InputError(
        _(
            "{name} is not in UTF-8, and read as Windows-1252 (older Excel) its letters come "
            "out wrong (from line {line}): it looks like {likely}. Open it in Excel and save it "
            'as "CSV UTF-8 (Comma delimited)", then try again.'
        ).format(name=name, line=line, likely=likely)
    )


# Windows-1250 (Polish, Czech, Hungarian...) shares most letters with Windows-1252, but
# where it has ł, ą, ż, Ł, Ż, Ą Windows-1252 has symbols: "Paweł Wiśniewski" reads as
# "Pawe³ Wiœniewski", "Łukasz" as "£ukasz". A symbol glued to letters like that is no
# Windows-1252 text (a price is "£5", a Spanish question "¿Qué?"). Czech alone (ř as ø,
# č as è) reads as plausible letters and is not told apart.
CENTRAL_EUROPEAN = N_("Central European (Windows-1250)")  # translated when shown
_CENTRAL_EUROPEAN = re.compile(
    r"[^\W\d_][¹³¿¥¯¦¼¾£][^\W\d_]"  # inside a word: Ma³gorzata, Wo¿niak
    r"|[^\W\d_][¹³](?![^\W\d_])"  # at its end: Pawe³, s¹
    r"|(?<![^\W\d_])[£¯¥¦][a-zß-ÿ]"  # at its start, before a small letter: £ukasz, ¯aneta
)


def _check_central_european(name: str, data: bytes, sample: list[tuple[int, bytes]]) -> None:
    """InputError when letters of the Windows-1250 reading come out as symbols in two places
    or more."""
    found = [(offset, hit) for offset, raw in sample
             for hit in _CENTRAL_EUROPEAN.findall(raw.decode("cp1252", "replace"))]  # fmt: skip
    if len(found) < 2:
        return
    central = _("{encoding} text").format(encoding=_(CENTRAL_EUROPEAN))
    raise _misread(name, data.count(b"\n", 0, found[0][0]) + 1, central)


def _high_lines(data: bytes) -> list[tuple[int, bytes]]:
    """(offset, line) for the first lines holding a byte over 127, up to _SAMPLE bytes."""
    lines: list[tuple[int, bytes]] = []
    size = position = 0
    while size < _SAMPLE and (found := _HIGH.search(data, position)) is not None:
        start = data.rfind(b"\n", 0, found.start()) + 1
        end = data.find(b"\n", found.start())
        end = len(data) if end < 0 else end
        lines.append((start, data[start:end]))
        size += end - start
        position = end + 1
    return lines


def _likely_encoding(sample: bytes) -> str:
    """The other script's code page the sample most likely is in, by charset-normalizer."""
    from charset_normalizer import from_bytes  # imported here: only a doubtful file pays

    best = from_bytes(sample, cp_isolation=list(_OTHER_SCRIPTS)).best()
    named = _OTHER_SCRIPTS.get(best.encoding) if best else None
    if named is None:
        return _("text in another encoding")
    return _("{encoding} text").format(encoding=_(named))


def _reject_markup(name: str, text: str) -> None:
    start = text[:200].lstrip().lower()
    if start.startswith(("<!doctype html", "<html", "<table")):
        raise InputError(
            _(
                "{name} is a web page (HTML) with a spreadsheet's name, not a real workbook. "
                "Open it in Excel and save it as .xlsx (Excel Workbook) or .csv and try again."
            ).format(name=name)
        )
    if start.startswith("<?xml"):
        raise save_again(N_("{name} is an XML file, not an .xlsx or CSV file."), name=name)
