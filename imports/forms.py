import json
from typing import Any

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .mapping import MappingError, check_source, load_mapping
from .models import Format

# The largest upload the page accepts (the command line has no limit).
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
MAPPING_MAX_BYTES = 64 * 1024


def max_upload_bytes() -> int:
    return int(getattr(settings, "COMPLAINTDESK_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("文件"))
    format = forms.ChoiceField(label=gettext_lazy("格式"), choices=Format.choices, initial=Format.CFPB)
    mapping = forms.FileField(
        label=gettext_lazy("映射文件（JSON，CSV/XLSX/JSON Lines 用）"),
        required=False,
    )
    source = forms.CharField(
        label=gettext_lazy("来源系统"),
        required=False,
        max_length=40,
        help_text=gettext_lazy("与来源编号一起识别重复导入，例如 crm、12315；映射文件可写明。"),
    )
    dry_run = forms.BooleanField(label=gettext_lazy("试运行（只校验，不写入）"), required=False)

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = max_upload_bytes()
        if upload.size > limit:
            raise forms.ValidationError(
                _("文件过大（%(size)s），最大 %(max)s。更大的文件请用命令行 complaintdesk import_complaints 导入。")
                % {"size": filesizeformat(upload.size), "max": filesizeformat(limit)}
            )
        return upload

    def clean_mapping(self) -> dict[str, Any] | None:
        upload = self.cleaned_data.get("mapping")
        if not upload:
            return None
        if upload.size > MAPPING_MAX_BYTES:
            raise forms.ValidationError(_("映射文件过大。"))
        try:
            spec = json.loads(upload.read().decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise forms.ValidationError(_("映射文件不是有效的 JSON：%(error)s") % {"error": exc}) from exc
        return spec

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        fmt, spec, source = data.get("format"), data.get("mapping"), data.get("source", "")
        try:
            if fmt == Format.CFPB and spec:
                self.add_error("mapping", _("CFPB 格式的列是固定的，不需要映射文件。"))
            elif spec is not None:
                load_mapping(spec, source=source)
            elif fmt and fmt != Format.CFPB:
                check_source(source)
            elif source:
                check_source(source)
        except MappingError as exc:
            self.add_error("mapping" if spec is not None else "source", str(exc))
        return data
