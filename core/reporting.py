"""Error reports (DEBUG pages, admin mails) never show access codes, tokens or idempotency keys."""

import re

from django.views.debug import SafeExceptionReporterFilter


class ReporterFilter(SafeExceptionReporterFilter):
    hidden_settings = re.compile("API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|ACCESS|IDEMPOTENCY", flags=re.I)
