"""Is this zip a whole, safe .xlsx? Checked before any workbook parser reads a byte of it.

Zip bombs: a member may unpack to at most _MAX_RATIO times its packed size (real sheets
pack ~11:1; deflate's ceiling is ~1032:1) unless it stays under _RATIO_GRACE; the whole
workbook to at most _XML_PER_ROW bytes per row of max_rows (a real 20-column sheet needs
~1,000). The sizes a zip declares are checked first, then every member is inflated in
1 MB steps and stopped as soon as it passes what it declared: headers can lie.
"""

from __future__ import annotations

import io
import posixpath
import struct
import zipfile
import zlib
from collections.abc import Sequence

from defusedxml import DefusedXmlException, ElementTree

from batch_scheduler.config import IntakeSettings
from batch_scheduler.errors import InputError
from batch_scheduler.i18n import N_, _

SAVE_AS = N_("Save it as .xlsx (Excel Workbook) or .csv and try again.")
ZIP_MAGIC = b"PK\x03\x04"
_MAX_RATIO = 100
_RATIO_GRACE = 1 << 20
_XML_PER_ROW = 5_000
_STEP = 1 << 20


def mb(size: int) -> str:
    return f"{size / 1_048_576:,.1f} MB"


def save_again(problem: str, **values: object) -> InputError:
    """A file we cannot read: `problem` (marked with N_, with {placeholders}) in the current
    language, then the advice to save it again as .xlsx or .csv."""
    return InputError(f"{_(problem).format(**values)} {_(SAVE_AS)}")


def check_xlsx_zip(name: str, data: bytes, settings: IntakeSettings) -> None:
    """A zip must be an xlsx (not .ods/.xlsb/.docx), whole, and no zip bomb.

    Runs before calamine sees a byte, so calamine only ever reads members whose sizes and
    CRCs we have checked by inflating them ourselves.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            _check_declared_sizes(name, len(data), infos, settings)
            for info in infos:
                _inflate_checked(name, data, info)
            parts = Parts(archive)
            workbook = parts.workbook()
            mimetype = b""
            if parts.member("mimetype"):
                mimetype = parts.read("mimetype")[:80]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        raise InputError(_damaged(name)) from None
    except DefusedXmlException:
        raise save_again(UNSAFE_XML, name=name) from None
    if workbook is None:
        if b"opendocument.spreadsheet" in mimetype:
            looks = _("an OpenDocument spreadsheet (.ods)")
        elif parts.member("xl/workbook.bin"):
            looks = _("an Excel binary workbook (.xlsb)")
        else:
            looks = _("a zip file that holds no workbook, or one that is damaged")
        raise save_again(
            N_("{name} is not an Excel .xlsx file (it looks like {looks})."), name=name, looks=looks
        )


UNSAFE_XML = N_("{name} contains unsafe XML (entity declarations).")


class Parts:
    """An xlsx's parts by name, found as Excel and calamine find them: whatever the case of
    their names, and with '\\' or '/' between folders (some zip tools write '\\').

    Only read after check_xlsx_zip has inflated every member within its declared size.
    """

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self._members: dict[str, str] = {}
        for member in archive.namelist():
            self._members.setdefault(_normal(member), member)

    def member(self, part: str) -> str | None:
        """The zip member holding `part` ("xl/workbook.xml"), if any."""
        return self._members.get(_normal(part))

    def read(self, part: str) -> bytes:
        """The bytes of `part`; KeyError when there is none."""
        member = self.member(part)
        if member is None:
            raise KeyError(part)
        return self.archive.read(member)

    def workbook(self) -> str | None:
        """The workbook part's name: the package's officeDocument (usually xl/workbook.xml)."""
        try:
            for _, rel_type, target in self.relationships(""):  # the package's own
                if rel_type.endswith("/officeDocument") and self.member(target):
                    return target
        except ElementTree.ParseError:
            pass  # calamine will say whether it can read the workbook
        return _normal(_USUAL_WORKBOOK) if self.member(_USUAL_WORKBOOK) else None

    def relationships(self, part: str) -> list[tuple[str, str, str]]:
        """(id, type, target part) of `part`'s relationships to other parts ("" for the
        package's own); ElementTree.ParseError when they are not XML."""
        rels = rels_part(part)
        if not self.member(rels):
            return []
        return [
            (rel.get("Id", ""), rel.get("Type", ""), resolve(rel.get("Target", ""), part))
            for rel in ElementTree.fromstring(self.read(rels))
            if local_name(rel.tag) == "Relationship" and rel.get("TargetMode") != "External"
        ]


