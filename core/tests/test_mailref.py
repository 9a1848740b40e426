"""Reply tokens in our Message-IDs (core.mailref): what proves that a mail answers ours."""

from email.utils import make_msgid

from core import mailref

LI = "li.si@example.com"


def test_our_message_id_proves_its_case_for_its_recipient_and_nothing_else(settings):
    ours = mailref.message_id("TS20261122-000001", LI)
    assert "TS20261122-000001." in ours and ours != mailref.message_id("TS20261122-000001", LI)  # unique per mail
    assert mailref.answered(LI, ours) == ["TS20261122-000001"]
    assert mailref.answered("Li.Si@Example.COM", ours) == ["TS20261122-000001"]  # addresses are normalised
    assert mailref.answered("someone.else@example.com", ours) == []
    assert mailref.answered("", ours) == []
    other = ours.replace("TS20261122-000001", "TS20261122-000002")  # the token of another case
    assert mailref.answered(LI, other) == []
    assert mailref.answered(LI, make_msgid(idstring="TS20261122-000001")) == []  # the number alone
    assert mailref.answered(LI, "", f"<a@b> {ours} <c@d>") == ["TS20261122-000001"]  # References keep a list


def test_a_token_of_a_mail_to_staff_proves_nothing_for_the_complainant():
    """Staff get mail about the case too (SLA notices); its Message-ID must not let them, or whoever
    reads their mailbox, write as the complainant."""
    to_staff = mailref.message_id("TS20261122-000001", "agent@company.example")
    assert mailref.answered(LI, to_staff) == []


def test_a_token_made_with_another_key_proves_nothing_unless_it_is_a_fallback(settings):
    original = settings.SECRET_KEY
    old = mailref.message_id("TS20261122-000003", LI)
    settings.SECRET_KEY = "a rotated key " + "y" * 40
    assert mailref.answered(LI, old) == []
    settings.SECRET_KEY_FALLBACKS = [original]
    assert mailref.answered(LI, old) == ["TS20261122-000003"]


def test_mail_from_notifications_threads_the_same_way(cast, smtp_server):
    """Every mail we send about a case (intake receipts, casework's written reply, notifications) takes
    its Message-ID from mailref.message_id, so a reply to any of them is proven."""
    from complaints import actions
    from complaints.intake import IntakeData, check_intake
    from complaints.ledgering import Actor
    from conftest import complaint_body
    from notifications.models import Delivery
    from notifications.sending import send_email

    complaint, _code = actions.submit(
        check_intake(IntakeData(**complaint_body(channel="email")), staff=True), actor=Actor.staff(cast.agent)
    )
    send_email(Delivery(complaint=complaint, recipient=LI), "subject", "body", {})
    assert mailref.answered(LI, smtp_server.messages[-1]["Message-ID"]) == [complaint.tracking_no]
