"""The demo tells its stories backwards from "now": whatever the hour, every repeat finds an earlier
complaint and a moment in the service centre's hours to be merged (a morning run once found none)."""

import random
from datetime import UTC, datetime, timedelta

import time_machine

from complaints import demo
from complaints.models import Category, Complaint
from ledger.verify import verify


def test_specs_can_be_built_at_every_hour_of_a_day(db):
    categories = {c.code: c for c in Category.objects.all()}
    start = datetime(2026, 11, 23, 0, 7, tzinfo=UTC)
    for hour in range(24):
        specs = demo.build_specs(80, random.Random(7), start + timedelta(hours=hour, minutes=30), categories)
        by_index = {spec.index: spec for spec in specs}
        for spec in specs:
            if spec.status == "merged":
                target = by_index[spec.steps[0].kwargs["into_spec"]]
                assert target.received_at < spec.received_at < spec.times[0]


def test_the_demo_runs_at_the_morning_hour_that_once_failed(db):
    with time_machine.travel(datetime(2026, 11, 23, 1, 37, tzinfo=UTC), tick=True):
        states = demo.generate(count=80, seed=7)
    assert sum(states.values()) == 80 and Complaint.objects.filter(status="merged").exists()
    assert verify().ok