_USUAL_WORKBOOK = "xl/workbook.xml"


def rels_part(part: str) -> str:
    """Where a part's relationships live: xl/workbook.xml -> xl/_rels/workbook.xml.rels, and
    the package's own ("") in _rels/.rels."""
    folder, file = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{file}.rels")


def resolve(target: str, base: str) -> str:
    """A relationship's target as a part name: absolute ("/xl/...") or relative to the
    folder of the part `base` whose relationship it is."""
    target = target.replace("\\", "/")
    if target.startswith("/"):
        return _normal(target)
    return _normal(posixpath.join(posixpath.dirname(base), target))


def local_name(tag: str) -> str:
    """An element's name without its namespace: "{...main}row" and "x:row" are both "row"."""
    return tag[tag.rfind("}") + 1 :]


def _normal(name: str) -> str:
    return posixpath.normpath(name.replace("\\", "/").lstrip("/")).lower()


def _damaged(name: str) -> str:
    return _(
        "{name} is damaged: it is a zip file (as .xlsx files are) but parts of it are missing "
        "or do not unpack, perhaps from an incomplete download or copy. Copy or download it "
        "again, or if it opens in Excel, save it as .xlsx again, then try again."
    ).format(name=name)


def _bomb(name: str, why: str) -> str:
    return _(
        '{name} {why}, far more than a real workbook of its size (this is how a "zip bomb" '
        "looks), so it was not opened. If it is a real workbook, open it in Excel and save it "
        "again as .xlsx, or split it into smaller files, then try again."
    ).format(name=name, why=why)


def _check_declared_sizes(
    name: str, size: int, infos: Sequence[zipfile.ZipInfo], settings: IntakeSettings
) -> None:
    """Refuse on what the zip's index declares, before inflating anything."""
    total = sum(info.file_size for info in infos)
    if total > _XML_PER_ROW * settings.max_rows:
        says = _("says it unpacks to {size} from {packed}")
        raise InputError(_bomb(name, says.format(size=mb(total), packed=mb(size))))
    for info in infos:
        if info.file_size > max(_RATIO_GRACE, _MAX_RATIO * info.compress_size):
            says = _("has a part that says it unpacks to {size} from {packed}")
            sizes = {"size": mb(info.file_size), "packed": mb(info.compress_size)}
            raise InputError(_bomb(name, says.format(**sizes)))


def _inflate_checked(name: str, data: bytes, info: zipfile.ZipInfo) -> None:
    """Inflate one member in steps, never past its declared size, and check its CRC.

    The bytes are counted and dropped, so memory stays at one step whatever it holds.
    """
    if info.flag_bits & 1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise save_again(
            N_("{name} uses zip encryption or compression that Excel never writes."), name=name
        )
    start = info.header_offset + 30
    if data[info.header_offset : start][:4] != ZIP_MAGIC or start > len(data):
        raise InputError(_damaged(name))
    name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
    start += name_length + extra_length
    packed = memoryview(data)[start : start + info.compress_size]
    if len(packed) != info.compress_size:
        raise InputError(_damaged(name))
    inflater = zlib.decompressobj(-zlib.MAX_WBITS) if info.compress_type else None
    size = crc = 0
    for offset in range(0, len(packed), _STEP):
        piece: bytes = bytes(packed[offset : offset + _STEP])
        while piece:
            if inflater is None:
                out, piece = piece, b""
            else:
                try:
                    out = inflater.decompress(piece, _STEP)
                except zlib.error:
                    raise InputError(_damaged(name)) from None
                piece = inflater.unconsumed_tail
            size += len(out)
            if size > info.file_size:
                why = _("unpacks to more than its own index says")
                raise InputError(_bomb(name, why))
            crc = zlib.crc32(out, crc)
    if size != info.file_size or crc != info.CRC or (inflater and not inflater.eof):
        raise InputError(_damaged(name))
