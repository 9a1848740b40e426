"""Periodic jobs of the feedback app (core.scheduler loads JOBS). send_due_surveys also applies the
survey rules a lost worker left undone (actions.apply_pending_survey_rules)."""

from .actions import send_due_surveys

JOBS = [("send_due_surveys", send_due_surveys)]
