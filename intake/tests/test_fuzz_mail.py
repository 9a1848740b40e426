"""Fuzzing mail intake (issue 9 item 5): raw bytes → parsed mail → complaint. Generated mails with
hostile headers (encoded words in unknown charsets, broken addresses, tracking numbers), bodies in
every transfer encoding and charset, multipart trees with missing boundaries and dangerous
attachments, then damaged byte by byte. `parse` answers with a ParsedMail or refuses with
MailRefused; `receive` ends every mail as a complaint, a reply, handled or failed with a reason, and
never through the catch-all that logs an unexpected exception.

Hypothesis runs derandomized (the same mails on every run) with a bounded number of examples."""

import base64
import logging
import quopri
from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from complaints.models import Complaint
from intake import inbound_mail
from intake.models import InboundMail, InboundMailStatus

FUZZ = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)

CHARSETS = ["utf-8", "gb2312", "gbk", "gb18030", "big5", "iso-2022-jp", "iso-8859-1", "x-unknown", "", "utf-7"]
ENCODINGS = ["base64", "quoted-printable", "8bit", "7bit", "x-uuencode", "bogus"]
words = st.text(st.characters(blacklist_categories=["Cs", "Cc"]), max_size=80)
chinese = st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=1, max_size=40)
prose = st.one_of(
    words, chinese, st.sampled_from(["电热水壶漏电，要求退款。", "TS20260101-000001 回复", "<script>x</script>"])
)


def encode_text(text: str, charset: str) -> bytes:
    try:
        return text.encode(charset or "utf-8")
    except (LookupError, UnicodeEncodeError):
        return text.encode("utf-8")


@st.composite
def encoded_words(draw: st.DrawFn) -> str:
    """An RFC 2047 encoded word, sometimes in a charset nobody knows or with a broken payload."""
    charset = draw(st.sampled_from(CHARSETS)) or "utf-8"
    raw = encode_text(draw(prose), charset)
    if draw(st.booleans()):
        payload = base64.b64encode(raw).decode()
        kind = "B"
    else:
        payload = quopri.encodestring(raw, header=True).decode()
        kind = "Q"
    if draw(st.integers(0, 4)) == 0:
        payload = payload[: draw(st.integers(0, len(payload)))] + "=?="
    return f"=?{charset}?{kind}?{payload}?="


header_values = st.one_of(words, encoded_words(), chinese)
addresses = st.one_of(
    st.sampled_from(["zhang.san@example.com", "li@example.cn", "", "not an address", "a@", "@b", "<>", "x@[1.2.3.4]"]),
    st.emails().map(str),
)


def body_part(text: str, charset: str, transfer: str) -> bytes:
    raw = encode_text(text, charset)
    if transfer == "base64":
        raw = base64.encodebytes(raw)
    elif transfer == "quoted-printable":
        raw = quopri.encodestring(raw)
    params = f"; charset={charset}" if charset else ""
    return f"Content-Type: text/plain{params}\r\nContent-Transfer-Encoding: {transfer}\r\n\r\n".encode() + raw


