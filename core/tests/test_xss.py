"""Stored and reflected XSS (issue 9 item 5): a payload that opens a script element and breaks out of
an attribute goes into every free-text field a consumer or a staff member can set — the complaint's
text and the complainant's details, evidence names, contact summaries, notes, replies, offers and
counter-offers, findings, coordination tasks, escalation reasons, improvement plans, a mail's subject
and sender name, a staff member's name — and the pages that show them are rendered: the consumer's
receipt and status page, the staff case page and queue, the customer profile, the task and the plan,
the mail pages. Every payload must show up escaped on at least one of them and raw on none.

Each payload is numbered, so a page that lets one through names the field it came from."""

import re
from typing import Any

from django.test import Client
from django.utils import timezone

from accounts.choices import Role
from accounts.models import ApiToken, User
from complaints import actions
from complaints.ledgering import Actor
from complaints.models import Category, Complaint
from conftest import Org, make_user
from intake import inbound_mail
from intake.models import InboundMail
from investigation.models import RootCause

FIELDS: list[str] = []


def payload(field: str) -> str:
    """Breaks out of a quoted attribute, opens a script, and an image whose error runs script;
    short enough for the 64-character fields."""
    FIELDS.append(field)
    n = len(FIELDS)
    return f"\"'><script>x({n})</script><img src=x onerror=x({n})>"


RAW = re.compile(r"<script>x\((\d+)\)|<img src=x onerror=x\((\d+)\)")
ESCAPED = re.compile(r"&lt;script&gt;x\((\d+)\)&lt;/script&gt;|&lt;img src=x onerror=x\((\d+)\)&gt;")
# Stored, but shown on no page (the API and the exports carry them): nothing to render.
NOT_SHOWN = {"order_no", "staff_involved"}


class Pages:
    """The pages rendered so far: raw payloads found on them, escaped ones seen."""

    def __init__(self) -> None:
        self.raw: list[str] = []
        self.seen: set[int] = set()

    def check(self, name: str, response: Any, status: int = 200) -> str:
        assert response.status_code == status, (name, response.status_code, response.content[:300])
        html = response.content.decode()
        for match in RAW.finditer(html):
            number = int(match.group(1) or match.group(2))
            start = max(0, match.start() - 60)
            self.raw.append(f"{name}: {FIELDS[number - 1]} unescaped: …{html[start : match.end() + 20]}…")
        self.seen |= {int(a or b) for a, b in ESCAPED.findall(html)}
        return html


def broad(org: Org) -> User:
    user = make_user(
        "xss_staff",
        (Role.SUPERVISOR, org.service),
        (Role.MANAGER, org.company),
        (Role.LEGAL_PR, None),
        (Role.SUPERVISOR, org.quality),
        is_staff=True,
        given=payload("staff given name"),
    )
    return user


def public_form(**values: str) -> dict[str, Any]:
    return {
        "complainant_phone": "13900139000",
        "preferred_contact": "phone",
        "province_code": "440000",
        "city_code": "440300",
        "district_code": "440305",
        "category": "after_sales",
        "remedies_requested": ["repair"],
        "consent": "on",
        "form_token": "xss-1",
        **values,
    }


CONSUMER_TEXT_FIELDS = [
    "complainant_name",
    "complainant_address",
    "product_name",
    "product_sku",
    "product_model",
    "product_batch",
    "order_no",
    "staff_involved",
    "title",
    "description",
]


def api(token: str) -> Any:
    client = Client()

    def call(method: str, path: str, body: Any = None, status: int = 200) -> Any:
        headers = {"Authorization": f"Bearer {token}"}
        case = re.match(r"/complaints/([^/]+)/", path)
        if case:  # writes name the version they were based on
            headers["If-Match"] = f'"{Complaint.objects.get(tracking_no=case.group(1)).version}"'
        response = getattr(client, method)(
            "/api/v1" + path, body if body is not None else {}, content_type="application/json", headers=headers
        )
        assert response.status_code == status, (path, response.status_code, response.content[:400])
        return response.json()

    return call


def consumer_api(tracking_no: str, code: str) -> Any:
    client = Client()

    def call(path: str, body: Any, status: int = 200) -> Any:
        response = client.post(
            f"/api/v1/public/complaints/{tracking_no}{path}",
            body,
            content_type="application/json",
            headers={"X-Access-Code": code},
        )
        assert response.status_code == status, (path, response.status_code, response.content[:400])
        return response.json()

    return call


