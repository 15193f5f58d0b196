"""The project's one safe Excel writer.

openpyxl turns any string that starts with "=" into a formula, and raises on control
characters, so one hostile value could either plant a formula in HR's workbook or kill the
whole export. Every cell goes through `safe_value`: strings that start
with = + - @, tab or CR get a leading apostrophe and are typed as text, illegal characters are
replaced, and text is cut to Excel's cell limit with a visible marker. Workbooks are built in
write-only mode, so memory stays flat however many rows there are. A CSV file opens in a
spreadsheet too, so `csv_text` puts every cell through the same `safe_value`.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import date, datetime
from itertools import groupby
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from competency_app.common.xlsx_rows import take_over

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# What XML cannot carry: the control characters openpyxl refuses, and also the
# non-characters U+FFFE and U+FFFF and lone surrogates, which stopped the whole export
# when lxml met them
NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
EXCEL_CELL_LIMIT = 32_767
EXCEL_ROW_LIMIT = 1_048_576
TRUNCATED = " …[truncated]"
# Values written as they are (a subclass, such as an IntEnum, goes through safe_value).
PLAIN_TYPES = frozenset({type(None), bool, int, float})
BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="E8EDEE")
WRAP = Alignment(wrap_text=True, vertical="top")
UK_DATE = "dd/mm/yyyy"
UK_DATETIME = "dd/mm/yyyy hh:mm"
PERCENT = "0%"


class Percent(float):
    """A share from 0 to 1 written as a number formatted as a percentage ("75%")."""


def percent(part: int, whole: int) -> Percent | None:
    """part / whole as a `Percent`; None (a blank cell) when there is no whole."""
    return Percent(part / whole) if whole else None


def safe_value(value):
    """A value that openpyxl writes as plain data, never as a formula, never raising."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime):
        return value.replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return value
    text = NOT_IN_XML.sub("\ufffd", str(value))
    if text.startswith(FORMULA_TRIGGERS):
        text = "'" + text
    if len(text) > EXCEL_CELL_LIMIT:
        text = text[: EXCEL_CELL_LIMIT - len(TRUNCATED)] + TRUNCATED
    return text


def csv_text(rows: Iterable[Iterable]) -> str:
    """`rows` as CSV text, every cell neutralised by `safe_value` as a workbook's are."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows([safe_value(value) for value in row] for row in rows)
    return buffer.getvalue()


def safe_text(text: str) -> str:
    """Text for places that are never formulas (chart titles): only the characters XML
    cannot carry are replaced."""
    return NOT_IN_XML.sub("\ufffd", text)


def unneutralise(text: str) -> str:
    """Undo `safe_value`'s apostrophe when reading our own workbooks back in."""
    if len(text) > 1 and text[0] == "'" and text[1:].startswith(FORMULA_TRIGGERS):
        return text[1:]
    return text


class SheetWriter:
    """Appends safe rows to a write-only sheet and counts them."""

    def __init__(self, sheet: WriteOnlyWorksheet):
        self.sheet = sheet
        self.rows = 0
        self.columns = 0  # the header's, for the auto-filter
        # One style array per look (bold, fill, wrap, number format), shared by the cells
        # that have it, in every sheet of the workbook (the arrays index its style tables):
        # openpyxl looks each style up again (hashing the font and fill) on every
        # assignment, which cost more than writing the cell, and a workbook of a dozen
        # small sheets paid it again for each sheet's header. The fill is kept with its
        # array so that its id in the key stays its own.
        book: Any = sheet.parent
        styles = getattr(book, "safe_styles", None)
        if styles is None:
            styles = book.safe_styles = {}
        self._styles: dict[tuple, tuple[StyleArray | None, PatternFill | None]] = styles

    def cell(self, value, *, bold: bool = False, fill: PatternFill | None = None, wrap=False):
        number_format = (
            UK_DATETIME
            if isinstance(value, datetime)
            else UK_DATE
            if isinstance(value, date)
            else PERCENT
            if isinstance(value, Percent)
            else None
        )
        key = (bold, id(fill), wrap, number_format)
        known = self._styles.get(key)
        cell = Cell(
            self.sheet,
            row=1,
            column=1,
            value=safe_value(value),
            style_array=known[0] if known else None,
        )
        if isinstance(cell.value, str):
            cell.data_type = "s"  # text, whatever it looks like
        if known is None:
            if bold:
                cell.font = BOLD
            if fill is not None:
                cell.fill = fill
            if wrap:
                cell.alignment = WRAP
            if number_format is not None:
                cell.number_format = number_format
            style = cell._style  # type: ignore[attr-defined]  # (a slot the stubs miss)
            self._styles[key] = (StyleArray(style) if style is not None else None, fill)
        return cell

    def _append(self, row: list) -> None:
        if not self.rows:  # the first row: after add_table has set what goes before the rows
            take_over(self.sheet)
        self.sheet.append(row)

    def header(self, titles: Sequence[str], wrap: bool = False) -> None:
        self._append([self.cell(t, bold=True, fill=HEADER_FILL, wrap=wrap) for t in titles])
        self.rows += 1
        self.columns = max(self.columns, len(titles))

    def row(self, values: Iterable) -> None:
        # Numbers and blanks go in as they are (openpyxl reads only a leading "=" as a
        # formula, and safe_value never leaves one), text neutralised, dates as typed
        # cells. The exact-type test is the cheap one: most cells are numbers or blanks.
        self._append(
            [
                v
                if type(v) in PLAIN_TYPES
                else self.cell(v)
                if isinstance(v, date | Percent)
                else safe_value(v)
                for v in values
            ]
        )
        self.rows += 1


