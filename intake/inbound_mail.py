"""Mail in: a message received by SMTP or fetched by IMAP becomes a complaint, or goes into the
contact log of the case it answers.

The raw message is stored first (content-addressed, in the evidence store) and recorded as an
`InboundMail`, before anything is parsed: a mail that cannot be parsed loses nothing and waits for
an agent (status `failed`, with the reason). Then, in one transaction per mail:
- a reply (In-Reply-To or References naming one of our mails about a case, with its reply token
  (core.mailref), from the case's own complainant e-mail) → a consumer message on that case, the raw
  mail and its attachments as evidence;
- a mail that names a case (a tracking number in X-ComplaintDesk-Tracking, the subject or the
  references) from its complainant's address, but without the token → waits for an agent, who
  confirms it into the case or not: a From address proves nothing, and such a mail would otherwise
  put words in the complainant's mouth;
- anything else → a new complaint (channel e-mail), the raw mail as communication evidence, each
  attachment as complaint material (a refused one is noted on the case and stops nothing), and the
  receipt mailed to the sender;
- auto-replies, bounces and list mail are never answered: stored as handled."""

import codecs
import email
import email.errors
import email.header
import email.utils
import logging
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import timedelta
from email import policy
from email.message import EmailMessage, Message
from typing import Any

from bs4 import BeautifulSoup
from charset_normalizer import from_bytes
from django.conf import settings
from django.core.mail import EmailMessage as OutgoingMail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import ValidationError as PydanticValidationError

from accounts.choices import Role
from accounts.models import Notification, User
from complaints import actions, routing
from complaints.choices import Channel, PreferredContact, Status
from complaints.intake import DESCRIPTION_MAX, IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Complaint, ComplaintMessage
from core import mailref
from core.api_errors import translate
from core.errors import DomainError, TransitionNotAllowed, ValidationError
from core.validation import CONTROL, TRACKING_NO
from customers.normalise import normalise_email
from evidence import store
from evidence.actions import add_evidence
from evidence.choices import EvidenceKind, Via

from .mail import send_receipt_after_commit
from .models import InboundMail, InboundMailStatus
from .webhooks import ChannelActor

log = logging.getLogger("complaintdesk.mail_intake")

MAIL_ACTOR_LABEL = "mail"
TRACKING_HEADER = "X-ComplaintDesk-Tracking"
# A mail still `new` this long after it arrived was interrupted while being processed.
STALE_AFTER = timedelta(minutes=10)
MESSAGE_MAX = 10_000  # ComplaintMessage text, as add_note / add_information

# Charsets that mail programs name but mean something larger (GB2312 mail is nearly always GBK).
_CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "hz-gb-2312": "hz",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "ks_c_5601-1987": "cp949",
    "unicode-1-1-utf-7": "utf-7",
}
_BROKEN_STRUCTURE = {
    "NoBoundaryInMultipartDefect",
    "StartBoundaryNotFoundDefect",
    "CloseBoundaryNotFoundDefect",
    "MultipartInvariantViolationDefect",
    "MissingHeaderBodySeparatorDefect",
}
_AUTOMATED_LOCAL_PARTS = {"mailer-daemon", "postmaster", "noreply", "no-reply", "do-not-reply", "donotreply"}
# Where a reply's quoted history starts (the receipt quoted back would carry the access code).
_QUOTE_START = re.compile(
    r"^\s*(?:-{2,}\s*(?:Original Message|原始邮件|Forwarded message|转发邮件)\s*-{2,}"
    r"|On .{1,200} wrote:\s*$|在\s*.{1,200}(?:写道|寫道)[:：]\s*$|(?:From|发件人|寄件者)[:：].*)",
    re.IGNORECASE,
)
_ACCESS_CODE_LINE = re.compile(r"(查询码|access code)\s*[:：]\s*[A-Za-z0-9-]{6,}", re.IGNORECASE)


class MailRefused(Exception):
    """The mail cannot become a complaint or a reply; the message says why, for the agent."""


@dataclass
class Attachment:
    filename: str
    content: bytes
    content_type: str


