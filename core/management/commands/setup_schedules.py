"""Installs the django-q2 schedules every app declares in its tasks.SCHEDULES, each on the cluster its
tasks module names (tasks.QUEUE); re-running changes nothing."""

from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand
from django_q.models import Schedule

from core.queues import NOTIFICATIONS


def declared_schedules():
    for config in apps.get_app_configs():
        try:
            module = import_module(f"{config.name}.tasks")
        except ModuleNotFoundError as exc:
            # Only "this app has no tasks module" is skipped; a tasks module that fails to import one
            # of its own dependencies must fail loudly, not silently lose its schedules.
            if exc.name != f"{config.name}.tasks":
                raise
            continue
        # Each tasks module names the queue (cluster) its schedules run on; unnamed: notifications.
        queue = getattr(module, "QUEUE", NOTIFICATIONS)
        for name, (func, minutes) in getattr(module, "SCHEDULES", {}).items():
            yield name, (func, minutes, queue)


class Command(BaseCommand):
    help = "Creates or updates the periodic task schedules (billing run, scheduled cancellations, …)."

    def handle(self, *args, **options):
        for name, (func, minutes, queue) in declared_schedules():
            wanted = {
                "func": func,
                "schedule_type": Schedule.MINUTES,
                "minutes": minutes,
                "repeats": -1,
                "cluster": queue,
            }
            schedule = Schedule.objects.filter(name=name).order_by("pk").first()
            if schedule is None:
                Schedule.objects.create(name=name, **wanted)
                outcome = "created"
            elif any(getattr(schedule, field) != value for field, value in wanted.items()):
                Schedule.objects.filter(pk=schedule.pk).update(**wanted)
                outcome = "updated"
            else:
                outcome = "up to date"
            self.stdout.write(f"{outcome}: {name} every {minutes} min")
