"""One structured log line per request and per task (core.request_log, core.task_log)."""

import logging

import pytest
from django_q.tasks import async_task

pytestmark = pytest.mark.django_db


def _request_records(caplog):
    return [r for r in caplog.records if r.name == "recorrente.request"]


def test_a_request_logs_method_path_status_duration_user_merchant_and_request_id(
    caplog, owner_client, merchant, owner
):
    with caplog.at_level(logging.INFO, logger="recorrente.request"):
        response = owner_client.get("/", headers={"X-Request-ID": "abc-123"})

    assert response.headers["X-Request-ID"] == "abc-123"
    (record,) = _request_records(caplog)
    assert (record.method, record.path, record.status) == ("GET", "/", 200)
    assert (record.user_id, record.merchant_id, record.request_id) == (owner.pk, merchant.pk, "abc-123")
    assert record.duration_ms > 0


def test_an_unusable_request_id_is_replaced_by_a_generated_one(caplog, client):
    with caplog.at_level(logging.INFO, logger="recorrente.request"):
        response = client.get("/conta/login/", headers={"X-Request-ID": "bad id\nwith newline"})

    generated = response.headers["X-Request-ID"]
    assert len(generated) == 32 and generated != "bad id\nwith newline"
    assert _request_records(caplog)[0].request_id == generated


def test_log_lines_written_during_a_request_carry_its_request_id(caplog, client):
    from core.request_log import RequestIdFilter

    handler_filter = RequestIdFilter()
    with caplog.at_level(logging.INFO):
        client.get("/conta/login/", headers={"X-Request-ID": "joined-1"})
    record = _request_records(caplog)[0]
    assert handler_filter.filter(record) and record.request_id == "joined-1"


def _fails():
    raise RuntimeError("boom")


def test_a_task_logs_its_name_duration_and_success(caplog):
    with caplog.at_level(logging.INFO, logger="recorrente.task"):
        async_task("math.floor", 2.5, task_name="arredondar", sync=True)

    (record,) = [r for r in caplog.records if r.name == "recorrente.task"]
    assert (record.task_name, record.func, record.success, record.levelname) == (
        "arredondar",
        "math.floor",
        True,
        "INFO",
    )
    assert record.duration_ms is not None and record.duration_ms >= 0


def test_a_failed_task_is_logged_as_an_error(caplog):
    with caplog.at_level(logging.INFO, logger="recorrente.task"), pytest.raises(RuntimeError):
        async_task("tests.test_request_log._fails", task_name="falha", sync=True)

    (record,) = [r for r in caplog.records if r.name == "recorrente.task"]
    assert (record.task_name, record.success, record.levelname) == ("falha", False, "ERROR")