@st.composite
def attachments(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["application/pdf", "application/octet-stream", "image/png", "message/rfc822"]))
    name = draw(st.one_of(words, encoded_words(), st.sampled_from(["发票.pdf", "setup.exe", "a/../../b.txt", ""])))
    content = draw(st.binary(max_size=300))
    if kind == "message/rfc822":
        content = b"From: x@example.com\r\nSubject: inner\r\n\r\n" + content
    return (
        f'Content-Type: {kind}; name="{name}"\r\nContent-Disposition: attachment; filename="{name}"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode() + base64.encodebytes(content)


@st.composite
def mails(draw: st.DrawFn) -> bytes:
    headers = [
        f"From: {draw(header_values)} <{draw(addresses)}>",
        "To: complaints@example.com",
        f"Subject: {draw(header_values)}",
        f"Message-ID: <{draw(st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=30))}@x>",
    ]
    for extra in draw(st.lists(st.sampled_from(["Auto-Submitted: auto-replied", "Precedence: bulk",
                                                 "X-ComplaintDesk-Tracking: TS20260101-000001",
                                                 "In-Reply-To: <TS20260101-000001@x>", "Return-Path: <>"]),
                               max_size=2)):  # fmt: skip
        headers.append(extra)
    charset, transfer = draw(st.sampled_from(CHARSETS)), draw(st.sampled_from(ENCODINGS))
    if draw(st.booleans()):
        head = "\r\n".join(headers).encode() + b"\r\n"
        body = body_part(draw(prose), charset, transfer)
    else:
        boundary = draw(st.sampled_from(["b1", "==b==", "", "x" * 80]))
        parts = [body_part(draw(prose), charset, transfer)]
        if draw(st.booleans()):
            html = f"<html><body><p>{draw(prose)}</p><script>alert(1)</script></body></html>"
            parts.append(b"Content-Type: text/html; charset=utf-8\r\n\r\n" + html.encode())
        parts += draw(st.lists(attachments(), max_size=2))
        subtype = draw(st.sampled_from(["mixed", "alternative", "related", "signed"]))
        headers.append(f'MIME-Version: 1.0\r\nContent-Type: multipart/{subtype}; boundary="{boundary}"')
        head = "\r\n".join(headers).encode() + b"\r\n"
        body = b"".join(b"\r\n--" + boundary.encode() + b"\r\n" + part for part in parts)
        if draw(st.booleans()):
            body += b"\r\n--" + boundary.encode() + b"--\r\n"  # the closing boundary, sometimes missing
    return head + body


@st.composite
def damaged(draw: st.DrawFn, data: st.SearchStrategy[bytes]) -> bytes:
    blob = bytearray(draw(data))
    for _ in range(draw(st.integers(0, 8))):
        if blob:
            blob[draw(st.integers(0, len(blob) - 1))] = draw(st.integers(0, 255))
    return bytes(blob[: draw(st.integers(1, max(1, len(blob))))]) if draw(st.booleans()) else bytes(blob)


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def unexpected_errors() -> Iterator[list[logging.LogRecord]]:
    """The ERROR records of mail intake: its catch-all logs an unexpected exception there (the
    `complaintdesk` loggers do not propagate to the root, so pytest's caplog does not see them)."""
    handler = Records()
    inbound_mail.log.addHandler(handler)
    try:
        yield handler.records
    finally:
        inbound_mail.log.removeHandler(handler)


@FUZZ
@given(raw=st.one_of(mails(), damaged(mails()), st.binary(max_size=500)))
def test_any_raw_mail_is_parsed_or_refused_with_a_reason(raw):
    try:
        parsed = inbound_mail.parse(raw, envelope_from=None)
    except inbound_mail.MailRefused as refused:
        assert str(refused)
        return
    assert isinstance(parsed.text, str) and isinstance(parsed.subject, str)
    assert all(isinstance(a.content, bytes) for a in parsed.attachments)


@settings(FUZZ, max_examples=30)
@given(raw=st.one_of(mails(), damaged(mails())))
def test_any_raw_mail_becomes_a_complaint_or_a_visible_failure(cast, raw):
    with unexpected_errors() as errors:
        mail = inbound_mail.receive(raw, via="smtp", envelope_from="relay@example.com")
    assert not errors, [record.getMessage() for record in errors]
    mail.refresh_from_db()
    assert mail.status in {
        InboundMailStatus.PARSED,
        InboundMailStatus.REPLY,
        InboundMailStatus.FAILED,
        InboundMailStatus.HANDLED,
    }
    if mail.status == InboundMailStatus.PARSED:
        complaint = Complaint.objects.get(pk=mail.complaint_id)
        assert len(complaint.description) >= 5
    if mail.status == InboundMailStatus.FAILED:
        assert mail.error.strip()


def test_a_generated_mail_does_become_a_complaint(cast):
    """The fuzzing above means something only if generated mails get through to a case."""
    raw = (
        b"From: =?gb2312?B?1cXI/Q==?= <zhang.san@example.com>\r\nTo: complaints@example.com\r\n"
        b"Subject: =?x-unknown?Q?=E6=BC=8F?=\r\nMessage-ID: <m1@x>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\n'
        + body_part("电热水壶使用三天后漏电，要求退款。", "gbk", "base64")
        + b"\r\n--b1\r\n"
        + b'Content-Type: application/octet-stream; name="setup.exe"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        + base64.encodebytes(b"MZ\x90\x00" + b"\x00" * 64)
    )
    with unexpected_errors() as errors:
        mail = inbound_mail.receive(raw, via="smtp", envelope_from="relay@example.com")
    assert not errors
    assert mail.status == InboundMailStatus.PARSED, mail.error
    complaint = Complaint.objects.get(pk=mail.complaint_id)
    assert "漏电" in complaint.description and complaint.complainant_name == "张三"
    assert InboundMail.objects.count() == 1
