"""Fuzzing the evidence checks (issue 9 item 5): whatever bytes and names arrive, `check_file` answers
with an accepted content type or refuses with ValidationError('file', reason), never crashes; and
the refusals the design promises hold on generated input: executables and scripts whatever their
name, archives inside archives, executables inside archives.

Hypothesis runs derandomized (the same cases on every run) with a bounded number of examples."""

import io
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import ValidationError
from evidence import checks

# Generated member names repeat now and then; a ZIP may hold a name twice (the checks read each entry).
pytestmark = pytest.mark.filterwarnings("ignore:Duplicate name:UserWarning")

FUZZ = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

EXECUTABLE_HEADS = [b"MZ\x90\x00", b"\x7fELF\x02\x01", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe"]
# The starts of what people send and of what they must not: each steers `filetype` and the checks.
HEADS = [
    *EXECUTABLE_HEADS,
    b"%PDF-1.4\n",
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    b"GIF89a",
    b"PK\x03\x04",
    b"Rar!\x1a\x07\x00",
    b"7z\xbc\xaf\x27\x1c",
    b"\x1f\x8b\x08",
    b"BZh91AY&SY",
    b"\xfd7zXZ\x00",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
    b"\x00asm\x01\x00\x00\x00",
    b"#!/bin/sh\n",
    b"<!DOCTYPE html><script>",
    b"<svg onload=alert(1)>",
    b"<?php ",
    b"From: a@example.com\nSubject: \xe6\xbc\x8f\xe7\x94\xb5\n\n",
    b"ID3\x03\x00",
    b"RIFF\x24\x00\x00\x00WAVEfmt ",
    b"\x1aE\xdf\xa3",
    b"\x00\x00\x00\x18ftypmp42",
    "投诉材料：水壶漏电".encode(),
    "投诉材料：水壶漏电".encode("gb18030"),
    b"",
]
SUFFIXES = ["", ".pdf", ".jpg", ".txt", ".zip", ".docx", ".exe", ".js", ".html", ".svg", ".sh", ".PDF.exe", ".eml"]
DANGEROUS = {"exe", "js", "html", "svg", "sh"}
ACCEPTED_TYPES = checks._ACCEPTED | {"text/plain", "message/rfc822", "application/zip", *checks._OOXML.values()}
ACCEPTED_TYPES.add("application/vnd.oasis.opendocument")

names = st.builds(
    lambda stem, suffix: stem + suffix,
    st.text(st.characters(blacklist_categories=["Cs"]), max_size=40),
    st.sampled_from(SUFFIXES),
)
contents = st.builds(lambda head, rest: head + rest, st.sampled_from(HEADS), st.binary(max_size=600))


def zipped(members: list[tuple[str, bytes]], compression: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members:
            archive.writestr(name or "member", data)
    return buffer.getvalue()


member_names = st.builds(
    lambda stem, suffix: stem + suffix,
    st.text(st.characters(min_codepoint=32, max_codepoint=0x9FFF, blacklist_categories=["Cs"]), max_size=20),
    st.sampled_from(SUFFIXES),
)
archives = st.builds(
    zipped,
    st.lists(st.tuples(member_names, contents), min_size=1, max_size=4),
    st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]),
)


@st.composite
def damaged(draw: st.DrawFn, data: st.SearchStrategy[bytes]) -> bytes:
    """Bytes with some flipped and the end cut off: what a broken upload or a crafted file looks like."""
    blob = bytearray(draw(data))
    for _ in range(draw(st.integers(0, 6))):
        if blob:
            blob[draw(st.integers(0, len(blob) - 1))] = draw(st.integers(0, 255))
    cut = draw(st.integers(0, len(blob)))
    return bytes(blob[: max(cut, 1)]) if draw(st.booleans()) else bytes(blob)


def verdict(data: bytes, name: str) -> str | None:
    """The accepted content type, or None when refused; anything else raised is a crash."""
    try:
        content_type = checks.check_file(io.BytesIO(data), name, len(data))
    except ValidationError as refusal:
        assert list(refusal.errors) == ["file"] and refusal.errors["file"], refusal.errors
        return None
    assert content_type in ACCEPTED_TYPES, content_type
    return content_type


@FUZZ
@given(data=st.one_of(contents, st.binary(max_size=2000), archives, damaged(archives), damaged(contents)), name=names)
def test_any_upload_is_accepted_with_its_type_or_refused_with_a_reason(data, name):
    verdict(data, name)


@FUZZ
@given(head=st.sampled_from(EXECUTABLE_HEADS), rest=st.binary(max_size=300), name=names)
def test_an_executable_is_refused_whatever_its_name(head, rest, name):
    assert verdict(head + rest, name) is None


@FUZZ
@given(data=contents, stem=st.text(max_size=20), suffix=st.sampled_from(sorted(DANGEROUS)))
def test_a_dangerous_name_is_refused_whatever_the_content(data, stem, suffix):
    assert verdict(data, f"{stem}.{suffix}") is None


@FUZZ
@given(
    members=st.lists(st.tuples(member_names, contents), max_size=3),
    smuggled=st.one_of(
        st.builds(lambda head, rest: head + rest, st.sampled_from(EXECUTABLE_HEADS), st.binary(max_size=100)),
        archives,
    ),
    position=st.integers(0, 3),
    compression=st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]),
)
def test_an_archive_holding_an_executable_or_another_archive_is_refused(members, smuggled, position, compression):
    members.insert(min(position, len(members)), ("inner.dat", smuggled))
    assert verdict(zipped(members, compression), "evidence.zip") is None
