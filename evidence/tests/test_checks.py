"""The type of an upload comes from its content; executables, scripts and archives holding them are
refused with the reason."""

import io

import pytest

from core.errors import ValidationError
from evidence.checks import check_file

from . import samples


def check(data: bytes, name: str) -> str:
    return check_file(io.BytesIO(data), name, len(data))


def refusal(data: bytes, name: str) -> str:
    with pytest.raises(ValidationError) as caught:
        check(data, name)
    return caught.value.errors["file"]


def test_type_is_detected_from_the_content_not_the_name():
    assert check(samples.png(), "发票.pdf") == "image/png"
    assert check(samples.pdf(), "scan.jpg") == "application/pdf"
    assert check(samples.docx(), "合同.docx").endswith("wordprocessingml.document")


def test_plain_text_in_utf8_and_gb18030_and_a_mail_message_are_accepted():
    assert check("聊天记录：商家承诺七天内退款。".encode(), "chat.txt") == "text/plain"
    assert check("聊天记录：商家承诺七天内退款。".encode("gb18030"), "chat.txt") == "text/plain"
    message = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: refund\r\n\r\nHello\r\n"
    assert check(message, "mail.eml") == "message/rfc822"


def test_an_executable_is_refused_whatever_it_is_called():
    assert "可执行文件" in refusal(samples.exe(), "photo.jpg")
    assert "可执行文件" in refusal(b"\x7fELF\x02\x01\x01" + b"\x00" * 100, "receipt.pdf")


def test_scripts_and_pages_that_carry_script_are_refused():
    assert "脚本" in refusal(b"#!/bin/sh\nrm -rf /\n", "notes.txt")
    assert "脚本" in refusal(b"alert(1)", "invoice.js")
    assert "脚本" in refusal(b"<html><body><script>alert(1)</script></body></html>", "page.txt")
    assert "脚本" in refusal(b'<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>', "pic.png")


def test_an_archive_is_looked_into():
    assert check(samples.zipped({"a.png": samples.png(), "b.pdf": samples.pdf()}), "photos.zip") == "application/zip"
    assert "可执行文件" in refusal(samples.zipped({"setup.exe": samples.exe()}), "photos.zip")
    assert "可执行文件" in refusal(samples.zipped({"readme.txt": samples.exe()}), "photos.zip")
    inner = samples.zipped({"a.png": samples.png()})
    assert "压缩文件" in refusal(samples.zipped({"inner.zip": inner}), "outer.zip")


def test_office_files_with_macros_are_refused():
    assert "宏" in refusal(samples.docx(macro=True), "合同.docm")


def test_opaque_archives_oversize_and_empty_files_are_refused(settings):
    assert "压缩文件" in refusal(b"Rar!\x1a\x07\x00" + b"\x00" * 100, "photos.rar")
    settings.COMPLAINTDESK_EVIDENCE_MAX_BYTES = 1000
    assert "过大" in refusal(b"x" * 1001, "big.txt")
    assert "空" in refusal(b"", "empty.txt")


def test_a_zip_bomb_is_refused(settings):
    bomb = samples.zipped({"zeros.txt": b"0" * 5_000_000})
    assert "过大" in refusal(bomb, "bomb.zip")


def test_unknown_binary_content_is_refused_with_the_reason():
    assert "无法识别" in refusal(bytes(range(256)) * 4, "data.bin.dat")


def test_an_oversized_request_is_refused_before_it_is_read(db, settings):
    from django.test import Client

    from core.middleware import max_request_bytes

    settings.COMPLAINTDESK_ATTACHMENTS_MAX = 2
    settings.COMPLAINTDESK_EVIDENCE_MAX_BYTES = 1024
    response = Client().generic(
        "POST", "/", b"x", content_type="multipart/form-data; boundary=x", CONTENT_LENGTH=str(max_request_bytes() + 1)
    )
    assert response.status_code == 413 and response.json()["error"] == "too_large"


def test_an_office_document_is_checked_inside_like_any_archive():
    content_types = b"<?xml version='1.0'?><Types/>"
    document = {"[Content_Types].xml": content_types, "word/document.xml": b"<document/>"}
    assert check(samples.zipped(document), "ok.docx").endswith("wordprocessingml.document")
    assert "可执行文件" in refusal(samples.zipped({**document, "word/evil.exe": samples.exe()}), "x.docx")
    inner = samples.zipped({"a.png": samples.png()})
    assert "压缩文件" in refusal(samples.zipped({**document, "word/inner.zip": inner}), "x.docx")
    assert "过大" in refusal(samples.zipped({**document, "word/zeros.bin": b"0" * 5_000_000}), "x.docx")
