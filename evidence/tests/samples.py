"""Small files of the kinds people send, made in the test (no binary fixtures in the repository)."""

import io
import zipfile

from evidence.demo_files import pdf, png

__all__ = ["docx", "exe", "pdf", "png", "zipped"]


def exe() -> bytes:
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def docx(macro: bool = False) -> bytes:
    members = {
        "[Content_Types].xml": b"<?xml version='1.0'?><Types/>",
        "word/document.xml": b"<?xml version='1.0'?><document/>",
    }
    if macro:
        members["word/vbaProject.bin"] = b"\xd0\xcf\x11\xe0" + b"\x00" * 64
    return zipped(members)
