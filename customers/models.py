"""Customer profiles (客户档案), matched from complaints by normalised phone or e-mail."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Customer(models.Model):
    name = models.CharField(_("姓名"), max_length=100, blank=True)
    # E.164 (+8613812345678); the match key for phone numbers written in any common form.
    phone = models.CharField(_("电话"), max_length=20, blank=True, db_index=True)
    # Lower-cased; the match key for e-mail.
    email = models.CharField(_("电子邮箱"), max_length=254, blank=True, db_index=True)
    customer_no = models.CharField(_("客户编号"), max_length=64, blank=True, db_index=True)
    address = models.CharField(_("地址"), max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # The data subject's key for personal data in the ledger; destroying it erases them (crypto-shredding).
    subject_key = models.ForeignKey("ledger.SubjectKey", on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("客户")
        verbose_name_plural = pgettext_lazy("plural", "客户")

    def __str__(self) -> str:
        return self.name or self.phone or self.email or f"#{self.pk}"
