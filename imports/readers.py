"""Streaming readers for CSV, XLSX and JSON Lines. Each yields one `SourceRow` at a time, so memory
stays flat however long the file is.

Numbering (the error report uses it): `row` is the 1-based data row, the header not counted, blank
lines skipped; `line` is where that row starts in the file (the header is line 1; for XLSX the
sheet's row number), which finds rows whose cells span several lines."""

import csv
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any, BinaryIO

from django.utils.translation import gettext as _

from .encoding import PREFIX_BYTES, LineDecoder, detect

# Narratives can be long; a field beyond this is an error for its row, never a crash.
csv.field_size_limit(2 * 1024 * 1024)
MAX_COLUMNS = 500


class FileError(Exception):
    """The file cannot be read at all (fatal: nothing is imported)."""


@dataclass(slots=True)
class SourceRow:
    row: int
    line: int
    cells: list[Any]
    # Why the row cannot be used as it stands (ragged, undecodable, not a JSON object).
    problem: str = ""


class Reader:
    columns: list[str]
    encoding: str = ""

    def __iter__(self) -> Iterator[SourceRow]:
        raise NotImplementedError

    def progress(self) -> tuple[int, int]:
        """(done, total) in bytes or rows; total 0 when unknown."""
        raise NotImplementedError

    def warnings(self) -> list[str]:
        return []


def _size(raw: IO[bytes]) -> int:
    try:
        return os.fstat(raw.fileno()).st_size
    except (AttributeError, OSError, ValueError):
        pass
    try:
        here = raw.tell()
        end = raw.seek(0, os.SEEK_END)
        raw.seek(here)
        return end
    except (AttributeError, OSError, ValueError):
        return 0


def _peek(raw: BinaryIO) -> bytes:
    prefix = raw.read(PREFIX_BYTES)
    raw.seek(0)
    return prefix


def _header(names: list[Any]) -> list[str]:
    columns = [("" if n is None else str(n)).strip().lstrip("\ufeff") for n in names]
    while columns and not columns[-1]:
        columns.pop()
    if not columns:
        raise FileError(_("文件没有表头行（第一行应为列名）。"))
    if len(columns) > MAX_COLUMNS:
        raise FileError(_("列数过多（%(n)d 列，最多 %(max)d 列）。") % {"n": len(columns), "max": MAX_COLUMNS})
    return columns


class CsvReader(Reader):
    def __init__(self, raw: BinaryIO) -> None:
        self.encoding = detect(_peek(raw))
        self.total = _size(raw)
        self.decoder = LineDecoder(raw, self.encoding)
        lines = iter(self.decoder)
        first = ""
        for first in lines:
            if first.strip():
                break
        if not first.strip():
            raise FileError(_("文件是空的。"))
        delimiter = max((",", "\t", ";"), key=first.count)
        self.dialect = {"delimiter": delimiter}
        self.columns = _header(next(csv.reader([first], **self.dialect)))
        self.header_line = self.decoder.line_no
        self._lines = lines

    def progress(self) -> tuple[int, int]:
        return self.decoder.bytes_read, self.total

    def __iter__(self) -> Iterator[SourceRow]:
        reader = csv.reader(self._lines, **self.dialect)
        width = len(self.columns)
        number = 0
        previous_end = self.header_line
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                number += 1
                start, previous_end = previous_end + 1, self.header_line + reader.line_num
                self.decoder.take_bad(start, previous_end)
                yield SourceRow(number, start, [], _("CSV 格式错误：%(error)s") % {"error": exc})
                continue
            start, previous_end = previous_end + 1, self.header_line + reader.line_num
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                self.decoder.take_bad(start, previous_end)
                continue  # a blank line
            number += 1
            if self.decoder.take_bad(start, previous_end):
                yield SourceRow(
                    number, start, [], _("含有不是 %(encoding)s 编码的字节。") % {"encoding": self.encoding}
                )
                continue
            if len(cells) != width:
                # Trailing empty cells (a spreadsheet's habit) are not ragged.
                if len(cells) > width and not any(c.strip() for c in cells[width:]):
                    cells = cells[:width]
                else:
                    yield SourceRow(
                        number,
                        start,
                        [],
                        _("列数不符：表头有 %(expected)d 列，此行有 %(got)d 列。")
                        % {"expected": width, "got": len(cells)},
                    )
                    continue
            yield SourceRow(number, start, cells)