def test_every_free_text_field_is_escaped_wherever_it_is_shown(org, cast, settings):
    FIELDS.clear()
    pages = Pages()
    staff_user = broad(org)
    staff = Client()
    staff.force_login(staff_user)
    consumer = Client()

    # Taxonomies are data an admin edits: their names are shown with every case.
    Category.objects.filter(code="after_sales").update(name=payload("category name (admin taxonomy)"))
    root_cause = RootCause.objects.create(code="xss-cause", name=payload("root cause name (admin taxonomy)"))

    # Reflected: a refused form shows what was typed; a failed lookup shows the number; a search its query.
    form_fields = set(re.findall(r'name="(\w+)"', consumer.get("/").content.decode()))
    typed = {name: payload(f"{name} (refused form)") for name in CONSUMER_TEXT_FIELDS if name in form_fields}
    pages.check("refused public form", consumer.post("/", public_form(**typed, complainant_phone="1")), 422)
    pages.check(
        "failed status lookup", consumer.post("/status/", {"tracking_no": payload("tracking number typed")}), 404
    )
    pages.check("queue search", staff.get("/staff/", {"q": payload("queue search")}))

    # Stored, by the consumer: the public form.
    stored = {name: payload(name) for name in CONSUMER_TEXT_FIELDS}
    receipt = pages.check("receipt", consumer.post("/", public_form(**stored)), 201)
    tracking_no = re.search(r'id="tracking-no">([^<]+)<', receipt).group(1)
    code = re.search(r'id="access-code">([^<]+)<', receipt).group(1)
    complaint = Complaint.objects.get(tracking_no=tracking_no)
    actor = Actor.staff(staff_user)
    complaint = actions.accept(complaint, actor=actor)
    complaint = actions.assign(complaint, actor=actor, owner=staff_user)
    actions.start_work(complaint, actor=actor)

    # Stored, by staff, through the API (the pages call the same actions).
    _, token = ApiToken.issue(staff_user, "xss")
    call = api(token)
    case = f"/complaints/{tracking_no}"
    call("post", f"{case}/notes", {"text": payload("note"), "internal": False})
    call(
        "post",
        f"{case}/contacts",
        {
            "direction": "inbound",
            "party": "third_party",
            "third_party_kind": "carrier",
            "third_party_name": payload("contact third party name"),
            "channel": "phone",
            "occurred_at": timezone.now().isoformat(),
            "summary": payload("contact summary"),
        },
        status=201,
    )
    call("post", f"{case}/remedies", {"kind": "apology", "description": payload("remedy description")}, status=201)
    call(
        "post",
        f"{case}/findings",
        {"facts": payload("finding facts"), "root_cause": root_cause.code, "responsibility": "ours", "nature": "valid"},
        status=201,
    )
    task = call(
        "post",
        f"{case}/coordination-tasks",
        {"kind": "quality_lab_test", "department": "quality", "request": payload("task request"), "blocking": False},
        status=201,
    )
    call("post", f"{case}/escalate", {"reason": payload("escalation reason")})
    upload = Client().post(
        f"/api/v1{case}/evidence",
        {
            "file": _named_file(payload("evidence file name") + ".txt"),
            "kind": "complaint_material",
            "description": payload("evidence description"),
            "shown_to_consumer": "true",
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert upload.status_code == 201, upload.content
    call("post", f"{case}/wait-for-consumer", {"request": payload("request for information")})

    # Stored, by the consumer, through the consumer API.
    own = consumer_api(tracking_no, code)
    own("/information", {"text": payload("consumer information")})
    call("post", f"{case}/offers", {"text": payload("offer text"), "amount": "100"}, status=201)
    own("/counter-offer", {"text": payload("counter-offer text"), "amount": "300"})
    plan = call(
        "post",
        "/improvement/plans",
        {
            "title": payload("plan title"),
            "root_cause": root_cause.code,
            "action": payload("plan action"),
            "owner": staff_user.username,
            "due_in_working_days": 10,
            "expected_effect": payload("plan expected effect"),
            "tracking_numbers": [tracking_no],
        },
        status=201,
    )

    # Stored, from outside: a mail.
    mail_name, mail_subject, mail_body = payload("mail sender name"), payload("mail subject"), payload("mail body")
    raw = (
        f"From: {mail_name} <li.si@example.com>\r\nTo: complaints@example.com\r\nSubject: {mail_subject}\r\n"
        f"Message-ID: <xss@x>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{mail_body} 水壶漏电，要求退款。\r\n"
    ).encode()
    mail = inbound_mail.receive(raw, via="smtp", envelope_from="li.si@example.com")

    # The pages that show them.
    pages.check("status page", consumer.post("/status/", {"tracking_no": tracking_no, "access_code": code}))
    pages.check("case page", staff.get(f"/staff/cases/{tracking_no}/"))
    pages.check("queue", staff.get("/staff/"))
    pages.check("task", staff.get(f"/staff/investigation/tasks/{task['id']}/"))
    pages.check("tasks", staff.get("/staff/investigation/tasks/"))
    pages.check("plan", staff.get(f"/staff/improvement/plans/{plan['id']}/"))
    pages.check("plans", staff.get("/staff/improvement/plans/"))
    customer_id = Complaint.objects.get(pk=complaint.pk).customer_id
    pages.check("customer", staff.get(f"/staff/customers/{customer_id}/"))
    pages.check("customers", staff.get("/staff/customers/"))
    pages.check("mail list", staff.get("/staff/mail/"))
    pages.check("mail", staff.get(f"/staff/mail/{mail.pk}/"))
    if InboundMail.objects.get(pk=mail.pk).complaint_id:
        mailed = InboundMail.objects.get(pk=mail.pk).complaint
        pages.check("case page of the mail", staff.get(f"/staff/cases/{mailed.tracking_no}/"))

    assert not pages.raw, "\n".join(pages.raw)
    unseen = [FIELDS[n - 1] for n in range(1, len(FIELDS) + 1) if n not in pages.seen]
    unseen = [field for field in unseen if field not in NOT_SHOWN]
    assert not unseen, f"payloads not found escaped on any page (so not checked): {unseen}"


def _named_file(name: str) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, "收据：2026 年 1 月 5 日购买电热水壶。".encode(), content_type="text/plain")
