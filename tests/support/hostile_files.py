"""Builders for hostile and broken input files, made at test time (no binaries committed).

Each builder writes one file into a folder and returns its path. They use openpyxl or
xlsxwriter for odd-but-real workbooks, and raw bytes for what no library would write: an
old Office (CFB) container, a zip bomb whose headers lie, a truncated download.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

from tests.support.sheets import book_row, write_xlsx

GIB = 1 << 30


def good_xlsx(folder: Path, name: str = "claimants.xlsx", count: int = 3) -> Path:
    return write_xlsx(folder / name, [book_row(i) for i in range(count)])


# ---------------------------------------------------------------- old Office (CFB) containers


def cfb_file(folder: Path, name: str, streams: Sequence[str]) -> Path:
    """A minimal valid Compound File (v3, 512-byte sectors): what .xls and encrypted .xlsx are.

    Sector 0 is the FAT, sector 1 the directory, then each stream in 8 sectors (4096 bytes,
    the mini-stream cutoff, so no mini FAT is needed). Streams are named like Excel's:
    "Workbook" for a 97-2003 .xls, "EncryptionInfo" + "EncryptedPackage" for an xlsx
    protected with a password.
    """
    end, free, fat_sector, nostream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    per_stream = 8
    fat = [fat_sector, end]
    for index in range(len(streams)):
        first = 2 + index * per_stream
        fat += [*range(first + 1, first + per_stream), end]
    fat += [free] * (128 - len(fat))
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16)
    header += struct.pack("<HHHHH6xIIIIIIIII", 0x3E, 3, 0xFFFE, 9, 6, 0, 1, 1, 0, 4096, end, 0,
                          end, 0)  # fmt: skip
    header += struct.pack("<I", 0) + struct.pack("<I", free) * 108

    def entry(name: str, kind: int, right: int, child: int, start: int, size: int) -> bytes:
        raw = (name + "\0").encode("utf-16-le")
        return (
            raw.ljust(64, b"\0")
            + struct.pack("<HBB", len(raw) if name else 0, kind, 1)
            + struct.pack("<III", nostream, right, child)
            + bytes(16 + 4 + 8 + 8)
            + struct.pack("<IQ", start, size)
        )

    entries = [entry("Root Entry", 5, nostream, 1, end, 0)]
    for index, stream in enumerate(streams):
        right = index + 2 if index + 1 < len(streams) else nostream
        entries.append(entry(stream, 2, right, nostream, 2 + index * per_stream, 4096))
    while len(entries) % 4:
        entries.append(entry("", 0, nostream, nostream, 0, 0))
    assert len(entries) == 4, "one directory sector"
    body = b"".join(struct.pack("<I", v) for v in fat) + b"".join(entries)
    body += b"".join(bytes([65 + i]) * 4096 for i in range(len(streams)))
    path = folder / name
    path.write_bytes(header + body)
    return path


def old_xls(folder: Path, name: str = "claimants.xls") -> Path:
    return cfb_file(folder, name, ["Workbook"])


def password_xlsx(folder: Path, name: str = "claimants.xlsx") -> Path:
    return cfb_file(folder, name, ["EncryptionInfo", "EncryptedPackage"])


# ---------------------------------------------------------------- broken zips


def truncated_xlsx(folder: Path, name: str = "claimants.xlsx") -> Path:
    """A real workbook cut off two thirds of the way: an interrupted download or copy."""
    data = good_xlsx(folder, "whole.xlsx", 20).read_bytes()
    path = folder / name
    path.write_bytes(data[: len(data) * 2 // 3])
    return path


def corrupt_member_xlsx(folder: Path, name: str = "claimants.xlsx") -> Path:
    """A real workbook whose sheet's compressed bytes were damaged; the zip index is intact."""
    data = bytearray(good_xlsx(folder, "whole.xlsx", 20).read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    start = _data_start(bytes(data), info)
    for i in range(start + 20, start + info.compress_size - 20, 7):
        data[i] ^= 0x5A
    path = folder / name
    path.write_bytes(bytes(data))
    return path


def _data_start(data: bytes, info: zipfile.ZipInfo) -> int:
    names, extra = struct.unpack_from("<HH", data, info.header_offset + 26)
    return info.header_offset + 30 + names + extra


# ---------------------------------------------------------------- zip bombs

_SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_SHEET_TAIL = b"</sheetData></worksheet>"
_ROW = b'<row><c t="inlineStr"><is><t>Claimant</t></is></c><c><v>1</v></c></row>'


def _deflate_parts(head: bytes, repeat: bytes, times: int, tail: bytes) -> bytes:
    """Raw deflate of head + repeat*times + tail, made without ever holding the big text.

    After a full flush a compressor starts afresh, so one compressed copy of `repeat` can be
    repeated: the result is a valid stream that inflates to the whole text.
    """

    def part(text: bytes, mode: int) -> bytes:
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        return packer.compress(text) + packer.flush(mode)

    return (
        part(head, zlib.Z_FULL_FLUSH)
        + part(repeat, zlib.Z_FULL_FLUSH) * times
        + part(tail, zlib.Z_FINISH)
    )


def zip_bomb_xlsx(
    folder: Path, name: str = "claimants.xlsx", *, inflates_to: int = 3 * GIB, lie: bool = False
) -> Path:
    """An xlsx-shaped zip (~3 MB) whose sheet inflates to `inflates_to` bytes: 10,000 rows,
    then gigabytes of spaces (the cheapest text to pack; a parser must still wade through it).

    With `lie`, the zip's headers claim the sheet is 2 KB (with the CRC of its first 2 KB):
    a reader that trusts the declared sizes lets it through, and a library that inflates
    until the stream ends would then unpack gigabytes.
    """
    head = _SHEET_HEAD + _ROW * 10_000
    filler = b" " * 1_048_576  # deflates ~1000:1, so 3 GiB fit in ~3 MB
    times = max(1, (inflates_to - len(head) - len(_SHEET_TAIL)) // len(filler))
    raw = _deflate_parts(head, filler, times, _SHEET_TAIL)
    real_size = len(head) + len(filler) * times + len(_SHEET_TAIL)
    if lie:
        prefix = head[:2048]
        size, crc = len(prefix), zlib.crc32(prefix)
    else:
        size, crc = min(real_size, 0xFFFFFFFF), 0  # honest size (CRC never reached)
    members = [(m, zlib.crc32(text), len(text), _raw_deflate(text)) for m, text in _parts()]
    members.append(("xl/worksheets/sheet1.xml", crc, size, raw))
    path = folder / name
    path.write_bytes(_zip_bytes(members))
    return path


def _raw_deflate(text: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(text) + packer.flush()


def _parts() -> list[tuple[str, bytes]]:
    """Every member of a one-sheet workbook except the sheet itself."""
    ns = b'xmlns="http://schemas.openxmlformats.org/package/2006/'
    rel = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    return [
        (
            "[Content_Types].xml",
            b'<?xml version="1.0"?><Types ' + ns + b'content-types">'
            b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            b'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            b'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
            b'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            b'spreadsheetml.worksheet+xml"/></Types>',
        ),
        (
            "_rels/.rels",
            b'<?xml version="1.0"?><Relationships ' + ns + b'relationships">'
            b'<Relationship Id="rId1" Type="' + rel + b'/officeDocument" '
            b'Target="xl/workbook.xml"/></Relationships>',
        ),
        (
            "xl/workbook.xml",
            b'<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/'
            b'spreadsheetml/2006/main" xmlns:r="' + rel + b'"><sheets><sheet name="Sheet1" '
            b'sheetId="1" r:id="rId1"/></sheets></workbook>',
        ),
        (
            "xl/_rels/workbook.xml.rels",
            b'<?xml version="1.0"?><Relationships ' + ns + b'relationships">'
            b'<Relationship Id="rId1" Type="' + rel + b'/worksheet" '
            b'Target="worksheets/sheet1.xml"/></Relationships>',
        ),
    ]


def _zip_bytes(members: Sequence[tuple[str, int, int, bytes]]) -> bytes:
    """A zip of already-deflated members, with exactly the sizes and CRCs given."""
    body, directory = b"", b""
    for name, crc, size, raw in members:
        encoded = name.encode()
        fields = struct.pack("<HHHHHIII", 20, 0, 8, 0, 0x21, crc, len(raw), size)
        directory += (
            b"PK\x01\x02" + struct.pack("<H", 20) + fields
            + struct.pack("<HHHHHII", len(encoded), 0, 0, 0, 0, 0, len(body)) + encoded
        )  # fmt: skip
        body += b"PK\x03\x04" + fields + struct.pack("<HH", len(encoded), 0) + encoded + raw
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(members), len(members),
                      len(directory), len(body), 0)  # fmt: skip
    return body + directory + end


# ---------------------------------------------------------------- other wrong files


def ods_file(folder: Path, name: str = "claimants.ods") -> Path:
    """A minimal OpenDocument spreadsheet: a zip whose first member is its mimetype."""
    path = folder / name
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
        archive.writestr("META-INF/manifest.xml", "<manifest:manifest/>")
    return path


def docx_named_xlsx(folder: Path, name: str = "claimants.xlsx") -> Path:
    path = folder / name
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return path


def garbage_csv(folder: Path, name: str = "claimants.csv") -> Path:
    """Bytes that are no text at all (seeded, so the same every run)."""
    data = bytes((i * 7919 + 13) % 256 for i in range(20_000))
    path = folder / name
    path.write_bytes(data)
    return path


def csv_file(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


# ---------------------------------------------------------------- valid packages, odd layout


def rewritten_xlsx(
    source: Path,
    path: Path,
    rename: Callable[[str], str] = lambda member: member,
    edit: Callable[[str, bytes], bytes] = lambda member, data: data,
) -> Path:
    """A copy of a real xlsx with its members renamed and edited (names as in `source`)."""
    with (
        zipfile.ZipFile(source) as original,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out,
    ):
        for member in original.namelist():
            out.writestr(rename(member), edit(member, original.read(member)))
    return path


def workbook_in_another_folder(source: Path, path: Path) -> Path:
    """Every xl/ part moved to excel/: the package's _rels/.rels is the way to the workbook."""

    def edit(member: str, data: bytes) -> bytes:
        if member in ("_rels/.rels", "[Content_Types].xml") or member.endswith(".rels"):
            return data.replace(b'"xl/', b'"excel/').replace(b'"/xl/', b'"/excel/')
        return data

    return rewritten_xlsx(source, path, lambda m: re.sub(r"^xl/", "excel/", m), edit)


def backslash_names(source: Path, path: Path) -> Path:
    """Zip entries named with '\\' between folders, as some Windows zip tools write them."""
    return rewritten_xlsx(source, path, lambda member: member.replace("/", "\\"))


def prefixed_sheets(source: Path, path: Path, *, declared: bool = True) -> Path:
    """Every worksheet written with a namespace prefix (<x:row>, <x:c>), as some generators
    do; with `declared` False the prefix is never bound (not XML, though calamine reads it)."""
    main = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'

    def edit(member: str, data: bytes) -> bytes:
        if not member.startswith("xl/worksheets/sheet"):
            return data
        data = data.replace(main, main.replace(b"xmlns=", b"xmlns:x=") if declared else b"")
        return re.sub(rb"<(/?)([A-Za-z]+)([\s>/])", rb"<\1x:\2\3", data)

    return rewritten_xlsx(source, path, edit=edit)
