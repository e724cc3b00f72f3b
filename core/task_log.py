"""One log line per django-q2 task (name, function, duration, success, merchant when the task has one).

Connected to django-q2's worker signals in CoreConfig.ready(). A failed task is logged at ERROR with the
traceback django-q2 recorded, so it also reaches Sentry (its logging integration turns ERROR records into
events) — django-q2 catches the task's exception itself, so nothing else would report it.
"""

import logging
import time

from django_q.signals import post_execute_in_worker, pre_execute

logger = logging.getLogger("recorrente.task")

_STARTED_KEY = "_log_started"


def _merchant_id(task) -> int | None:
    kwargs = task.get("kwargs") or {}
    merchant_id = kwargs.get("merchant_id")
    return merchant_id if isinstance(merchant_id, int) else None


def task_started(sender, func, task, **kwargs):
    task[_STARTED_KEY] = time.perf_counter()


def task_finished(sender, func, task, **kwargs):
    started = task.pop(_STARTED_KEY, None)
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
    success = bool(task.get("success", False))
    func_name = task["func"] if isinstance(task.get("func"), str) else getattr(func, "__qualname__", "?")
    fields = {
        "task_id": task.get("id"),
        "task_name": task.get("name"),
        "func": func_name,
        "group": task.get("group"),
        "duration_ms": duration_ms,
        "success": success,
        "merchant_id": _merchant_id(task),
    }
    if success:
        logger.info("task %s %s ok %sms", task.get("name"), func_name, duration_ms, extra=fields)
    else:
        logger.error(
            "task %s %s failed %sms: %s",
            task.get("name"),
            func_name,
            duration_ms,
            str(task.get("result", ""))[:4000],
            extra=fields,
        )


def connect():
    pre_execute.connect(task_started, dispatch_uid="recorrente.task_log.started")
    post_execute_in_worker.connect(task_finished, dispatch_uid="recorrente.task_log.finished")
