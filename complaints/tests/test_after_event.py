"""The after-commit hook of case events: each subscriber runs on its own."""

import logging

import pytest

from complaints import tasks


def test_a_failing_subscriber_does_not_stop_the_others(monkeypatch, caplog):
    seen: list[str] = []

    def broken(complaint_id: int, action: str) -> None:
        raise RuntimeError("mail server on fire")

    monkeypatch.setattr("notifications.events.on_case_event", broken)
    monkeypatch.setattr("feedback.events.on_case_event", lambda pk, action: seen.append(f"feedback {pk} {action}"))
    monkeypatch.setattr("customers.events.on_case_event", lambda pk, action: seen.append(f"customers {pk} {action}"))
    with caplog.at_level(logging.ERROR, logger="complaintdesk.tasks"):
        tasks.after_event.call(7, "close")
    assert seen == ["feedback 7 close", "customers 7 close"]
    assert "notifications after close failed" in caplog.text


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("receive", {"search words", "duplicates", "classification", "crisis check"}),
        ("classify", {"crisis check", "corrections"}),
        ("close", set()),
    ],
)
def test_each_action_reaches_its_subscribers(action, expected):
    names = {name for name, _subscriber in tasks._subscribers(action)}
    assert names == expected | {"notifications", "feedback", "customers"}
