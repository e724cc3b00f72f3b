"""core.bulk.autocommit_fetchone: the webhook's one statement, bound by the server on PostgreSQL, without
Django's per-request health check but surviving a connection the server closed meanwhile."""

import psycopg
import pytest
from django.db import ProgrammingError, connection

from core.bulk import autocommit_fetchone

pytestmark = pytest.mark.django_db(transaction=True)


def _terminate(pid: int) -> None:
    """Ends a backend from another connection, as a server restart or an idle timeout would."""
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_the_statement_runs_and_commits_on_its_own_on_either_database():
    # On SQLite (make run) a Django cursor runs it; on PostgreSQL the connection's own cursor.
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE autocommit_probe (n int)")
    try:
        assert autocommit_fetchone("INSERT INTO autocommit_probe VALUES (%s) RETURNING n", [3]) == (3,)
        connection.close()  # a new connection sees the row: it was committed
        with connection.cursor() as cursor:
            cursor.execute("SELECT n FROM autocommit_probe")
            assert cursor.fetchall() == [(3,)]
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE autocommit_probe")


@pytest.mark.postgres
def test_a_connection_closed_by_the_server_is_replaced_and_the_statement_runs_once_more():
    (first,) = autocommit_fetchone("SELECT pg_backend_pid()", [])
    _terminate(first)
    (second,) = autocommit_fetchone("SELECT pg_backend_pid()", [])
    assert second != first
    # A statement that inserts is not sent twice when it succeeds: one row.
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE kept (n int)")
    assert autocommit_fetchone("INSERT INTO kept VALUES (%s) RETURNING n", [7]) == (7,)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM kept")
        assert cursor.fetchone() == (1,)


@pytest.mark.postgres
def test_the_parameters_are_bound_by_the_server():
    # Sent apart from the text (no quoting in Python): a value that would need escaping arrives intact.
    value = "it's a \\ 'quoted' value; DROP TABLE x; --"
    assert autocommit_fetchone("SELECT %s::text, pg_typeof(%s)::text", [value, 1]) == (value, "smallint")


@pytest.mark.postgres
def test_other_errors_are_raised_as_djangos_and_not_retried():
    with pytest.raises(ProgrammingError):
        autocommit_fetchone("SELECT * FROM no_such_table", [])
    assert autocommit_fetchone("SELECT 1", []) == (1,)  # the connection is still usable


@pytest.mark.postgres
def test_it_refuses_to_run_inside_a_transaction():
    from django.db import transaction

    with transaction.atomic(), pytest.raises(RuntimeError):
        autocommit_fetchone("SELECT 1", [])
