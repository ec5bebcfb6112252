"""The organisers' spreadsheets (domain.workbook): one header row, rows, a totals row, and
member text kept as text."""

from __future__ import annotations

import io
from datetime import datetime

import openpyxl

from domain.workbook import Sheet, build


def test_a_sheet_has_its_header_rows_and_totals_and_text_stays_text() -> None:
    sheet = Sheet(
        "明细",
        ["成员", "时长（小时）", "活动时间"],
        [['=HYPERLINK("http://x")', 2.5, datetime(2026, 3, 12, 9, 0)], ["@all", 1, None]],
        totals=["合计", 3.5, None],
        widths=(16, 12, 18),
    )
    book = openpyxl.load_workbook(io.BytesIO(build([sheet])))
    cells = list(book["明细"].iter_rows())
    assert [c.value for c in cells[0]] == ["成员", "时长（小时）", "活动时间"]
    assert cells[0][0].font.bold and cells[-1][0].font.bold
    # A nick that looks like a formula is a string cell, never a formula.
    assert cells[1][0].value == '=HYPERLINK("http://x")' and cells[1][0].data_type == "s"
    assert cells[1][2].value == datetime(2026, 3, 12, 9, 0)
    assert [c.value for c in cells[-1]] == ["合计", 3.5, None]
    assert book["明细"].freeze_panes == "A2"


def test_long_tab_names_are_cut_to_excels_limit() -> None:
    book = openpyxl.load_workbook(io.BytesIO(build([Sheet("名" * 40, ["a"])])))
    assert book.sheetnames == ["名" * 31]
