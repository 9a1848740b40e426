def on_case_event(complaint_id: int, action: str) -> None:
    """Side effects of a case event for this app (called from complaints.tasks.after_event): the
    care rule on receipt, acceptance and classification (customers.care)."""
    from .care import TRIGGER_ACTIONS, apply_rule

    if action in TRIGGER_ACTIONS:
        apply_rule(complaint_id, action)
