"""Spreadsheets for organisers: sheets of one header row, data rows and a totals row,
written as an .xlsx with openpyxl (write-only mode: rows stream to the file, so a large
export stays small in memory).

Pure and blocking: callers run ``build`` in a worker thread (``to_thread``), never on the
event loop. Text is always written as text: a member's nick such as ``=HYPERLINK(…)`` is a
string in the cell, never a formula (the spreadsheet form of "member text shown as text").
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Value = str | int | float | datetime | None
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Characters that would make a spreadsheet read a text cell as a formula or a command
# (OWASP "CSV injection"); such text is still stored as a string cell.
_FORMULA_START = ("=", "+", "-", "@")


@dataclass(slots=True)
class Sheet:
    """One sheet: its tab name, the header row, the rows, and a totals row (bold)."""

    title: str
    header: Sequence[str]
    rows: list[Sequence[Value]] = field(default_factory=list)
    totals: Sequence[Value] | None = None
    widths: Sequence[int] = ()


def _cell(sheet: Any, value: Value, bold: bool = False) -> Any:
    # ``sheet`` is a write-only worksheet, whose class openpyxl keeps in a private module.
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        cell.data_type = "s"  # openpyxl reads a leading "=" as a formula; keep it text
    if isinstance(value, datetime):
        cell.number_format = "yyyy-mm-dd hh:mm"
    if bold:
        cell.font = Font(bold=True)
    return cell


def build(sheets: Sequence[Sheet]) -> bytes:
    """The workbook's bytes. Datetimes must be naive local times (Excel has no zones).

    openpyxl is imported here, in the worker thread, not with the bot: it pulls in PIL, which
    the bot's own process must not keep resident (tests/unit/test_footprint.py)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for spec in sheets:
        sheet = book.create_sheet(title=spec.title[:31])  # Excel's limit on a tab name
        for index, width in enumerate(spec.widths):
            sheet.column_dimensions[chr(ord("A") + index)].width = width
        sheet.freeze_panes = "A2"
        sheet.append([_cell(sheet, h, bold=True) for h in spec.header])
        for row in spec.rows:
            sheet.append([_cell(sheet, v) for v in row])
        if spec.totals is not None:
            sheet.append([_cell(sheet, v, bold=True) for v in spec.totals])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