class JsonLinesReader(Reader):
    """One JSON object per line. The first object's keys are the columns; keys first seen later are
    read too and reported once as unknown unless the mapping names them."""

    def __init__(self, raw: BinaryIO) -> None:
        self.encoding = detect(_peek(raw))
        self.total = _size(raw)
        self.decoder = LineDecoder(raw, self.encoding)
        self._lines = iter(self.decoder)
        self._first: tuple[int, dict[str, Any]] | None = None
        for text in self._lines:
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
            except ValueError as exc:
                raise FileError(
                    _("第 %(line)d 行不是有效的 JSON：%(error)s") % {"line": self.decoder.line_no, "error": exc}
                ) from exc
            if not isinstance(obj, dict):
                raise FileError(_("JSON Lines 文件的每一行应是一个对象（{...}）。"))
            self._first = (self.decoder.line_no, obj)
            break
        if self._first is None:
            raise FileError(_("文件是空的。"))
        self.columns = _header(list(self._first[1]))
        self._index = {name: i for i, name in enumerate(self.columns)}
        self._late: list[str] = []

    def progress(self) -> tuple[int, int]:
        return self.decoder.bytes_read, self.total

    def warnings(self) -> list[str]:
        if not self._late:
            return []
        return [_("部分行含有首行没有的键（未导入）：%(keys)s") % {"keys": ", ".join(self._late[:50])}]

    def _cells(self, obj: dict[str, Any]) -> list[Any]:
        cells: list[Any] = [None] * len(self.columns)
        for key, value in obj.items():
            i = self._index.get(key.strip() if isinstance(key, str) else key)
            if i is None:
                if len(self._late) < 50 and key not in self._late:
                    self._late.append(key)
                continue
            cells[i] = value
        return cells

    def __iter__(self) -> Iterator[SourceRow]:
        assert self._first is not None
        line, obj = self._first
        number = 1
        yield SourceRow(number, line, self._cells(obj))
        for text in self._lines:
            line = self.decoder.line_no
            bad = self.decoder.take_bad(line, line)
            if not text.strip():
                continue
            number += 1
            if bad:
                yield SourceRow(number, line, [], _("含有不是 %(encoding)s 编码的字节。") % {"encoding": self.encoding})
                continue
            try:
                obj = json.loads(text)
            except ValueError as exc:
                yield SourceRow(number, line, [], _("不是有效的 JSON：%(error)s") % {"error": exc})
                continue
            if not isinstance(obj, dict):
                yield SourceRow(number, line, [], _("应是一个 JSON 对象（{...}）。"))
                continue
            yield SourceRow(number, line, self._cells(obj))


class XlsxReader(Reader):
    """The first worksheet, streamed (openpyxl read-only mode). Dates arrive as dates, numbers as
    numbers; whole numbers (ids typed as numbers) are read without a trailing ".0"."""

    def __init__(self, raw: BinaryIO) -> None:
        import zipfile

        from openpyxl import load_workbook

        try:
            self.workbook = load_workbook(raw, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise FileError(_("不是有效的 XLSX 文件：%(error)s") % {"error": exc}) from exc
        sheet = self.workbook.worksheets[0]
        self.total = sheet.max_row or 0
        self._rows = sheet.iter_rows(values_only=True)
        self._line = 0
        for values in self._rows:
            self._line += 1
            if any(v not in (None, "") for v in values):
                self.columns = _header(list(values))
                break
        else:
            raise FileError(_("文件是空的。"))

    def progress(self) -> tuple[int, int]:
        return self._line, self.total

    @staticmethod
    def _cell(value: Any) -> Any:
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, (datetime, date)) or value is None:
            return value
        return str(value)

    def __iter__(self) -> Iterator[SourceRow]:
        width = len(self.columns)
        number = 0
        try:
            for values in self._rows:
                self._line += 1
                if not any(v not in (None, "") for v in values):
                    continue
                number += 1
                cells = [self._cell(v) for v in values[:width]]
                if len(values) > width and any(v not in (None, "") for v in values[width:]):
                    yield SourceRow(
                        number,
                        self._line,
                        [],
                        _("列数不符：表头有 %(expected)d 列，此行有 %(got)d 列。")
                        % {"expected": width, "got": max(i + 1 for i, v in enumerate(values) if v not in (None, ""))},
                    )
                    continue
                cells.extend([None] * (width - len(cells)))
                yield SourceRow(number, self._line, cells)
        finally:
            self.workbook.close()


READERS = {"csv": CsvReader, "cfpb": CsvReader, "jsonl": JsonLinesReader, "xlsx": XlsxReader}


def open_reader(fmt: str, raw: BinaryIO) -> Reader:
    return READERS[fmt](raw)
