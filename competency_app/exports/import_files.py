"""Reading an import's file: an .xlsx or .csv checked against the upload limits before
anything parses it, read in streaming mode with bounded rows and columns, as rows of text."""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from datetime import date, datetime
from typing import Any

from flask import current_app
from openpyxl import load_workbook

from competency_app.common.text import has_control_characters
from competency_app.common.xlsx import unneutralise
from competency_app.exports.upload_limits import (
    UploadLimits,
    UploadRefused,
    check_size,
    check_xlsx,
)

OPTIONAL_COLUMNS = {"team", "supervisor", "leaving_date", "start_date"}


class ImportFileError(ValueError):
    """The file as a whole cannot be read (format, missing columns, a limit broken)."""


# What each encoding a CSV file may be in is called in the preview's summary.
CSV_ENCODINGS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with a byte-order mark (Excel's 'CSV UTF-8')",
    "cp1252": "Windows-1252 (Excel's 'CSV (Comma delimited)')",
}


def decode_csv(raw: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 (with or without a byte-order mark) when the bytes are
    valid UTF-8, otherwise Windows-1252, what Excel's "CSV (Comma delimited)" writes on a
    UK Windows machine. A file in neither (five bytes Windows-1252 leaves undefined) is
    refused with the way to save it."""
    encoding = "utf-8-sig" if raw.startswith(codecs.BOM_UTF8) else "utf-8"
    try:
        return raw.decode(encoding), encoding
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        raise ImportFileError(
            "The CSV file is neither UTF-8 nor Windows-1252: save it from Excel as "
            "'CSV UTF-8 (Comma delimited)'."
        ) from None


def _csv_table(raw: bytes, limits: UploadLimits) -> list[list]:
    text, _encoding = decode_csv(raw)
    table = []
    reader = csv.reader(io.StringIO(text))
    try:
        for values in reader:
            table.append(values[: limits.max_columns])
            if len(table) > limits.max_rows + 1:
                break
    except csv.Error as error:
        raise ImportFileError(f"Row {reader.line_num}: not readable as CSV ({error}).") from None
    return table


def _xlsx_table(raw: bytes, limits: UploadLimits) -> list[list]:
    try:
        check_xlsx(raw, limits)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError):
        raise ImportFileError("The file is not a readable .xlsx workbook.") from None
    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            # Explicit bounds: the sheet's own <dimension> is never trusted.
            return [
                ["" if v is None else v for v in row]
                for row in sheet.iter_rows(
                    values_only=True, max_row=limits.max_rows + 2, max_col=limits.max_columns
                )
            ]
        finally:
            book.close()
    except Exception:  # any failure inside a workbook the checks let through
        raise ImportFileError("The file is not a readable .xlsx workbook.") from None


def read_rows(
    raw: bytes, filename: str, columns: list[str], limits: UploadLimits | None = None
) -> list[dict]:
    """Rows as {column: text, "_row": n} (n is the spreadsheet row number)."""
    limits = limits or UploadLimits.from_config(current_app.config)
    name = filename.lower()
    try:
        check_size(raw, limits)
        if name.endswith(".csv"):
            table = _csv_table(raw, limits)
        elif name.endswith(".xlsx"):
            table = _xlsx_table(raw, limits)
        else:
            raise ImportFileError("Upload an .xlsx or .csv file.")
    except UploadRefused as error:
        raise ImportFileError(str(error)) from None
    if not table:
        raise ImportFileError("The file is empty.")
    header = [str(h).strip().lower() for h in table[0]]
    missing = [c for c in columns if c not in header and c not in OPTIONAL_COLUMNS]
    if missing:
        raise ImportFileError(
            f"Row 1 must name the columns {', '.join(columns)} (within the first "
            f"{limits.max_columns}); missing: {', '.join(missing)}."
        )
    if len(table) - 1 > limits.max_rows:
        raise ImportFileError(
            f"The file has more than {limits.max_rows:,} rows; that is the limit."
        )
    index = {column: header.index(column) for column in columns if column in header}
    rows = []
    for number, values in enumerate(table[1:], start=2):
        if not any(str(v).strip() for v in values):
            continue
        row: dict[str, Any] = {"_row": number}
        for column in columns:
            position = index.get(column)
            value = values[position] if position is not None and position < len(values) else ""
            if has_control_characters(str(value)):
                raise ImportFileError(
                    f"Row {number}, column {column}: holds a line break or another control "
                    "character; keep each value on one line."
                )
            row[column] = (
                value if isinstance(value, datetime | date) else unneutralise(str(value).strip())
            )
        rows.append(row)
    return rows
