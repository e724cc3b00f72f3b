"""Installs the django-q2 schedules every app declares in its tasks.SCHEDULES; re-running changes nothing."""

from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand
from django_q.models import Schedule


def declared_schedules():
    for config in apps.get_app_configs():
        try:
            module = import_module(f"{config.name}.tasks")
        except ModuleNotFoundError:
            continue
        yield from getattr(module, "SCHEDULES", {}).items()


class Command(BaseCommand):
    help = "Creates or updates the periodic task schedules (billing run, scheduled cancellations, …)."

    def handle(self, *args, **options):
        for name, (func, minutes) in declared_schedules():
            _schedule, created = Schedule.objects.update_or_create(
                name=name,
                defaults={"func": func, "schedule_type": Schedule.MINUTES, "minutes": minutes, "repeats": -1},
            )
            self.stdout.write(f"{'created' if created else 'up to date'}: {name} every {minutes} min")
