"""What may be stored as evidence: the type is detected from the content, never from the name.

Accepted: images, PDF, audio, video, office documents, plain text (UTF-8 / GB18030) and e-mail
messages, and ZIP archives that hold only such files. Refused, with the reason: executables,
scripts (and HTML/SVG, which carry script), archives holding them or other archives, and anything
over the size limit."""

import io
import zipfile
import zlib
from typing import BinaryIO

import filetype
from django.conf import settings
from django.utils.translation import gettext as _

from core.errors import ValidationError

_HEAD = 8192

# MIME types detected by `filetype` that are accepted as they are.
_ACCEPTED = {
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/bmp",
    "image/tiff",
    "image/heic",
    "image/heif",
    "application/pdf",
    "audio/mpeg",
    "audio/mp4",
    "audio/x-wav",
    "audio/ogg",
    "audio/amr",
    "audio/aac",
    "audio/x-flac",
    "audio/x-m4a",
    "video/mp4",
    "video/quicktime",
    "video/webm",
    "video/x-msvideo",
    "video/3gpp",
    "video/x-matroska",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/rtf",
}
_EXECUTABLE = {
    "application/x-msdownload",
    "application/x-executable",
    "application/x-elf",
    "application/x-mach-binary",
    "application/x-sharedlib",
    "application/vnd.microsoft.portable-executable",
    "application/x-shockwave-flash",
    "application/wasm",
    "application/x-deb",
    "application/x-rpm",
}
# Archives `filetype` knows that we cannot look inside: refused (they could hold anything).
_OPAQUE_ARCHIVES = {
    "application/x-rar-compressed",
    "application/x-7z-compressed",
    "application/x-tar",
    "application/gzip",
    "application/x-bzip2",
    "application/x-xz",
    "application/x-lzip",
    "application/zstd",
    "application/x-compress",
    "application/x-apple-diskimage",
    "application/x-iso9660-image",
    "application/x-ole-storage",
}
# Names that are executable or script whatever their content looks like.
_DANGEROUS_SUFFIXES = {
    "exe", "dll", "com", "scr", "msi", "msp", "bat", "cmd", "ps1", "psm1", "vbs", "vbe", "js", "jse",
    "wsf", "wsh", "hta", "jar", "apk", "app", "sh", "bash", "py", "pl", "php", "rb", "lnk", "reg",
    "cpl", "html", "htm", "xhtml", "svg", "mht", "mhtml", "xml", "dmg", "iso", "elf", "bin", "so",
}  # fmt: skip
_OOXML = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
# Office and OpenDocument files are ZIP containers: looked inside like any archive (macros refused).
_ZIP_DOCUMENTS = ("application/vnd.openxmlformats", "application/vnd.oasis")
_ZIP_MAX_MEMBERS = 1000
_ZIP_MAX_RATIO = 100  # uncompressed / compressed: more is a zip bomb