@dataclass
class ParsedMail:
    message_id: str = ""
    from_address: str = ""
    from_name: str = ""
    subject: str = ""
    text: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    tracking_numbers: list[str] = field(default_factory=list)
    answered: list[str] = field(default_factory=list)  # numbers whose reply token the references carry
    automated: str = ""  # why it is an auto-reply, a bounce or list mail; empty for a person's mail
    broken: str = ""  # the MIME structure is damaged: what the parser found
    notes: list[str] = field(default_factory=list)  # what was noticed: charset guessed, text cut


# --- decoding ---------------------------------------------------------------------------------


def guess_charset(data: bytes) -> str | None:
    """The charset of undeclared bytes. Chinese charsets are tried first: short GBK text is easily
    taken for Korean or Japanese by general detection, and Chinese mail is what arrives here."""
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(data, cp_isolation=["gb18030", "big5hkscs"]).best() or from_bytes(data).best()
    return best.encoding if best is not None else None


def decode_bytes(data: bytes, charset: str | None) -> tuple[str, str]:
    """Text from bytes in a declared charset, with fallbacks; (text, note for the agent or "")."""
    note = ""
    if charset:
        name = _CHARSET_ALIASES.get(charset.strip().lower(), charset.strip().lower())
        try:
            codecs.lookup(name)
        except LookupError:
            note = _("未知字符集 %(charset)s，已自动识别。") % {"charset": charset[:40]}
        else:
            try:
                return data.decode(name), ""
            except UnicodeDecodeError:
                note = _("内容与声明的字符集 %(charset)s 不符，已自动识别。") % {"charset": charset[:40]}
    guessed = guess_charset(data)
    if guessed == "utf-8":
        return data.decode("utf-8"), note
    if guessed is not None:
        return data.decode(guessed, errors="replace"), note or _("未声明字符集，已自动识别为 %(charset)s。") % {
            "charset": guessed
        }
    return data.decode("utf-8", errors="replace"), _("无法识别字符集，无法解码的字符已替换为 �。")


def _eight_bit(value: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in value)


def decode_header_value(raw: Any, hint: str | None = None) -> str:
    """A header as text: RFC 2047 encoded words in any charset, or raw 8-bit bytes (no encoding
    declared) recovered in the `hint` charset or detected."""
    if raw is None:
        return ""
    value = str(raw)
    if _eight_bit(value):
        text, _note = decode_bytes(value.encode("ascii", "surrogateescape"), hint)
    else:
        try:
            chunks = email.header.decode_header(value)
        # A malformed encoded word (a broken base64 payload is a HeaderParseError): keep it as it stands.
        except (ValueError, LookupError, email.errors.HeaderParseError):
            chunks = [(value, None)]
        text = "".join(
            chunk if isinstance(chunk, str) else decode_bytes(chunk, charset)[0] for chunk, charset in chunks
        )
    return " ".join(CONTROL.sub("", text).split())


def _header_hint(message: Message) -> str | None:
    """The charset of raw 8-bit headers: the one the body declares (a program that writes raw
    headers writes them in its own charset), else guessed from all raw bytes of the mail together
    (a four-byte name alone is too little to tell GBK from Big5)."""
    cached = getattr(message, "_complaintdesk_hint", False)
    if cached is not False:
        return cached
    raw_values = [str(v) for _k, v in message.raw_items() if _eight_bit(str(v))]
    hint = None
    if raw_values:
        text_part = next((p for p in message.walk() if p.get_content_maintype() == "text"), None)
        hint = text_part.get_content_charset() if text_part is not None else None
        if hint is None:
            sample = b"".join(v.encode("ascii", "surrogateescape") for v in raw_values)
            payload = text_part.get_payload(decode=True) if text_part is not None else None
            hint = guess_charset(sample + (payload if isinstance(payload, bytes) else b""))
    message._complaintdesk_hint = hint  # type: ignore[attr-defined]
    return hint


def _raw_header(message: Message, name: str) -> str:
    for key, value in message.raw_items():
        if key.lower() == name.lower():
            return decode_header_value(value, _header_hint(message))
    return ""


