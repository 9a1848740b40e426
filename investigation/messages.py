"""What the consumer is told when a finding takes effect: courteous, in the case's language, and
never the words 恶意/malicious (nor 不实/unfounded): the consumer hears the outcome, not a label."""

from complaints.models import Complaint

_VALID = {
    "zh-hans": (
        "您好！关于您的投诉（编号 {no}），我们已完成调查核实，确认您反映的问题属实。"
        "感谢您的反馈，我们将尽快与您沟通具体的处理方案。"
    ),
    "en": (
        "Hello, we have completed our review of your complaint ({no}) and confirmed the issue you reported. "
        "Thank you for bringing it to our attention; we will be in touch shortly about how we will put it right."
    ),
}
_NOT_CONFIRMED = {
    "zh-hans": (
        "您好！关于您的投诉（编号 {no}），我们已认真进行了调查核实。根据目前的核查结果，暂未能确认您反映的问题。"
        "我们理解这可能与您的期望不同。如您有新的情况或材料，欢迎随时补充，我们会再次认真核实；"
        "您也可以向消费者协会或通过 12315 平台反映。感谢您的理解与支持。"
    ),
    "en": (
        "Hello, we have looked carefully into your complaint ({no}). Based on the findings so far, we have not "
        "been able to confirm the issue you described. We understand this may not be the answer you hoped for. "
        "If you have further information or documents, please send them at any time and we will review the "
        "matter again; you may also contact a consumer association or the 12315 platform. "
        "Thank you for your understanding."
    ),
}


def outcome_message(complaint: Complaint, nature: str) -> str:
    language = "en" if (complaint.language or "").lower().startswith("en") else "zh-hans"
    templates = _VALID if nature == "valid" else _NOT_CONFIRMED
    return templates[language].format(no=complaint.tracking_no)
