"""Side effects of case events for feedback (called from complaints.tasks.after_event, after commit):
closing schedules the survey and maybe a call-back; reopening cancels a survey not yet answered; an answer
runs the survey rules."""

import logging

log = logging.getLogger("complaintdesk.feedback")


def on_case_event(complaint_id: int, action: str) -> None:
    from . import actions

    try:
        if action == "close":
            actions.schedule_survey(complaint_id)
            actions.plan_callback(complaint_id)
        elif action == "reopen":
            actions.cancel_open_survey(complaint_id)
        elif action == "answer_survey":
            actions.apply_survey_rules(complaint_id)
    except Exception:
        # Never block the other apps' reactions to the same event; the failure is in the log.
        log.exception("feedback for complaint %s (%s) failed", complaint_id, action)
