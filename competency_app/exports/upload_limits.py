"""Checks an uploaded spreadsheet against fixed limits before anything parses it.

openpyxl trusts a sheet's declared `<dimension>` and unpacks parts whole: a 1.5 kB file
claiming 16,384 columns, or a 1 MB file holding one 1 GB shared string, takes a worker to
gigabytes. So an .xlsx is refused, with a message naming the limit, when the file, its zip
entries (count, unpacked sizes, compression ratio), the declared dimension or the shared
strings exceed the limits; and its XML parts are streamed once through expat (constant
memory) to refuse DTDs, over-long text and rows wider than any real sheet. Only then does
openpyxl read it, in read-only streaming mode, with explicit row and column bounds.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from xml.parsers import expat

# Excel's own limit on a cell is 32,767 characters; nothing longer is a real spreadsheet.
MAX_TEXT_CHARS = 32_767
# Compression ratios are only judged on entries big enough to matter.
RATIO_FLOOR_BYTES = 1024 * 1024
READ_CHUNK = 64 * 1024


class UploadRefused(ValueError):
    """The upload breaks a limit; the message names the limit."""


@dataclass(frozen=True)
class UploadLimits:
    max_file_bytes: int = 10 * 1024 * 1024
    max_uncompressed_bytes: int = 100 * 1024 * 1024
    max_zip_entries: int = 200
    max_compression_ratio: int = 100
    max_shared_strings_bytes: int = 16 * 1024 * 1024
    # Parts other than worksheets and shared strings (styles, workbook, relationships).
    max_other_part_bytes: int = 4 * 1024 * 1024
    max_rows: int = 50_000
    max_columns: int = 20
    # Elements outside rows (merged cells, validations…) that openpyxl keeps in memory.
    max_elements_outside_rows: int = 100_000
    max_cells_per_row: int = 1_000

    @classmethod
    def from_config(cls, config) -> UploadLimits:
        names = {
            "max_file_bytes": "IMPORT_MAX_FILE_BYTES",
            "max_uncompressed_bytes": "IMPORT_MAX_UNCOMPRESSED_BYTES",
            "max_zip_entries": "IMPORT_MAX_ZIP_ENTRIES",
            "max_compression_ratio": "IMPORT_MAX_COMPRESSION_RATIO",
            "max_shared_strings_bytes": "IMPORT_MAX_SHARED_STRINGS_BYTES",
            "max_rows": "IMPORT_MAX_ROWS",
            "max_columns": "IMPORT_MAX_COLUMNS",
        }
        return cls(**{field: int(config[key]) for field, key in names.items() if key in config})


def megabytes(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size / 1024:,.1f} kB"
    return f"{size / (1024 * 1024):,.1f} MB"


def check_size(raw: bytes, limits: UploadLimits) -> None:
    if len(raw) > limits.max_file_bytes:
        raise UploadRefused(
            f"The file is {megabytes(len(raw))}; the limit is {megabytes(limits.max_file_bytes)}."
        )


_CELL_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d{1,7})$")


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def check_xlsx(raw: bytes, limits: UploadLimits) -> None:
    """Refuse an .xlsx that breaks a limit (UploadRefused), or is no zip (BadZipFile)."""
    check_size(raw, limits)
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        entries = archive.infolist()
        if len(entries) > limits.max_zip_entries:
            raise UploadRefused(
                f"The workbook holds {len(entries):,} parts; the limit is "
                f"{limits.max_zip_entries:,}."
            )
        total = 0
        for entry in entries:
            total += entry.file_size
            if entry.file_size > limits.max_uncompressed_bytes:
                raise UploadRefused(
                    f"The part {entry.filename[:80]} unpacks to {megabytes(entry.file_size)}; "
                    f"the limit is {megabytes(limits.max_uncompressed_bytes)}."
                )
            if (
                entry.file_size > RATIO_FLOOR_BYTES
                and entry.file_size > entry.compress_size * limits.max_compression_ratio
            ):
                ratio = entry.file_size // max(entry.compress_size, 1)
                raise UploadRefused(
                    f"The part {entry.filename[:80]} is compressed {ratio:,} to 1; the limit "
                    f"is {limits.max_compression_ratio} to 1."
                )
            name = entry.filename.lower()
            if name.endswith("sharedstrings.xml"):
                if entry.file_size > limits.max_shared_strings_bytes:
                    raise UploadRefused(
                        f"The shared strings unpack to {megabytes(entry.file_size)}; the limit "
                        f"is {megabytes(limits.max_shared_strings_bytes)}."
                    )
            elif (
                not name.startswith("xl/worksheets/")
                and (name.endswith(".xml") or name.endswith(".rels"))
                and entry.file_size > limits.max_other_part_bytes
            ):
                raise UploadRefused(
                    f"The part {entry.filename[:80]} unpacks to "
                    f"{megabytes(entry.file_size)}; the limit is "
                    f"{megabytes(limits.max_other_part_bytes)}."
                )
        if total > limits.max_uncompressed_bytes:
            raise UploadRefused(
                f"The workbook unpacks to {megabytes(total)}; the limit is "
                f"{megabytes(limits.max_uncompressed_bytes)}."
            )
        for entry in entries:
            name = entry.filename.lower()
            if not (name.endswith(".xml") or name.endswith(".rels")):
                continue
            with archive.open(entry) as stream:
                _XmlScan(entry.filename, limits, name.startswith("xl/worksheets/")).run(stream)


class _XmlScan:
    """One pass of expat over a part: no tree is built, so memory stays constant."""

    def __init__(self, name: str, limits: UploadLimits, worksheet: bool):
        self.name = name[:80]
        self.limits = limits
        self.worksheet = worksheet
        self.row_depth: int | None = None  # depth of the open <row>, if any
        self.depth = 0
        self.rows = 0
        self.cells_in_row = 0
        self.outside_rows = 0
        self.text = 0
        self.done = False
        parser = expat.ParserCreate()
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.characters
        parser.StartDoctypeDeclHandler = self.doctype
        parser.EntityDeclHandler = self.doctype
        self.parser = parser

    def run(self, stream) -> None:
        try:
            while not self.done:
                chunk = stream.read(READ_CHUNK)
                self.parser.Parse(chunk, not chunk)
                if not chunk:
                    break
        except expat.ExpatError as error:
            raise UploadRefused(f"The part {self.name} is not well-formed XML: {error}.") from None

    def doctype(self, *_args) -> None:
        raise UploadRefused(f"The part {self.name} declares a DTD or entities; none are allowed.")

    def characters(self, data: str) -> None:
        self.text += len(data)
        if self.text > MAX_TEXT_CHARS:
            raise UploadRefused(
                f"The part {self.name} holds a text longer than {MAX_TEXT_CHARS:,} characters, "
                "Excel's limit for a cell."
            )

    def start(self, tag: str, attributes: dict) -> None:
        self.text = 0
        self.depth += 1
        local = tag.rpartition(":")[2]
        if not self.worksheet:
            return
        if local == "dimension":
            self.dimension(attributes.get("ref", ""))
        if self.row_depth is not None:
            if local == "c" and self.depth == self.row_depth + 1:
                self.cells_in_row += 1
                if self.cells_in_row > self.limits.max_cells_per_row:
                    raise UploadRefused(
                        f"Row {self.rows} has more than {self.limits.max_cells_per_row:,} cells."
                    )
        elif local == "row":
            self.row_depth = self.depth
            self.rows += 1
            self.cells_in_row = 0
            # openpyxl stops reading here (read_rows bounds the rows it asks for).
            if self.rows > self.limits.max_rows + 2:
                self.done = True
                self.parser.StartElementHandler = None
                self.parser.EndElementHandler = None
                self.parser.CharacterDataHandler = None
        else:
            self.outside_rows += 1
            if self.outside_rows > self.limits.max_elements_outside_rows:
                raise UploadRefused(
                    f"The part {self.name} has more than "
                    f"{self.limits.max_elements_outside_rows:,} elements outside its rows."
                )

    def end(self, _tag: str) -> None:
        self.text = 0
        if self.row_depth == self.depth:
            self.row_depth = None
        self.depth -= 1

    def dimension(self, ref: str) -> None:
        last = ref.upper().rpartition(":")[2]
        match = _CELL_REF.match(last)
        if not match:
            return
        columns, rows = _column_number(match.group(1)), int(match.group(2))
        if columns > self.limits.max_columns:
            raise UploadRefused(
                f"The sheet declares {columns:,} columns ({ref[:40]}); the limit is "
                f"{self.limits.max_columns} columns."
            )
        if rows > self.limits.max_rows + 1:
            raise UploadRefused(
                f"The sheet declares {rows:,} rows ({ref[:40]}); the limit is "
                f"{self.limits.max_rows:,} rows and a header."
            )
