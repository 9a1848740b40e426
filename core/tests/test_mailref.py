"""Reply tokens in our Message-IDs (core.mailref): what proves that a mail answers ours."""

from email.utils import make_msgid

from core import mailref


def test_our_message_id_proves_its_case_and_no_other(settings):
    ours = mailref.message_id("TS20261122-000001")
    assert "TS20261122-000001." in ours and ours != mailref.message_id("TS20261122-000001")  # unique per mail
    assert mailref.answered(ours) == ["TS20261122-000001"]
    other = ours.replace("TS20261122-000001", "TS20261122-000002")  # the token of another case
    assert mailref.answered(other) == []
    assert mailref.answered(make_msgid(idstring="TS20261122-000001")) == []  # the number alone
    assert mailref.answered("", f"<a@b> {ours} <c@d>") == ["TS20261122-000001"]  # References keep a list


def test_a_token_made_with_another_key_proves_nothing_unless_it_is_a_fallback(settings):
    old = mailref.message_id("TS20261122-000003")
    settings.SECRET_KEY = "a rotated key " + "y" * 40
    assert mailref.answered(old) == []
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY, "an older key " + "z" * 40]
    settings.SECRET_KEY = "a third key " + "w" * 40
    assert mailref.answered(mailref.message_id("TS20261122-000003")) == ["TS20261122-000003"]


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
    send_email(Delivery(complaint=complaint, recipient="li.si@example.com"), "subject", "body", {})
    assert mailref.answered(smtp_server.messages[-1]["Message-ID"]) == [complaint.tracking_no]
