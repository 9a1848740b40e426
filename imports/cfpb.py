"""The US CFPB Consumer Complaint Database: its published CSV columns map without a mapping file.

What goes where (docs/import.md has the reasoning):
- Complaint ID -> external id (source "cfpb"); Date received -> received_at, midnight in the
  organisation's time zone, so the tracking number carries the CFPB date;
- Consumer complaint narrative -> description (or, where the consumer gave none, a description
  composed from product, issue and company); Issue / Sub-issue -> title; Product -> product name;
  the issue -> a category of our taxonomy where one clearly fits (`CATEGORY_RULES`), otherwise
  none; every source value is also kept in the import event's data;
- State / ZIP code -> country US, us_state, postal_code; Submitted via -> channel;
- Company response to consumer (with Date sent to company) -> the case's state and dates;
  Timely response? and Consumer disputed? -> the event's data, and a note when they say No / Yes.
"""

import re
from datetime import timedelta
from typing import Any

from django.utils.translation import gettext as _

from complaints.choices import Channel, ExternalRoute, Outcome, PreferredContact, Status
from complaints.intake import active_category

from .drafts import Draft, Finisher, RowError, State, clip
from .generic import check_received, external_id
from .mapping import DateError, Dates, MappingError
from .readers import SourceRow

SOURCE = "cfpb"

# The columns CFPB publishes (the first 15 are mapped; the rest are kept as facts or ignored).
ID = "Complaint ID"
RECEIVED = "Date received"
PRODUCT = "Product"
SUB_PRODUCT = "Sub-product"
ISSUE = "Issue"
SUB_ISSUE = "Sub-issue"
NARRATIVE = "Consumer complaint narrative"
COMPANY = "Company"
STATE = "State"
ZIP = "ZIP code"
VIA = "Submitted via"
SENT = "Date sent to company"
RESPONSE = "Company response to consumer"
TIMELY = "Timely response?"
DISPUTED = "Consumer disputed?"
PUBLIC_RESPONSE = "Company public response"
TAGS = "Tags"
CONSENT = "Consumer consent provided?"
COLUMNS = [
    RECEIVED,
    PRODUCT,
    SUB_PRODUCT,
    ISSUE,
    SUB_ISSUE,
    NARRATIVE,
    PUBLIC_RESPONSE,
    COMPANY,
    STATE,
    ZIP,
    TAGS,
    CONSENT,
    VIA,
    SENT,
    RESPONSE,
    TIMELY,
    DISPUTED,
    ID,
]
REQUIRED = [ID, RECEIVED]
# CFPB dates are ISO in current exports, month-first in older ones and in spreadsheets.
DATE_FORMATS = ["%m/%d/%Y", "%m/%d/%y", "%Y/%m/%d", "%m-%d-%Y"]

CHANNELS = {
    "web": Channel.WEB,
    "web referral": Channel.WEB,
    "phone": Channel.PHONE,
    "postal mail": Channel.LETTER,
    "email": Channel.EMAIL,
    "referral": Channel.REGULATOR_REFERRAL,
    "fax": Channel.OTHER,
    "": Channel.OTHER,
}
# Companies are asked to respond within 15 days; a referral carries that as the regulator's date.
RESPONSE_DAYS = 15

# Company response to consumer -> (state, outcome). Relief and explanations are remedies carried
# out (our taxonomy lists an explanation as a remedy); "without relief" and the bare "Closed" of
# older records are the company's final decision, which leaves the regulator route open.
RESPONSES: dict[str, tuple[str, str]] = {
    "closed with explanation": (Status.CLOSED, Outcome.EXECUTED),
    "closed with monetary relief": (Status.CLOSED, Outcome.EXECUTED),
    "closed with non-monetary relief": (Status.CLOSED, Outcome.EXECUTED),
    "closed with relief": (Status.CLOSED, Outcome.EXECUTED),
    "closed without relief": (Status.CLOSED, Outcome.FINAL_DECISION),
    "closed": (Status.CLOSED, Outcome.FINAL_DECISION),
    "in progress": (Status.IN_PROGRESS, ""),
    # The company had the complaint and did not answer in time: accepted, with its clock breached.
    "untimely response": (Status.ACCEPTED, ""),
    "": (Status.NEW, ""),
}

