"""Admins edit the message templates, look at deliveries and opt-outs, and configure outgoing
webhooks with their delivery log."""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .addresses import address_hash
from .models import Delivery, MessageTemplate, OptOut, WebhookDelivery, WebhookSubscription
from .placeholders import PLACEHOLDERS
from .webhooks import check_events, check_url, encrypt_secret, known_events

SECRET_MIN = 24


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    list_display = ("event", "channel", "language", "subject", "active", "updated_at")
    list_filter = ("event", "channel", "language", "active")
    search_fields = ("event", "subject", "body")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        form.base_fields["body"].help_text = _("可用的占位符：%(known)s") % {
            "known": " ".join("{" + name + "}" for name in PLACEHOLDERS)
        }
        return form


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(_ReadOnly):
    list_display = (
        "created_at",
        "complaint",
        "event",
        "channel",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
    )
    list_filter = ("status", "channel", "event")
    list_select_related = ("complaint",)
    exclude = ("context",)


class OptOutForm(forms.ModelForm):
    class Meta:
        model = OptOut
        fields = ["channel", "address", "purpose"]

    def clean_address(self) -> str:
        address = (self.cleaned_data.get("address") or "").strip()
        if not address:
            raise forms.ValidationError(_("请填写要退订的电子邮箱或手机号码。"))
        return address

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        channel, address = cleaned.get("channel"), cleaned.get("address")
        if channel and address:
            self.instance.address_hash = address_hash(channel, address)
            self.instance.source = "staff"
            if OptOut.objects.filter(
                channel=channel, address_hash=self.instance.address_hash, purpose=cleaned.get("purpose")
            ).exists():
                raise forms.ValidationError(_("该地址已退订此类消息。"))
        return cleaned


@admin.register(OptOut)
class OptOutAdmin(admin.ModelAdmin):
    """Staff record an opt-out a consumer asked for by phone or letter (an SMS has no link)."""

    form = OptOutForm
    list_display = ("created_at", "channel", "purpose", "address", "source")
    list_filter = ("channel", "purpose", "source")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("channel", "address", "purpose", "created_at", "source") if obj is not None else ()


class WebhookSubscriptionForm(forms.ModelForm):
    url = forms.URLField(label=gettext_lazy("接收地址"), max_length=500, assume_scheme="https")
    secret = forms.CharField(
        label=gettext_lazy("签名密钥"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=gettext_lazy(
            "接收方用它校验 HMAC-SHA256 签名，至少 24 个字符（可用 openssl rand -hex 32 生成）。"
            "保存后不再显示；修改时留空则保留原密钥。"
        ),
    )

    class Meta:
        model = WebhookSubscription
        fields = ["name", "url", "events", "active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["events"].help_text = _(
            'JSON 列表，如 ["accept", "resolve", "sla_breach"]。可选事件：%(events)s'
        ) % {"events": ", ".join(known_events())}

    def clean_url(self) -> str:
        url = self.cleaned_data.get("url", "")
        if not url.lower().startswith(("http://", "https://")):
            raise forms.ValidationError(_("只支持 http:// 或 https:// 地址。"))
        refused = check_url(url)
        if refused:
            # Checked again at every send (the name may resolve elsewhere later); this only catches
            # the obvious mistake early.
            raise forms.ValidationError(_("不允许发送到内网或本机地址：%(reason)s") % {"reason": refused})
        return url

    def clean_events(self) -> list[str]:
        try:
            return check_events(self.cleaned_data.get("events"))
        except ValueError as exc:
            raise forms.ValidationError(_("未知的事件：%(events)s") % {"events": exc}) from None

    def clean_secret(self) -> str:
        secret = self.cleaned_data.get("secret", "")
        if not secret and self.instance.pk is None:
            raise forms.ValidationError(_("新建订阅时必须填写签名密钥。"))
        if secret and len(secret) < SECRET_MIN:
            raise forms.ValidationError(_("密钥过短：至少 %(n)d 个字符。") % {"n": SECRET_MIN})
        return secret

    def save(self, commit: bool = True) -> Any:
        subscription = super().save(commit=False)
        if self.cleaned_data.get("secret"):
            subscription.secret_encrypted = encrypt_secret(self.cleaned_data["secret"])
        if commit:
            subscription.save()
        return subscription


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = WebhookSubscriptionForm
    list_display = ("name", "url", "active", "created_at", "delivery_log")
    list_filter = ("active",)
    readonly_fields = ("delivery_log",)

    @admin.display(description=gettext_lazy("发送记录"))
    def delivery_log(self, subscription: WebhookSubscription) -> str:
        if subscription.pk is None:
            return "—"
        url = reverse("admin:notifications_webhookdelivery_changelist") + f"?subscription__id__exact={subscription.pk}"
        return format_html('<a href="{}">{}</a>', url, _("查看发送记录"))


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(_ReadOnly):
    list_display = (
        "created_at",
        "subscription",
        "event",
        "status",
        "status_code",
        "attempts",
        "next_attempt_at",
        "last_error",
    )
    list_filter = ("subscription", "status", "event")
    list_select_related = ("subscription",)
