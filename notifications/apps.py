from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """Messages to consumers and staff (e-mail, SMS, in-app) per case event, and outgoing webhooks."""

    name = "notifications"
    verbose_name = _("通知")
    default_auto_field = "django.db.models.BigAutoField"
    # A message is not a change of the case: the one event of this app is a staff "retry now", which
    # does not move the case's version (ledger.chain.NEUTRAL_PREFIXES).
    timeline_labels: dict[str, str] = {"resend_notification": _("重新发送通知")}

    # --- for the privacy app (PIPL: a person's data, and its erasure) ----------------------------

    def _opt_outs_of(self, customer: Any, hashes: set[str] | None = None) -> Any:
        from .models import OptOut

        if hashes is None:
            hashes = _address_hashes(customer)
        return OptOut.objects.filter(address_hash__in=hashes).order_by("created_at", "id")

    def personal_data(self, customer: Any) -> dict[str, Any]:
        """The messages sent to the person about their complaints, and their opt-outs."""
        from .models import Delivery

        deliveries = (
            Delivery.objects.filter(complaint__customer=customer, recipient_user__isnull=True)
            .select_related("complaint")
            .order_by("created_at", "id")
        )
        return {
            "deliveries": [
                {
                    "tracking_no": d.complaint.tracking_no,
                    "event": d.event,
                    "channel": d.channel,
                    "address": d.recipient,
                    "status": d.status,
                    "attempts": d.attempts,
                    "created_at": d.created_at.isoformat(),
                    "sent_at": d.sent_at.isoformat() if d.sent_at else None,
                }
                for d in deliveries
            ],
            "opt_outs": [
                {
                    "channel": o.channel,
                    "address": o.address,
                    "purpose": o.purpose,
                    "created_at": o.created_at.isoformat(),
                }
                for o in self._opt_outs_of(customer)
            ],
        }

    def erase_personal(self, customer: Any) -> None:
        """Blank the addresses, errors and stored values of the person's messages and the plain
        addresses of their opt-outs. The opt-outs themselves stay, keyed by the address hash: an
        erased person must not start receiving messages again."""
        from .models import Delivery

        # The keys first: the deliveries may be the last place that still holds the addresses (the
        # privacy app may have blanked the customer and the complaints before calling this hook).
        hashes = _address_hashes(customer)
        Delivery.objects.filter(complaint__customer=customer, recipient_user__isnull=True).update(
            recipient="", last_error="", context={}
        )
        self._opt_outs_of(customer, hashes).update(address="")


def _address_hashes(customer: Any) -> set[str]:
    from complaints.models import Complaint

    from .addresses import candidate_hashes
    from .choices import Channel

    emails = {customer.email} if customer.email else set()
    phones = {customer.phone} if customer.phone else set()
    for email, phone in Complaint.objects.filter(customer=customer).values_list(
        "complainant_email", "complainant_phone"
    ):
        if email:
            emails.add(email)
        if phone:
            phones.add(phone)
    addresses = {(Channel.EMAIL, e) for e in emails} | {(Channel.SMS, p) for p in phones}
    # The addresses the messages went to, in case the complaints were blanked first.
    from .models import Delivery

    addresses |= set(
        Delivery.objects.filter(complaint__customer=customer, recipient_user__isnull=True)
        .exclude(recipient="")
        .values_list("channel", "recipient")
    )
    # Under SECRET_KEY and its fallbacks, so that opt-outs keyed before a rotation are found too.
    return {digest for channel, address in addresses for digest in candidate_hashes(channel, address)}
