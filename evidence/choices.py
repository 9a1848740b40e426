from django.db import models
from django.utils.translation import gettext_lazy as _


class EvidenceKind(models.TextChoices):
    """DESIGN.md §6."""

    PHYSICAL_ITEM = "physical_item", _("实物")  # the product itself, photos of it
    SERVICE_RECORD = "service_record", _("服务记录")  # work orders, repair records
    COMMUNICATION = "communication", _("沟通记录")  # recordings, chats, e-mails
    COMPLAINT_MATERIAL = "complaint_material", _("投诉材料")  # what the complainant sends with the complaint
    THIRD_PARTY_PROOF = "third_party_proof", _("第三方证明")  # inspection reports, invoices, contracts
    AGREEMENT = "agreement", _("协议文书")  # documents the case produced: settlement agreements


class Via(models.TextChoices):
    """How an item reached the case."""

    WEB = "web", _("网页")  # the public form or status page
    API = "api", _("接口")
    STAFF = "staff", _("工作台")  # uploaded by staff on the case page
    MAIL = "mail", _("电子邮件")
    IMPORT = "import", _("批量导入")
