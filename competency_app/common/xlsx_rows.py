"""Rows written into a write-only sheet's XML a whole row at a time.

openpyxl's write-only sheet turns every value appended into a cell object (typing it and
checking its text again), then writes each cell on its own through lxml's incremental
writer: about 6 µs a cell, most of an organisation workbook's time. The rows `SheetWriter`
appends hold only values already made safe (`xlsx.safe_value`): None, booleans, numbers,
text, and openpyxl cells for the styled ones (headers, dates, percentages). Such a row is
built here as the text of one `<row>`, parsed by lxml at once and written, with the XML
openpyxl writes for the same values: text as inline strings (spaces kept), numbers typed
"n" as openpyxl formats them, booleans "b", a styled cell with its style's index, a date
as Excel's number. (Text that reads like one of Excel's error codes, such as "#N/A", stays
text: openpyxl would have typed it an error.) About 1 µs a cell.

`take_over(sheet)` swaps in this path through the two hooks a write-only sheet calls for
each row appended: `_values_to_row` (the values are kept as they are) and its writer's
`write_row`; both are openpyxl's internals (openpyxl is pinned below 4). The organisation
workbook's test compares every cell, with its type and style, with openpyxl's own writing
of them (`tests/exports/test_organisation_workbook.py`); `tests/exports/test_workbooks.py`
reads back a row of every kind of value.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from lxml.etree import fromstring
from openpyxl.cell._writer import _set_attributes  # type: ignore[attr-defined]  # (private)
from openpyxl.compat import safe_string
from openpyxl.utils import get_column_letter

_LETTERS: list[str] = [""]  # column letters by number, grown as rows need them
_CARRIAGE_RETURN = {"\r": "&#13;"}  # escaped besides & < >


def take_over(sheet: Any) -> None:
    """Write `sheet`'s rows from now on as whole elements. Call it before the first row:
    it starts the sheet's stream, which writes what goes before the rows (panes, column
    widths, properties) as the sheet has them then."""
    sheet._get_writer()
    sheet._values_to_row = _as_they_are
    sheet._writer.write_row = _write_row


def _as_they_are(values: list, _row_index: int) -> list:
    return values


def _letters(count: int) -> list[str]:
    while len(_LETTERS) <= count:
        _LETTERS.append(get_column_letter(len(_LETTERS)))
    return _LETTERS


def _text(value: str) -> str:
    """An inline string's content (none for empty text): markup characters escaped, a
    carriage return kept as a character reference (a parser would turn a bare one into a
    line feed), and spaces at either end kept."""
    if not value:
        return ""
    escaped = escape(value, _CARRIAGE_RETURN)
    if value != value.strip():
        return f'<is><t xml:space="preserve">{escaped}</t></is>'
    return f"<is><t>{escaped}</t></is>"


def _write_row(xf, values: list, row_index: int) -> None:
    """The row as openpyxl's `write_row` writes it, built as text and parsed once (lxml
    parses a row faster than Python can build its elements one by one)."""
    number = str(row_index)
    letters = _letters(len(values))
    parts = [f'<row r="{number}">']
    for column, value in enumerate(values, 1):
        if value is None:
            continue
        kind = type(value)
        if kind is str:
            code, content = "inlineStr", _text(value)
        elif kind is int or kind is bool:  # as openpyxl's safe_string shows them
            code, content = "b" if kind is bool else "n", f"<v>{value:.16g}</v>"
        elif kind is float:
            shown = safe_string(value)  # "" for a NaN or an infinity, as openpyxl writes it
            code, content = "n", (f"<v>{shown}</v>" if shown else "")
        else:
            parts.append(_cell(value, column, row_index))
            continue
        parts.append(f'<c r="{letters[column]}{number}" t="{code}">{content}</c>')
    parts.append("</row>")
    xf.write(fromstring("".join(parts)))


def _cell(cell: Any, column: int, row_index: int) -> str:
    """An openpyxl cell (styled, or a date) at this place, as openpyxl writes it."""
    cell.column, cell.row = column, row_index
    value, attributes = _set_attributes(cell, cell.has_style)
    shown = " ".join(f'{name}="{attribute}"' for name, attribute in attributes.items())
    if value is None:
        content = ""
    elif cell.data_type == "s":
        content = _text(str(value))
    elif cell.data_type in ("n", "b", "d"):
        content = f"<v>{safe_string(value)}</v>"
    else:  # SheetWriter types every text as text: formulas and error codes never come here
        raise TypeError(f"a cell of type {cell.data_type!r} is not written here")
    return f"<c {shown}>{content}</c>"
