"""The templates seeded by the data migration (admins edit them afterwards). Each: (event, channel,
language, subject, body, active). The e-mail of remedy_proposed is seeded inactive: the offer itself
is mailed by resolutions.mail with its amount and expiry, and a second mail would only repeat it."""

ZH, EN = "zh-hans", "en"

_CONSUMER = {
    "acknowledged": (
        ("投诉已受理：{tracking_no}", "Your complaint has been accepted: {tracking_no}"),
        (
            "{name}，您好：\n\n"
            "您的投诉（编号 {tracking_no}）已受理，承办部门：{department}。"
            "我们将在 {due_date} 前处理完毕。\n\n查询进度：{link}",
            "Dear {name},\n\nYour complaint {tracking_no} has been accepted and is handled by {department}. "
            "We aim to resolve it by {due_date}.\n\nFollow its progress: {link}",
        ),
        (
            "【投诉受理】您的投诉 {tracking_no} 已受理，预计 {due_date} 前处理完毕。",
            "Complaint {tracking_no} accepted; we aim to resolve it by {due_date}.",
        ),
    ),
    "assigned": (
        ("投诉已分派：{tracking_no}", "Your complaint has been assigned: {tracking_no}"),
        (
            "{name}，您好：\n\n您的投诉（编号 {tracking_no}）已交由{department}专人处理。\n\n查询进度：{link}",
            "Dear {name},\n\nYour complaint {tracking_no} has been assigned to a handler in {department}.\n\n"
            "Follow its progress: {link}",
        ),
        (
            "【投诉进展】您的投诉 {tracking_no} 已由{department}专人处理。",
            "Complaint {tracking_no} is now handled by {department}.",
        ),
    ),
    "awaiting_information": (
        ("请补充信息：{tracking_no}", "We need more information: {tracking_no}"),
        (
            "{name}，您好：\n\n"
            "处理您的投诉（编号 {tracking_no}）需要您补充信息。"
            "请打开投诉进度页面，输入投诉编号和查询码后补充：\n{link}\n\n"
            "在您补充之前，处理时限暂停计算。",
            "Dear {name},\n\nTo handle your complaint {tracking_no} we need more information from you. Please open the "
            "status page, enter your tracking number and access code, and add it:\n{link}\n\n"
            "The handling time is paused until you answer.",
        ),
        (
            "【请补充信息】处理投诉 {tracking_no} 需要您补充信息，请登录 {link} 查看。",
            "Complaint {tracking_no}: we need more information. Please see {link}",
        ),
    ),
    "remedy_proposed": (
        ("投诉 {tracking_no} 的处理方案", "A proposed resolution for complaint {tracking_no}"),
        (
            "{name}，您好：\n\n"
            "我们就您的投诉（编号 {tracking_no}）提出了处理方案：{remedy}\n\n请打开投诉进度页面答复：{link}",
            "Dear {name},\n\nWe have proposed a resolution for your complaint {tracking_no}: {remedy}\n\n"
            "Please answer on the status page: {link}",
        ),
        (
            "【处理方案】投诉 {tracking_no} 已有处理方案，请登录 {link} 查看并答复。",
            "Complaint {tracking_no}: a resolution is proposed. Please answer at {link}",
        ),
    ),
    "resolved": (
        ("投诉已解决：{tracking_no}", "Your complaint has been resolved: {tracking_no}"),
        (
            "{name}，您好：\n\n"
            "您的投诉（编号 {tracking_no}）已处理完毕。处理结果可在投诉进度页面查看：{link}\n\n感谢您的耐心。",
            "Dear {name},\n\nYour complaint {tracking_no} has been resolved. The outcome is on the status page: "
            "{link}\n\nThank you for your patience.",
        ),
        (
            "【投诉已解决】您的投诉 {tracking_no} 已处理完毕，结果见 {link}",
            "Complaint {tracking_no} has been resolved. See {link}",
        ),
    ),
    "survey": (
        ("请评价我们的处理：{tracking_no}", "How did we do? {tracking_no}"),
        (
            "{name}，您好：\n\n"
            "您的投诉（编号 {tracking_no}）已处理完毕。请花一分钟评价我们的处理，您的意见将帮助我们改进：\n{link}",
            "Dear {name},\n\nYour complaint {tracking_no} has been resolved. Please take a minute to tell us how we "
            "handled it; your answer helps us improve:\n{link}",
        ),
        (
            "【满意度调查】请评价投诉 {tracking_no} 的处理：{link}",
            "Please rate how we handled complaint {tracking_no}: {link}",
        ),
    ),
    "reopened": (
        ("投诉已重开：{tracking_no}", "Your complaint has been reopened: {tracking_no}"),
        (
            "{name}，您好：\n\n您的投诉（编号 {tracking_no}）已重新打开，我们会继续处理。\n\n查询进度：{link}",
            "Dear {name},\n\nYour complaint {tracking_no} has been reopened and we are working on it again.\n\n"
            "Follow its progress: {link}",
        ),
        (
            "【投诉重开】您的投诉 {tracking_no} 已重新打开，我们会继续处理。",
            "Complaint {tracking_no} has been reopened; we are working on it again.",
        ),
    ),
}

_STAFF = {
    "sla_warning": (
        ("时限预警：投诉 {tracking_no} 已用 80% 时限", "SLA warning: complaint {tracking_no} has used 80% of its time"),
        (
            "投诉 {tracking_no}（{category}，{priority}，当前状态：{status}）"
            "的处理时限已用 80%，截止时间 {due_date}。\n\n"
            "{link}",
            "Complaint {tracking_no} ({category}, {priority}, now {status}) has used 80% of its time; it is due "
            "{due_date}.\n\n{link}",
        ),
    ),
    "sla_breach": (
        ("已超时：投诉 {tracking_no}", "SLA breached: complaint {tracking_no}"),
        (
            "投诉 {tracking_no}（{category}，{priority}，当前状态：{status}）"
            "已超过处理时限（{due_date}），已自动升级。\n\n"
            "{link}",
            "Complaint {tracking_no} ({category}, {priority}, now {status}) is past its deadline ({due_date}) and "
            "has been escalated.\n\n{link}",
        ),
    ),
}


def templates() -> list[tuple[str, str, str, str, str, bool]]:
    rows = []
    for event, (subjects, bodies, sms) in _CONSUMER.items():
        for index, language in enumerate((ZH, EN)):
            rows.append((event, "email", language, subjects[index], bodies[index], event != "remedy_proposed"))
            rows.append((event, "sms", language, "", sms[index], True))
    for event, (subjects, bodies) in _STAFF.items():
        for index, language in enumerate((ZH, EN)):
            rows.append((event, "email", language, subjects[index], bodies[index], True))
    return rows
