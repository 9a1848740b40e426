"""Text encodings of imported files: UTF-8 (with or without a byte-order mark) or GB18030 (of which
GBK and GB2312 are subsets), told apart from a prefix of the file, then decoded line by line.

Decoding per physical line keeps memory flat and confines a bad byte to its line: the row that
holds it goes to the error report and the rows around it are imported. Neither encoding uses the
byte 0x0A inside a multi-byte character, so splitting the bytes at b"\\n" is safe for both."""

import codecs
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from django.utils.translation import gettext as _

PREFIX_BYTES = 256 * 1024

UTF8 = "utf-8"
UTF8_BOM = "utf-8-sig"
GB18030 = "gb18030"


class EncodingError(Exception):
    """The file is in none of the encodings we read (a fatal error: nothing is imported)."""


def detect(prefix: bytes) -> str:
    """UTF-8 with BOM, UTF-8, or GB18030, from the first bytes of a file. Raises EncodingError."""
    if prefix.startswith(codecs.BOM_UTF8):
        return UTF8_BOM
    if prefix.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise EncodingError(_("文件是 UTF-16/UTF-32 编码，请另存为 UTF-8 或 GB18030（GBK）后再导入。"))
    if b"\x00" in prefix:
        raise EncodingError(_("文件含有空字节，不是文本文件（或为 UTF-16 编码）；请另存为 UTF-8 或 GB18030（GBK）。"))
    if _mostly(prefix, UTF8):
        return UTF8
    if _mostly(prefix, GB18030) and _chinese(prefix):
        return GB18030
    raise EncodingError(_("无法识别文件编码：既不是 UTF-8 也不是 GB18030/GBK。请另存为 UTF-8 后再导入。"))


def _mostly(prefix: bytes, encoding: str) -> bool:
    """Whether the prefix is text in this encoding: at least three in four of its lines with
    non-ASCII bytes decode (a stray bad byte makes its row an error, not the whole file)."""
    lines = prefix.split(b"\n")
    if len(prefix) >= PREFIX_BYTES and len(lines) > 1:
        lines.pop()  # may be cut off inside a character
    good = bad = 0
    for line in lines:
        if line.isascii():
            continue
        try:
            line.decode(encoding)
            good += 1
        except UnicodeDecodeError:
            bad += 1
    return bad * 3 <= good


def _chinese(prefix: bytes) -> bool:
    """GB18030 decodes most byte soups (Shift-JIS, Big5, EUC-KR files too). Accept it only when
    charset-normalizer finds the GB family at least as plausible as any other encoding."""
    from charset_normalizer import from_bytes

    matches = list(from_bytes(prefix[:65536]))
    if not matches:
        return False
    best = min(m.chaos for m in matches)
    return any(m.encoding in _GB_FAMILY and m.chaos <= best + 0.02 for m in matches)


_GB_FAMILY = {"gb18030", "gbk", "gb2312", "hz"}


@dataclass
class LineDecoder:
    """Decodes a binary stream line by line; remembers the physical lines that did not decode."""

    raw: BinaryIO
    encoding: str
    bytes_read: int = 0
    line_no: int = 0
    bad_lines: set[int] = field(default_factory=set)

    def __iter__(self) -> Iterator[str]:
        encoding = UTF8 if self.encoding == UTF8_BOM else self.encoding
        first = True
        for chunk in self.raw:
            self.bytes_read += len(chunk)
            self.line_no += 1
            if first:
                first = False
                if chunk.startswith(codecs.BOM_UTF8):
                    chunk = chunk[3:]
            try:
                yield chunk.decode(encoding)
            except UnicodeDecodeError:
                self.bad_lines.add(self.line_no)
                yield chunk.decode(encoding, errors="replace")

    def take_bad(self, first_line: int, last_line: int) -> bool:
        """Whether a line in [first_line, last_line] failed to decode (and forget those lines)."""
        if not self.bad_lines:
            return False
        hit = [n for n in self.bad_lines if first_line <= n <= last_line]
        for n in hit:
            self.bad_lines.discard(n)
        return bool(hit)