# Issue (case-insensitive regular expression) -> category code, sub-category code. Only where the
# issue plainly is what our category means; the first rule that matches wins; anything else stays
# uncategorised (the handler classifies it). Codes missing from the taxonomy are skipped, with a
# warning.
CATEGORY_RULES: list[tuple[str, str, str]] = [
    (r"billing|wrong amount|wrong day or amt|not credited|wasn't credited|exchange rate"
     r"|purchase shown on your statement", "billing_error", ""),
    (r"didn't expect|unexpected", "price_charges", "price_charges-hidden_fee"),
    (r"\bfees?\b|\binterest\b|\bapr\b", "price_charges", ""),
    (r"improper use of (your|my) (credit )?report|improper contact or sharing|share information improperly"
     r"|^privacy$", "privacy", ""),
    (r"advertising|misleading", "false_advertising", "false_advertising-misleading_ad"),
    (r"false statements or representation|missing disclosures", "false_advertising", ""),
    (r"closing/cancelling|^closing (an|your) account$|closing an account$|can't stop charges", "contract_terms",
     "contract_terms-cancellation"),
    (r"account terms and changes|other features, terms|^arbitration$", "contract_terms", ""),
    (r"communication tactics", "service", "service-attitude"),
    (r"can't contact lender", "service", "service-response_time"),
    (r"customer service|customer relations|other service (issues|problem)", "service", ""),
]  # fmt: skip


