"""Spreadsheet formula injection (CSV injection): a cell that starts with = + - @ (or a tab or a
carriage return) is run as a formula by Excel, LibreOffice and Google Sheets when the file is opened,
so text that came from outside (a complaint, an uploaded file) could call out or run commands.

Every export that a spreadsheet may open (CSV, XLSX) passes each cell through `safe_cell`, which
prefixes such text with an apostrophe: the spreadsheet then shows it as text, and a reader still
sees the original characters."""

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

# OWASP's list: the formula triggers, and tab / carriage return, which some programs skip before
# looking for a trigger. Full-width forms (＝ ＋ －) are not formulas in any spreadsheet we know of.
_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value to write into a spreadsheet cell: numbers, dates and booleans as they are, text
    neutralised when a spreadsheet would take it for a formula, None as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, (bool, int, float, Decimal, datetime, date)):
        return value
    text = str(value)
    # Leading spaces or line breaks do not stop every program from evaluating what follows them.
    if text.startswith(_TRIGGERS) or text.lstrip(" \n\u3000").startswith(_TRIGGERS):
        return "'" + text
    return text


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in values]
