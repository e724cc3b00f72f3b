"""The one table core owns: worker heartbeats, so the web side can tell which task clusters are alive."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkerHeartbeat(models.Model):
    """One row per running worker process of a task cluster, touched every few seconds by the worker
    itself (core.heartbeat). A row whose `beat_at` is old belongs to a process that died or stopped:
    the billing run's reaper takes its work back and /healthz reports the cluster as down."""

    key = models.CharField(_("processo"), max_length=120, unique=True)  # host:pid:random
    cluster = models.CharField(_("cluster"), max_length=50, db_index=True)
    host = models.CharField(_("máquina"), max_length=100)
    pid = models.PositiveIntegerField(_("pid"))
    started_at = models.DateTimeField(_("início"))
    beat_at = models.DateTimeField(_("último sinal"), db_index=True)
    # The broker's id of the task this process is running (ORM broker), so a stop that has to kill the
    # process can put the task back at once.
    task_ack_id = models.CharField(_("tarefa em execução"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("sinal de vida de worker")
        verbose_name_plural = _("sinais de vida de workers")

    def __str__(self):
        return self.key