class CfpbConverter:
    def __init__(self, columns: list[str], finisher: Finisher) -> None:
        self.finisher = finisher
        finisher.share(country="US", language="en", anonymous=True, preferred_contact=PreferredContact.NONE.value)
        self.dates = Dates(DATE_FORMATS)
        position = {c.casefold(): i for i, c in reversed(list(enumerate(columns)))}
        missing = [c for c in REQUIRED if c.casefold() not in position]
        if missing:
            raise MappingError(
                _("这不是 CFPB 格式的文件：缺少列 %(missing)s。文件的列：%(columns)s")
                % {"missing": ", ".join(missing), "columns": ", ".join(columns)}
            )
        self.at = {name: position.get(name.casefold()) for name in COLUMNS}
        known = {c.casefold() for c in COLUMNS}
        self.warnings: list[str] = []
        unknown = [c for c in columns if c.casefold() not in known]
        if unknown:
            self.warnings.append(
                _("文件中有 CFPB 格式以外的列（已忽略）：%(columns)s") % {"columns": ", ".join(unknown)}
            )
        absent = [c for c in COLUMNS if self.at[c] is None]
        if absent:
            self.warnings.append(_("文件缺少 CFPB 的列（按空值处理）：%(columns)s") % {"columns": ", ".join(absent)})
        self.rules = []
        for pattern, code, sub_code in CATEGORY_RULES:
            category = active_category(code)
            sub = active_category(sub_code, parent=category) if sub_code and category else None
            if category is None:
                self.warnings.append(_("分类 %(code)s 不在投诉分类中，相关问题不归类。") % {"code": code})
                continue
            self.rules.append((re.compile(pattern, re.IGNORECASE), category.code, sub.code if sub else ""))
        self._categories: dict[str, tuple[str, str]] = {}

    def category_for(self, issue: str) -> tuple[str, str]:
        found = self._categories.get(issue)
        if found is None:
            found = ("", "")
            for pattern, code, sub_code in self.rules:
                if pattern.search(issue):
                    found = (code, sub_code)
                    break
            if len(self._categories) < 10_000:
                self._categories[issue] = found
        return found

    def convert(self, source: SourceRow) -> Draft | list[RowError]:
        cells = source.cells
        at = self.at

        def get(name: str) -> str:
            i = at[name]
            if i is None:
                return ""
            value = cells[i]
            return "" if value is None else str(value).strip()

        ext, problem = external_id(cells[at[ID]])  # type: ignore[index]
        if ext.endswith(".0") and ext[:-2].isdigit():
            ext = ext[:-2]  # a spreadsheet turned the id into a number
        if problem:
            return [RowError(source.row, source.line, ID, problem)]
        errors: list[RowError] = []
        received = sent = None
        try:
            received = self.dates(cells[at[RECEIVED]])  # type: ignore[index]
            if received is None:
                errors.append(RowError(source.row, source.line, RECEIVED, _("此项必填。"), ext))
            elif reason := check_received(received, self.finisher.now):
                errors.append(RowError(source.row, source.line, RECEIVED, reason, ext))
        except DateError as exc:
            errors.append(RowError(source.row, source.line, RECEIVED, str(exc), ext))
        if at[SENT] is not None:
            try:
                sent = self.dates(cells[at[SENT]])
            except DateError as exc:
                errors.append(RowError(source.row, source.line, SENT, str(exc), ext))
        response = get(RESPONSE)
        if response.casefold() not in RESPONSES:
            errors.append(
                RowError(
                    source.row,
                    source.line,
                    RESPONSE,
                    _("未知的企业答复“%(value)s”；可识别：%(known)s")
                    % {"value": clip(response, 60), "known": ", ".join(k for k in RESPONSES if k)},
                    ext,
                )
            )
        if errors:
            return errors
        assert received is not None
        product, sub_product, issue, sub_issue = get(PRODUCT), get(SUB_PRODUCT), get(ISSUE), get(SUB_ISSUE)
        company, via, timely, disputed = get(COMPANY), get(VIA), get(TIMELY), get(DISPUTED)
        public_response = get(PUBLIC_RESPONSE)
        channel = CHANNELS.get(via.casefold(), Channel.OTHER)
        category, subcategory = self.category_for(issue)
        narrative = get(NARRATIVE)
        description = narrative or self._summary(product, sub_product, issue, sub_issue, company)
        values: dict[str, Any] = {
            "anonymous": True,  # CFPB publishes no one's identity or contact details
            "preferred_contact": PreferredContact.NONE,
            "description": description,
            "title": clip(" / ".join(p for p in (issue, sub_issue) if p), 200),
            "product_name": clip(product, 200),
            "country": "US",
            "us_state": get(STATE).upper(),
            "postal_code": _zip(get(ZIP)),
            "language": "en",
            "channel": channel,
            "category": category,
            "subcategory": subcategory,
        }
        if channel == Channel.REGULATOR_REFERRAL:
            values["regulator_due_at"] = (sent or received) + timedelta(days=RESPONSE_DAYS)
        data = self.finisher.validate(values)
        if isinstance(data, list):
            return [RowError(source.row, source.line, _COLUMN_OF.get(n, n), reason, ext) for n, reason in data]
        status, outcome = RESPONSES[response.casefold()]
        state = State(status=status, acknowledged_at=sent, accepted_at=sent, resolved_at=sent, closed_at=sent)
        if status == Status.CLOSED:
            state.outcome = outcome
            state.outcome_note = response
            # The closing checklist wants a written reply; CFPB publishes only the company's
            # public statement, where it gave one.
            state.reply_text = public_response or response
            if outcome == Outcome.FINAL_DECISION:
                state.open_routes = [ExternalRoute.REGULATOR]
        facts = {
            "company": company,
            "product": product,
            "sub_product": sub_product,
            "issue": issue,
            "sub_issue": sub_issue,
            "submitted_via": via,
            "date_sent_to_company": sent.date().isoformat() if sent else "",
            "company_response": response,
            "company_public_response": public_response,
            "timely_response": timely,
            "consumer_disputed": disputed,
            "tags": get(TAGS),
        }
        notes = []
        if timely.casefold() == "no":
            notes.append(_("企业未在期限内答复（CFPB：Timely response? = No）。"))
        if disputed.casefold() == "yes":
            notes.append(_("消费者对企业的答复有异议（CFPB：Consumer disputed? = Yes）。"))
        return self.finisher.draft(
            data,
            row=source.row,
            line=source.line,
            external_id=ext,
            source=SOURCE,
            received_at=received,
            state=state,
            facts={"cfpb": {k: v for k, v in facts.items() if v}},
            note=" ".join(notes),
        )

    @staticmethod
    def _summary(product: str, sub_product: str, issue: str, sub_issue: str, company: str) -> str:
        parts = [
            " / ".join(p for p in (product, sub_product) if p),
            " / ".join(p for p in (issue, sub_issue) if p),
            f"Company: {company}" if company else "",
        ]
        return clip("[CFPB] " + ". ".join(p for p in parts if p), 2000)


_COLUMN_OF = {
    "description": NARRATIVE,
    "title": ISSUE,
    "product_name": PRODUCT,
    "us_state": STATE,
    "postal_code": ZIP,
    "channel": VIA,
    "regulator_due_at": SENT,
}


def _zip(value: str) -> str:
    """ZIP codes as CFPB writes them (12345, 123XX), repaired where a spreadsheet made them numbers
    (12345.0, or 2134 for 02134)."""
    if value.endswith(".0") and value[:-2].isdigit():
        value = value[:-2]
    if value.isdigit() and 3 <= len(value) < 5:
        value = value.zfill(5)
    return value