def _suffix(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _script_like(head: bytes) -> bool:
    start = head.lstrip()[:512].lower()
    return (
        start.startswith(b"#!")
        or start.startswith(b"<!doctype html")
        or start.startswith(b"<html")
        or start.startswith(b"<svg")
        or start.startswith(b"<?php")
        or b"<script" in head.lower()
    )


def _text_type(head: bytes) -> str | None:
    """text/plain or message/rfc822 for text in UTF-8 or GB18030; None when it is not text."""
    if b"\x00" in head:
        return None
    sample = head
    for encoding in ("utf-8", "gb18030"):
        try:
            # The head may end in the middle of a character.
            sample.decode(encoding) if len(sample) < _HEAD else sample[:-4].decode(encoding)
        except UnicodeDecodeError:
            continue
        lowered = head[:2048].lower()
        if any(lowered.startswith(h) or b"\n" + h in lowered for h in (b"from:", b"received:", b"message-id:")) and (
            b"\nsubject:" in lowered or lowered.startswith(b"subject:")
        ):
            return "message/rfc822"
        return "text/plain"
    return None


def _refuse(reason: str) -> ValidationError:
    return ValidationError("file", reason)


# What zipfile raises on a damaged or crafted archive (found by evidence/tests/test_fuzz_uploads.py):
# besides BadZipFile, a bad offset, a cut-off member, an unknown compression method, a member without
# a name, broken deflate data.
_DAMAGED_ZIP = (zipfile.BadZipFile, OSError, ValueError, EOFError, IndexError, NotImplementedError, zlib.error)


def _check_zip(data: BinaryIO, name: str) -> str:
    try:
        return _check_members(zipfile.ZipFile(data), name)
    except _DAMAGED_ZIP:
        raise _refuse(_("%(name)s：压缩文件已损坏，无法检查其内容。") % {"name": name}) from None


def _check_members(archive: zipfile.ZipFile, name: str) -> str:
    members = archive.infolist()
    names = [m.filename for m in members]
    office = _office_type(names)
    if office and any(n.lower().endswith("vbaproject.bin") for n in names):
        raise _refuse(_("%(name)s：含宏的 Office 文件不予接收。") % {"name": name})
    # Every container, an office document too, is checked member by member before it is named.
    if len(members) > _ZIP_MAX_MEMBERS:
        raise _refuse(_("%(name)s：压缩文件内文件过多。") % {"name": name})
    total = sum(m.file_size for m in members)
    packed = max(1, sum(m.compress_size for m in members))
    if total > settings.COMPLAINTDESK_EVIDENCE_MAX_BYTES * 4 or total / packed > _ZIP_MAX_RATIO:
        raise _refuse(_("%(name)s：压缩文件解压后过大。") % {"name": name})
    for member in members:
        if member.is_dir():
            continue
        if member.flag_bits & 0x1:
            raise _refuse(_("%(name)s：加密的压缩文件无法检查，不予接收。") % {"name": name})
        with archive.open(member) as inner:
            head = inner.read(_HEAD)
        if office:
            # Parts of a document are XML and media; an executable or an embedded archive or OLE
            # object inside one is refused.
            if _executable(head):
                raise _refuse(_("%(name)s：可执行文件和脚本不予接收。") % {"name": name})
            kind = filetype.guess(head)
            inner_type = kind.mime if kind is not None else ""
        else:
            inner_type = _detect(head, member.filename)
        if inner_type == "application/zip" or inner_type in _OPAQUE_ARCHIVES or inner_type in _EXECUTABLE:
            raise _refuse(
                _("%(name)s：压缩文件中不能再含压缩文件（%(member)s）。") % {"name": name, "member": member.filename}
            )
    return office or "application/zip"


def _office_type(names: list[str]) -> str | None:
    """The type of an OOXML or OpenDocument container, from its parts; None for another ZIP."""
    for prefix, mime in _OOXML.items():
        if "[Content_Types].xml" in names and any(n.startswith(prefix) for n in names):
            return mime
    if "mimetype" in names and "META-INF/manifest.xml" in names:
        return "application/vnd.oasis.opendocument"
    return None


def _executable(head: bytes) -> bool:
    return head[:2] == b"MZ" or head[:4] in (b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"\xca\xfe\xba\xbe")


def _detect(head: bytes, name: str) -> str:
    """The content type of `head`, or a refusal naming why it is not accepted."""
    if _suffix(name) in _DANGEROUS_SUFFIXES:
        raise _refuse(_("%(name)s：可执行文件和脚本不予接收。") % {"name": name})
    if _executable(head):
        raise _refuse(_("%(name)s：可执行文件和脚本不予接收。") % {"name": name})
    kind = filetype.guess(head)
    mime = kind.mime if kind is not None else None
    if mime in _EXECUTABLE:
        raise _refuse(_("%(name)s：可执行文件和脚本不予接收。") % {"name": name})
    if mime in _OPAQUE_ARCHIVES:
        raise _refuse(_("%(name)s：此类压缩文件无法检查其内容，请改用 ZIP 或直接上传文件。") % {"name": name})
    if mime == "application/zip" or head[:4] == b"PK\x03\x04" or (mime or "").startswith(_ZIP_DOCUMENTS):
        return "application/zip"
    if mime in _ACCEPTED:
        return mime
    if mime is not None:
        raise _refuse(_("%(name)s：不支持的文件类型（%(type)s）。") % {"name": name, "type": mime})
    if _script_like(head):
        raise _refuse(_("%(name)s：网页和脚本文件可能含有可执行代码，不予接收。") % {"name": name})
    text = _text_type(head)
    if text is None:
        raise _refuse(_("%(name)s：无法识别的文件类型。") % {"name": name})
    return text


def check_file(data: BinaryIO, name: str, size: int) -> str:
    """The detected content type of an upload, or ValidationError('file', reason)."""
    limit = settings.COMPLAINTDESK_EVIDENCE_MAX_BYTES
    if size > limit:
        raise _refuse(
            _("%(name)s：文件过大（%(size).1f MB，上限 %(limit).0f MB）。")
            % {"name": name, "size": size / 1048576, "limit": limit / 1048576}
        )
    if size == 0:
        raise _refuse(_("%(name)s：文件是空的。") % {"name": name})
    data.seek(0)
    head = data.read(_HEAD)
    content_type = _detect(head, name)
    if content_type == "application/zip":
        data.seek(0)
        content_type = _check_zip(data if hasattr(data, "seekable") else io.BytesIO(data.read()), name)
    data.seek(0)
    return content_type