def html_to_text(html: str) -> str:
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "head", "title"]):
        tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    return soup.get_text("\n")


def clean_text(text: str) -> str:
    text = CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [line.rstrip() for line in text.split("\n")]
    # At most one empty line in a row.
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    return "\n".join(kept).strip()


def reply_text(text: str) -> str:
    """What the consumer wrote in a reply: quoted history cut off, an access code never kept."""
    kept = []
    for line in text.split("\n"):
        if _QUOTE_START.match(line):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    return clean_text(_ACCESS_CODE_LINE.sub(lambda m: m.group(1) + "：***", "\n".join(kept)))


# --- parsing ------------------------------------------------------------------------------------


def _address(message: Message, envelope_from: str | None) -> tuple[str, str]:
    """(address, display name) of the sender: the From header, else the envelope sender."""
    raw = _raw_header(message, "From")
    pairs = email.utils.getaddresses([raw]) if raw else []
    for name, address in pairs:
        if "@" in address:
            return address.strip(), name.strip()
    if envelope_from and "@" in envelope_from:
        return envelope_from.strip(), ""
    return "", ""


def _automated(message: Message, from_address: str, envelope_from: str | None) -> str:
    auto_submitted = _raw_header(message, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"
    precedence = _raw_header(message, "Precedence").lower()
    if precedence in {"bulk", "list", "junk", "auto_reply"}:
        return f"Precedence: {precedence}"
    for name in ("X-Autoreply", "X-Autorespond", "List-Id", "List-Unsubscribe"):
        if _raw_header(message, name):
            return name
    if message.get_content_type() == "multipart/report":
        return "multipart/report"
    if envelope_from == "":
        return _("退信（空的信封发件人）")
    if from_address.partition("@")[0].lower() in _AUTOMATED_LOCAL_PARTS:
        return from_address
    if normalise_email(from_address) == normalise_email(settings.DEFAULT_FROM_EMAIL.rpartition("<")[2].strip(">")):
        return _("本系统自己发出的邮件")
    return ""


def _part_text(part: Message, notes: list[str]) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    text, note = decode_bytes(payload, part.get_content_charset())
    if note:
        notes.append(note)
    return text


def _attachments(message: Message, skip: list[Message], notes: list[str]) -> list[Attachment]:
    found: list[Attachment] = []

    def visit(part: Message) -> None:
        if any(part is s for s in skip):
            return
        content_type = part.get_content_type()
        if content_type == "message/rfc822":  # a forwarded mail: kept whole
            inner = part.get_payload()
            data = inner[0].as_bytes() if isinstance(inner, list) and inner else b""
            name = decode_header_value(part.get_filename()) or f"forwarded-{len(found) + 1}.eml"
            found.append(Attachment(name, data, content_type))
            return
        if part.is_multipart():
            for sub in part.get_payload():
                visit(sub)
            return
        if part.get_content_maintype() == "multipart":
            return  # a multipart whose parts could not be found (broken boundary): only in the raw mail
        filename = decode_header_value(part.get_filename())
        if content_type.startswith("text/") and not filename and part.get_content_disposition() != "attachment":
            return  # an alternative rendering of the body (it is in the raw mail)
        data = part.get_payload(decode=True) or b""
        if not data:
            notes.append(_("附件“%(name)s”为空，已忽略。") % {"name": filename or content_type})
            return
        if not filename:
            filename = f"attachment-{len(found) + 1}{mimetypes.guess_extension(content_type) or '.bin'}"
        found.append(Attachment(filename, data, content_type))

    visit(message)
    return found


def parse(raw: bytes, envelope_from: str | None = None) -> ParsedMail:
    """The parts of a mail that matter here; MailRefused when it is not a mail at all."""
    if not raw.strip():
        raise MailRefused(_("邮件为空。"))
    message = email.message_from_bytes(raw, policy=policy.default)
    if not list(message.keys()):
        raise MailRefused(_("不是邮件格式：没有邮件头。"))
    parsed = ParsedMail()
    parsed.message_id = _raw_header(message, "Message-ID")[:255]
    parsed.subject = _raw_header(message, "Subject")
    parsed.from_address, parsed.from_name = _address(message, envelope_from)
    parsed.automated = _automated(message, parsed.from_address, envelope_from)
    defects = {type(d).__name__ for part in message.walk() for d in part.defects}
    if defects & _BROKEN_STRUCTURE:
        parsed.broken = _("MIME 结构损坏（%(defects)s）。") % {"defects": ", ".join(sorted(defects))}
        parsed.notes.append(parsed.broken)
    for name in (TRACKING_HEADER, "Subject", "In-Reply-To", "References"):
        for number in TRACKING_NO.findall(_raw_header(message, name)):
            if number not in parsed.tracking_numbers:
                parsed.tracking_numbers.append(number)
    parsed.answered = mailref.answered(
        parsed.from_address, _raw_header(message, "In-Reply-To"), _raw_header(message, "References")
    )
    skip: list[Message] = []
    if isinstance(message, EmailMessage):
        plain = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
    else:  # pragma: no cover - the default policy always makes EmailMessage
        plain = html = None
    text = ""
    if plain is not None:
        skip.append(plain)
        text = clean_text(_part_text(plain, parsed.notes))
    if html is not None:
        skip.append(html)
        if not text:
            text = clean_text(html_to_text(_part_text(html, parsed.notes)))
    if plain is None and html is None and not message.is_multipart() and message.get_content_maintype() == "text":
        skip.append(message)  # text/enriched and the like: read as plain text
        text = clean_text(_part_text(message, parsed.notes))
    parsed.text = text
    parsed.attachments = _attachments(message, skip, parsed.notes)
    return parsed


# --- receiving ----------------------------------------------------------------------------------


def receive(
    raw: bytes, *, via: str = "smtp", envelope_from: str | None = None, recipients: tuple[str, ...] | list[str] = ()
) -> InboundMail:
    """Keep the raw mail, then turn it into a complaint or a reply. Raises only when the raw mail
    could not be stored (the sender should try again later); any other problem ends as a `failed`
    InboundMail for an agent."""
    sha256, size = store.put(raw)
    mail = InboundMail.objects.filter(raw_sha256=sha256).first()
    interrupted = (
        mail is not None and mail.status == InboundMailStatus.NEW and mail.received_at < timezone.now() - STALE_AFTER
    )
    if mail is not None and not interrupted:
        log.info("mail %s received again; kept once", sha256[:12])
        return mail
    if mail is None:
        try:
            with transaction.atomic():
                mail = InboundMail.objects.create(
                    raw_sha256=sha256,
                    size=size,
                    via=via,
                    # "<>" is the null sender of bounces; "" means not known (IMAP).
                    envelope_from="<>" if envelope_from == "" else (envelope_from or "")[:254],
                    recipients=", ".join(recipients)[:1000],
                )
        except IntegrityError:  # the same mail arrived through another path at the same moment
            return InboundMail.objects.get(raw_sha256=sha256)
    process(mail, raw)
    mail.refresh_from_db()
    return mail


def envelope_sender(mail: InboundMail) -> str | None:
    """The SMTP envelope sender: "" for the null sender (a bounce), None when not known."""
    if mail.envelope_from == "<>":
        return ""
    return mail.envelope_from or None


def process(mail: InboundMail, raw: bytes) -> None:
    try:
        parsed = parse(raw, envelope_sender(mail))
    except MailRefused as exc:
        _fail(mail, str(exc))
        return
    except Exception as exc:  # the parser's own failure on hostile input
        log.exception("mail %s could not be parsed", mail.pk)
        _fail(mail, _("无法解析邮件：%(error)s") % {"error": type(exc).__name__})
        return
    InboundMail.objects.filter(pk=mail.pk).update(
        message_id=parsed.message_id,
        from_address=parsed.from_address[:254],
        subject=parsed.subject[:300],
    )
    if parsed.automated:
        InboundMail.objects.filter(pk=mail.pk).update(
            status=InboundMailStatus.HANDLED,
            handled_at=timezone.now(),
            error=_("自动回复、退信或群发邮件，不予答复：%(why)s") % {"why": parsed.automated},
        )
        return
    if not parsed.from_address:
        _fail(mail, _("没有发件人地址。"), parsed)
        return
    try:
        case = _case_answered(parsed)
        if case is not None:
            record_reply(mail, raw, parsed, case)
        else:
            _register(mail, raw, parsed)
    except MailRefused as exc:
        _fail(mail, str(exc), parsed)
    except ValidationError as exc:
        _fail(mail, "；".join(f"{f}: {m}" for f, m in exc.errors.items()), parsed)
    except DomainError as exc:
        _fail(mail, str(exc), parsed)
    except Exception as exc:
        log.exception("mail %s could not be processed", mail.pk)
        _fail(mail, _("处理时出错：%(error)s") % {"error": type(exc).__name__}, parsed)


def surviving(complaint: Complaint) -> Complaint:
    """A merged duplicate's messages go to the case it was merged into."""
    for _hop in range(5):
        if complaint.status != Status.MERGED or complaint.merged_into_id is None:
            break
        complaint = Complaint.objects.get(pk=complaint.merged_into_id)
    return complaint


def _case_answered(parsed: ParsedMail) -> Complaint | None:
    """The case this mail answers: it names the case, comes from its complainant's own address, and
    answers one of our mails about it (the reply token). A number from anyone else never attaches a
    mail to that case; one from the complainant's address without the token waits for an agent
    (MailRefused), because a From address is easily forged."""
    sender = normalise_email(parsed.from_address)
    unproven, others = "", []
    # Numbers the reply token proves come first: a reply to one case that names another is that reply.
    for number in sorted(parsed.tracking_numbers, key=lambda n: n not in parsed.answered):
        complaint = Complaint.objects.filter(tracking_no=number).first()
        if complaint is None:
            continue
        if not (sender and complaint.complainant_email and normalise_email(complaint.complainant_email) == sender):
            others.append(number)
            continue
        if number not in parsed.answered:
            unproven = unproven or number
            continue
        return surviving(complaint)
    if unproven:
        raise MailRefused(
            _(
                "来信提到投诉编号 %(no)s，发件地址与投诉人一致，但不是对我方邮件的回复，"
                "无法确认是投诉人本人所写；请核实后归入该投诉。"
            )
            % {"no": unproven}
        )
    for number in others:
        parsed.notes.append(
            _("邮件提到投诉编号 %(no)s，但发件人不是该投诉的投诉人，已作为新投诉处理。") % {"no": number}
        )
    return None


def _attach(complaint: Complaint, raw: bytes, parsed: ParsedMail, actor: Actor) -> list[str]:
    """The raw mail as communication evidence, each attachment as complaint material; the reasons
    of refused attachments are returned (they stop nothing)."""
    add_evidence(
        complaint,
        content=raw,
        filename=f"mail-{timezone.now():%Y%m%d%H%M%S}.eml",
        kind=EvidenceKind.COMMUNICATION,
        actor=actor,
        via=Via.MAIL,
        description=_("原始邮件：%(subject)s") % {"subject": parsed.subject[:200]},
        raw_message=True,
    )
    refused = []
    for attachment in parsed.attachments:
        try:
            add_evidence(
                complaint,
                content=attachment.content,
                filename=attachment.filename,
                kind=EvidenceKind.COMPLAINT_MATERIAL,
                actor=actor,
                via=Via.MAIL,
                description=_("邮件附件"),
                shown_to_consumer=True,
            )
        except ValidationError as exc:
            reason = "；".join(str(m) for m in exc.errors.values())
            refused.append(
                _("附件“%(name)s”未被接收：%(reason)s（原件保存在原始邮件中）")
                % {"name": attachment.filename.replace("@", "＠")[:100], "reason": reason}
            )
    return refused


def _register(mail: InboundMail, raw: bytes, parsed: ParsedMail) -> None:
    text = parsed.text
    if len(text) > DESCRIPTION_MAX:
        text = text[:DESCRIPTION_MAX]
        parsed.notes.append(_("正文超过 %(n)d 字，已截断；全文见原始邮件。") % {"n": DESCRIPTION_MAX})
    if not text and parsed.broken:
        raise MailRefused(_("无法读出邮件正文：%(why)s") % {"why": parsed.broken})
    if not text:
        raise MailRefused(_("邮件没有正文，无法登记为投诉。"))
    if len(text) < 5:
        raise MailRefused(_("邮件正文过短（至少 5 个字），无法登记为投诉。"))
    try:
        data = IntakeData.model_validate(
            {
                "channel": Channel.EMAIL,
                "complainant_email": parsed.from_address,
                "complainant_name": parsed.from_name[:100],
                "preferred_contact": PreferredContact.EMAIL,
                "title": parsed.subject[:200],
                "description": text,
                "language": "zh-hans" if re.search(r"[\u4e00-\u9fff]", text + parsed.subject) else "en",
            }
        )
    except PydanticValidationError as exc:
        raise MailRefused("；".join(f"{e['field']}: {e['message']}" for e in translate(exc.errors()))) from exc
    check_intake(data, staff=True)
    actor = ChannelActor(MAIL_ACTOR_LABEL)

    def attach(complaint: Complaint, access_code: str) -> None:
        # In the case's own transaction: the case, its evidence and the mail's status, or nothing.
        notes = parsed.notes + _attach(complaint, raw, parsed, actor)
        if notes:
            actions.add_note(complaint, actor=actor, text="\n".join(notes), internal=True)
        InboundMail.objects.filter(pk=mail.pk).update(
            status=InboundMailStatus.PARSED, complaint=complaint, error="\n".join(notes)
        )

    complaint, access_code = actions.submit(data, actor=actor, also=attach)
    send_receipt_after_commit(complaint, access_code)


def record_reply(
    mail: InboundMail, raw: bytes, parsed: ParsedMail, case: Complaint, actor: Actor | None = None
) -> None:
    """The mail as the complainant's message on the case: by the mail channel for a proven reply, or
    by the agent who confirmed a mail that waited (intake/views_mail.mail_handle)."""
    text = reply_text(parsed.text)
    if not text:
        text = _("（来信没有正文，见附件）") if parsed.attachments else _("（来信没有正文）")
    if len(text) > MESSAGE_MAX:
        text = text[:MESSAGE_MAX]
        parsed.notes.append(_("正文超过 %(n)d 字，已截断；全文见原始邮件。") % {"n": MESSAGE_MAX})
    held = ""
    if actor is None:
        actor = ChannelActor(MAIL_ACTOR_LABEL)
    else:  # an agent files a mail that waited: the reason it waited stays on the mail, the sender on the case
        held = mail.error
        parsed.notes.insert(
            0,
            _("发件人 %(sender)s 的来信，由工作人员核实后作为投诉人来信归入。")
            % {"sender": parsed.from_address or "?"},
        )
    with transaction.atomic():
        try:
            record_consumer_mail(case, actor=actor, text=text, subject=parsed.subject)
        except TransitionNotAllowed as exc:
            raise MailRefused(
                _("投诉 %(no)s 当前状态（%(state)s）下不能归入来信。") % {"no": case.tracking_no, "state": exc.state}
            ) from exc
        notes = parsed.notes + _attach(case, raw, parsed, actor)
        _log_contact(case, actor, text)
        if notes:
            actions.add_note(case, actor=actor, text="\n".join(notes), internal=True)
        InboundMail.objects.filter(pk=mail.pk).update(
            status=InboundMailStatus.REPLY, complaint=case, error="\n".join([*([held] if held else []), *notes])[:5000]
        )


def _log_contact(case: Complaint, actor: Actor, text: str) -> None:
    """The reply in the case's contact log (casework): an inbound e-mail from the consumer, with the raw
    mail just stored (_attach) linked as its evidence."""
    from casework.actions import SUMMARY_MAX, add_contact
    from evidence.models import Evidence

    raw_mail = (
        Evidence.objects.filter(complaint=case, via=Via.MAIL, content_type="message/rfc822").order_by("-pk").first()
    )
    summary = text if len(text) >= 2 else _("（来信：%(text)s）") % {"text": text}
    add_contact(
        case,
        actor=actor,
        direction="inbound",
        party="consumer",
        channel="email",
        occurred_at=timezone.now(),
        summary=summary[:SUMMARY_MAX],
        evidence=raw_mail,
        via=Via.MAIL,
    )


def record_consumer_mail(complaint: Complaint, *, actor: Actor, text: str, subject: str = "") -> Complaint:
    """The consumer's mail into the contact log: a consumer message (not internal), through the same
    lock-check-record path as every action ("add_note" in the ledger, by the mail channel, or by the
    agent who confirmed it). It never moves the case: the owner (told by a notification) resumes the
    clock or answers."""

    def change(c: Complaint, now: Any) -> dict[str, Any]:
        ComplaintMessage.objects.create(complaint=c, author_kind="consumer", internal=False, body=text)
        recipients = [c.owner] if c.owner_id else actions._supervisors(c)
        actions._notify(recipients, c, "consumer_mail", _("投诉人来信：投诉 %(no)s。") % {"no": c.tracking_no})
        return {"public_note": text, "_data": {"via": "mail", "subject_present": bool(subject)}}

    return actions._run(complaint, actor, "add_note", change)


def _fail(mail: InboundMail, reason: str, parsed: ParsedMail | None = None) -> None:
    notes = "\n".join([reason, *(n for n in (parsed.notes if parsed else []) if n not in reason)])
    InboundMail.objects.filter(pk=mail.pk).update(status=InboundMailStatus.FAILED, error=notes[:5000])
    log.warning("inbound mail %s failed: %s", mail.pk, reason)
    _notify_desk(_("一封来信未能自动登记，请在“待处理来信”中查看：%(reason)s") % {"reason": reason[:300]})
    if parsed is not None and parsed.from_address and settings.COMPLAINTDESK_MAIL_INTAKE_NOTIFY_SENDER:
        _tell_sender(parsed, reason)


def _notify_desk(message: str) -> None:
    """Agents and supervisors of the default department, where new complaints arrive."""
    department = routing.default_department()
    if department is None:
        return
    users = User.objects.filter(
        is_active=True, memberships__department=department, memberships__role__in=[Role.AGENT, Role.SUPERVISOR]
    ).distinct()
    Notification.objects.bulk_create(
        [Notification(recipient=u, kind="inbound_mail_failed", message=message[:500]) for u in users]
    )


def _tell_sender(parsed: ParsedMail, reason: str) -> None:
    """A short answer to a person whose mail could not be registered (never to automated mail)."""
    subject = _("您的来信未能自动登记：%(subject)s") % {"subject": parsed.subject[:100]}
    body = _(
        "您好，我们收到了您的邮件，但未能自动登记为投诉：%(reason)s\n\n"
        "邮件已保存，工作人员会尽快查看。您也可以补充内容后重新发送，或在我们的网站上提交投诉。"
    ) % {"reason": reason}
    headers = {"Auto-Submitted": "auto-replied"}  # RFC 3834: other robots must not answer this
    if parsed.message_id:
        headers["In-Reply-To"] = parsed.message_id
    message = OutgoingMail(subject, body, settings.DEFAULT_FROM_EMAIL, [parsed.from_address], headers=headers)
    transaction.on_commit(lambda: _send_quietly(message))


def _send_quietly(message: OutgoingMail) -> None:
    try:
        message.send(fail_silently=False)
    except Exception:
        log.exception("notice to the sender of a failed mail could not be sent")


def pending() -> Any:
    """Mails an agent has to look at: failed, or interrupted while being processed."""
    from django.db.models import Q

    stale = timezone.now() - STALE_AFTER
    return InboundMail.objects.filter(
        Q(status=InboundMailStatus.FAILED) | Q(status=InboundMailStatus.NEW, received_at__lt=stale)
    )
