from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    """Customer profiles (客户档案): matching, orders and service records, value tier, churn risk,
    care actions (关怀)."""

    name = "customers"
    verbose_name = _("客户档案")
    default_auto_field = "django.db.models.BigAutoField"
    # Labels of this app's ledger actions on the case timeline (complaints.views.case reads them).
    timeline_labels: dict[str, Any] = {
        "care_create": _("创建关怀任务"),
        "care_done": _("关怀任务完成"),
        "care_cancel": _("关怀任务取消"),
    }

    def personal_data(self, customer: Any) -> dict[str, Any]:
        """What this app holds about a person, for the privacy app's export (PIPL): the profile's own
        fields, orders, service records, care actions, the value tier and the churn score with its
        factors."""
        from . import churn, tiers
        from .selectors import care_json

        tier = tiers.tier_of(customer.pk)
        risk = churn.churn_of(customer.pk)
        return {
            "customer": {
                "id": customer.pk,
                "customer_no": customer.customer_no,
                "name": customer.name,
                "phone": customer.phone,
                "email": customer.email,
                "address": customer.address,
                "id_number": customer.id_number,
                "created_at": customer.created_at.isoformat(),
            },
            "orders": [
                {
                    "order_no": o.order_no,
                    "ordered_at": o.ordered_at.isoformat(),
                    "product_name": o.product_name,
                    "product_sku": o.product_sku,
                    "quantity": o.quantity,
                    "amount": str(o.amount),
                    "currency": o.currency,
                    "channel": o.channel,
                    "source": o.source,
                }
                for o in customer.orders.all()
            ],
            "service_records": [
                {
                    "reference": s.reference,
                    "kind": s.kind,
                    "occurred_at": s.occurred_at.isoformat(),
                    "product": s.product,
                    "description": s.description,
                    "source": s.source,
                }
                for s in customer.service_records.all()
            ],
            "care_actions": [
                care_json(c) for c in customer.care_actions.select_related("assignee", "complaint").order_by("id")
            ],
            "value_tier": {"tier": tier.tier, "spend_12m": str(tier.spend), "orders_12m": tier.orders, "why": tier.why},
            "churn_risk": risk.as_dict(),
        }

    def erase_personal(self, customer: Any) -> None:
        """Erasure (PIPL): free text that may describe the person is blanked — service records'
        descriptions, care actions' notes, done notes and reasons. Orders keep their number,
        product, quantity, amount and date: bookkeeping facts with retention duties of their own,
        and nothing in them names the person once the profile's contact fields are erased (the
        privacy app does that). The profile's id_number is blanked here too."""
        from .models import CareAction, ServiceRecord

        ServiceRecord.objects.filter(customer=customer).update(description="")
        CareAction.objects.filter(customer=customer).update(note="", done_note="", reason="")
        if customer.id_number:
            customer.id_number = ""
            customer.save(update_fields=["id_number"])
