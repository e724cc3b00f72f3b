from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Sistema")

    def ready(self):
        from django_q.signals import post_execute_in_worker, post_spawn, pre_execute

        from core import heartbeat, registry, task_log  # noqa: F401  (registry: the core.E001 check)

        task_log.connect()

        # Every django-q2 worker process keeps a heartbeat row alive (and runs its cluster's hooks).
        post_spawn.connect(heartbeat.start, dispatch_uid="recorrente-heartbeat")
        pre_execute.connect(heartbeat.task_started, dispatch_uid="recorrente-heartbeat-task")
        post_execute_in_worker.connect(heartbeat.task_finished, dispatch_uid="recorrente-heartbeat-done")