def new_workbook() -> Workbook:
    return Workbook(write_only=True)


@contextmanager
def building() -> Iterator[Workbook]:
    """A new workbook, discarded (`discard`) if the block fails."""
    workbook = new_workbook()
    try:
        yield workbook
    except BaseException:
        discard(workbook)
        raise


def discard(workbook: Workbook) -> None:
    """Close a workbook given up midway and delete its sheets' temporary files: a write-only
    sheet streams into one, which openpyxl deletes only on saving (or when the process
    ends: a worker's disk would fill), and an unfinished sheet's stream fails noisily when
    it is collected."""
    sheets: list[Any] = workbook.worksheets
    for sheet in sheets:
        writer = getattr(sheet, "_writer", None)
        if writer is None:
            continue
        with suppress(Exception):
            if not sheet.closed:
                sheet.close()
        with suppress(OSError):
            writer.cleanup()


def add_sheet(workbook: Workbook, title: str, widths: Sequence[int] = ()) -> SheetWriter:
    sheet = workbook.create_sheet(title=safe_sheet_title(title))
    # one <col> element per run of columns of the same width (a skills sheet has dozens),
    # not one per column
    first = 1
    for width, run in groupby(widths):
        last = first + len(list(run)) - 1
        dimension = sheet.column_dimensions[get_column_letter(first)]
        dimension.width = width
        dimension.min, dimension.max = first, last
        first = last + 1
    return SheetWriter(sheet)


def safe_sheet_title(title: str) -> str:
    for char in "[]:*?/\\":
        title = title.replace(char, " ")
    return title[:31]


def add_table(
    workbook: Workbook,
    title: str,
    headings: Sequence[str],
    widths: Sequence[int] = (),
    *,
    book_title: str = "",
    freeze: str = "A2",
    wrap_header: bool = False,
) -> SheetWriter:
    """A sheet holding one table: its header row (`headings`) frozen (with the columns
    left of `freeze`), an auto-filter over every row written (set by `to_bytes`), and set
    up to print landscape, one page wide, the header row on every page and the book's and
    sheet's titles at the top. What a write-only sheet writes before its first row (the
    panes, the fit-to-page flag) is set here, before the header."""
    writer = add_sheet(workbook, title, widths)
    sheet: Any = writer.sheet  # write-only sheets have all of these (the stubs miss them)
    sheet.freeze_panes = freeze
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as the rows need
    sheet.print_title_rows = "1:1"
    heading = safe_text(f"{book_title}: {title}" if book_title else title).replace("&", "&&")
    sheet.oddHeader.center.text = heading[:200]
    sheet.oddFooter.center.text = "Page &P of &N"
    writer.header(headings, wrap=wrap_header)
    sheet.table_writer = writer  # `to_bytes` adds its filter
    return writer


def _finish_tables(workbook: Workbook) -> None:
    """Every `add_table` sheet's auto-filter, over the header and every row written."""
    sheets: list[Any] = workbook.worksheets
    for sheet in sheets:
        writer = getattr(sheet, "table_writer", None)
        if writer is not None and writer.columns:
            last = get_column_letter(writer.columns)
            sheet.auto_filter.ref = f"A1:{last}{max(2, writer.rows)}"


def save(workbook: Workbook, into: str | os.PathLike | IO[bytes]) -> None:
    """Write the finished workbook into a file (a path, or one open for writing)."""
    _finish_tables(workbook)
    workbook.save(into)


def to_bytes(workbook: Workbook) -> bytes:
    """The saved workbook. It is zipped into a temporary file and read back once: zipped
    into memory and copied out, a region's workbook (tens of MB) was held twice at the
    peak. (A job writes its workbook straight into its file: `save`.)"""
    with tempfile.TemporaryFile() as handle:
        save(workbook, handle)
        handle.seek(0)
        return handle.read()
