"""Admins configure the webhook sources (secret, field mapping) and can look at inbound mails.
Cases are never edited here."""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import InboundMail, WebhookSource
from .webhooks import MAPPABLE_FIELDS, check_source_config, encrypt_secret

SECRET_MIN = 24


class WebhookSourceForm(forms.ModelForm):
    secret = forms.CharField(
        label=gettext_lazy("共享密钥"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=gettext_lazy(
            "平台用它计算 HMAC-SHA256 签名，至少 24 个字符（可用 openssl rand -hex 32 生成）。"
            "保存后不再显示；修改时留空则保留原密钥。"
        ),
    )

    class Meta:
        model = WebhookSource
        fields = [
            "slug",
            "name",
            "channel",
            "active",
            "mapping",
            "defaults",
            "event_id_path",
            "rate_per_minute",
            "notify_complainant",
        ]
        help_texts = {
            "mapping": format_lazy(
                "{}{}",
                gettext_lazy(
                    'JSON 对象：{"投诉字段": "JSON 路径"}，路径如 $.buyer.phone、buyer.phone、items[0].sku。'
                    "必须映射 description。可用字段："
                ),
                ", ".join(sorted(MAPPABLE_FIELDS)),
            ),
            "defaults": gettext_lazy('平台不提供的字段的固定取值，如 {"category": "after_sales"}。'),
            "event_id_path": gettext_lazy("平台自己的投诉编号所在的 JSON 路径；同一编号再次推送不会重复登记。"),
        }

    def clean_secret(self) -> str:
        secret = self.cleaned_data.get("secret", "")
        if not secret and self.instance.pk is None:
            raise forms.ValidationError(_("新建推送来源时必须填写共享密钥。"))
        if secret and len(secret) < SECRET_MIN:
            raise forms.ValidationError(_("密钥过短：至少 %(n)d 个字符。") % {"n": SECRET_MIN})
        return secret

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        errors = check_source_config(
            cleaned.get("mapping"), cleaned.get("defaults") or {}, cleaned.get("event_id_path") or ""
        )
        for field, message in errors.items():
            if field in self.fields and field not in self.errors:
                self.add_error(field, message)
        return cleaned


@admin.register(WebhookSource)
class WebhookSourceAdmin(admin.ModelAdmin):
    form = WebhookSourceForm
    list_display = ("slug", "name", "channel", "active", "rate_per_minute", "created_at")
    list_filter = ("channel", "active")
    search_fields = ("slug", "name")

    def get_readonly_fields(self, request: HttpRequest, obj: WebhookSource | None = None) -> tuple[str, ...]:
        # The slug is the secret's associated data and the platform's URL: fixed once created.
        return ("slug",) if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: WebhookSource, form: Any, change: bool) -> None:
        secret = form.cleaned_data.get("secret", "")
        if secret:
            obj.secret_encrypted = encrypt_secret(obj.slug, secret)
        super().save_model(request, obj, form, change)


@admin.register(InboundMail)
class InboundMailAdmin(admin.ModelAdmin):
    list_display = ("received_at", "from_address", "subject", "status", "complaint", "via")
    list_filter = ("status", "via")
    search_fields = ("from_address", "subject", "message_id", "raw_sha256")
    date_hierarchy = "received_at"
    readonly_fields = [f.name for f in InboundMail._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: InboundMail | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: InboundMail | None = None) -> bool:
        return False
