"""manage.py setup_schedules: one django-q2 Schedule per declared schedule, however often it runs."""

from io import StringIO

import pytest
from django.core.management import call_command
from django_q.models import Schedule

from core.management.commands.setup_schedules import declared_schedules
from subscribers.tasks import SCHEDULES as SUBSCRIBER_SCHEDULES

pytestmark = pytest.mark.django_db


def run():
    out = StringIO()
    call_command("setup_schedules", stdout=out)
    return out.getvalue()


def test_every_app_schedule_is_declared():
    declared = dict(declared_schedules())

    assert {name: declared[name][:2] for name in SUBSCRIBER_SCHEDULES} == SUBSCRIBER_SCHEDULES
    assert declared["subscriptions: start scheduled, end canceled"] == (
        "subscribers.tasks.process_due_subscriptions",
        1,
        "billing",
    )


def test_billing_schedules_run_on_the_billing_cluster_and_notifications_on_theirs():
    run()

    assert Schedule.objects.get(name__startswith="billing: run").cluster == "billing"
    assert Schedule.objects.get(name__startswith="notifications: deliver webhooks").cluster == "notifications"


def test_setup_schedules_installs_each_declared_schedule():
    output = run()

    for name, (func, minutes, queue) in declared_schedules():
        schedule = Schedule.objects.get(name=name)
        assert schedule.cluster == queue
        assert schedule.func == func
        assert schedule.schedule_type == Schedule.MINUTES
        assert schedule.minutes == minutes
        assert schedule.repeats == -1
        assert f"created: {name}" in output


def test_setup_schedules_run_twice_leaves_one_schedule_per_declared_schedule():
    run()
    second = run()

    declared = dict(declared_schedules())
    assert Schedule.objects.count() == len(declared)
    for name in declared:
        assert Schedule.objects.filter(name=name).count() == 1
        assert f"up to date: {name}" in second


def test_setup_schedules_repairs_a_schedule_edited_by_hand():
    run()
    name, (func, minutes, _queue) = next(iter(declared_schedules()))
    Schedule.objects.filter(name=name).update(func="nowhere.gone", minutes=60, repeats=0)

    output = run()

    schedule = Schedule.objects.get(name=name)
    assert (schedule.func, schedule.minutes, schedule.repeats) == (func, minutes, -1)
    assert f"updated: {name}" in output


def test_the_scheduled_functions_exist():
    from django.utils.module_loading import import_string

    for _name, (func, _minutes, _queue) in declared_schedules():
        assert callable(import_string(func))


def test_a_tasks_module_that_fails_to_import_is_reported_not_skipped(monkeypatch):
    import core.management.commands.setup_schedules as command

    def broken_import(name):
        if name == "subscribers.tasks":
            raise ModuleNotFoundError("No module named 'missing_dependency'", name="missing_dependency")
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    monkeypatch.setattr(command, "import_module", broken_import)

    with pytest.raises(ModuleNotFoundError, match="missing_dependency"):
        list(command.declared_schedules())
