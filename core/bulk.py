"""Bulk writes for the hot paths (the billing run's batch, the sandbox ledger, the outbox): the rows
`bulk_create` would write, without building a model instance per row.

On PostgreSQL the rows go through one `COPY … FROM STDIN` per table (psycopg 3), which costs a
fraction of an `INSERT` compiled by the ORM; elsewhere (the embedded SQLite) they go through
`bulk_create`. Either way the database checks every constraint, and the caller's transaction decides
whether they stay.
"""

import json
from collections.abc import Iterable, Mapping, Sequence
from operator import itemgetter

import psycopg
from django.core.serializers.json import DjangoJSONEncoder
from django.db import OperationalError, connection, models
from django.db.models.expressions import RawSQL
from django.utils import timezone


class RawJSON(str):
    """A JSONField value that is already encoded (e.g. `json.dumps(payload, cls=DjangoJSONEncoder)`):
    written as is, so a payload is serialised once."""


def reserve_pks(model: type[models.Model], count: int) -> list[int] | None:
    """`count` primary keys drawn from the table's own sequence, for rows inserted with explicit ids
    (so their children and idempotency keys can be built before the insert). Nobody else can get
    them; a rolled-back caller leaves them unused. None when the backend cannot do it."""
    if count <= 0:
        return []
    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, column, count],
            )
            return [pk for (pk,) in cursor.fetchall()]
        if connection.vendor == "sqlite":
            # AUTOINCREMENT tables take the next id above max(sqlite_sequence.seq, max(id)): moving seq
            # reserves the block. The write takes SQLite's database lock until the transaction ends.
            quoted = connection.ops.quote_name(table)
            top = f"(SELECT COALESCE(MAX({connection.ops.quote_name(column)}), 0) FROM {quoted})"
            cursor.execute(
                f"UPDATE sqlite_sequence SET seq = MAX(seq, {top}) + %s WHERE name = %s", [count, table]
            )
            if cursor.rowcount == 0:
                cursor.execute(
                    f"INSERT INTO sqlite_sequence (name, seq) VALUES (%s, {top} + %s)", [table, count]
                )
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            (last,) = cursor.fetchone()
            return list(range(last - count + 1, last + 1))
    return None


def insert_rows(model: type[models.Model], rows: Sequence[Mapping]) -> None:
    """Inserts `rows` (mappings of attname → value, as `Model(**row)` takes them; every row with the same
    keys) the way `bulk_create` would: omitted fields get their defaults (omitted `auto_now(_add)` fields
    the current time), JSONField values are encoded with the field's encoder (RawJSON is taken as is).
    Without a primary key in the rows, the database assigns it (and it is not read back)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        _insert_orm(model, rows)
        return
    now = timezone.now()
    keys = list(rows[0])
    by_attname = {field.attname: field for field in model._meta.concrete_fields}
    columns = [by_attname[key].column for key in keys]
    encoders = [
        (position, by_attname[key].encoder)
        for position, key in enumerate(keys)
        if isinstance(by_attname[key], models.JSONField)
    ]
    constants, makers = [], []  # values of the omitted fields: the same for every row, or made per row
    for field in model._meta.concrete_fields:
        if field.attname in keys or field.primary_key:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            constants.append((field, now))
        elif field.has_default() and callable(field.default):
            makers.append((field, field.default))
        else:
            constants.append((field, field.get_default()))
    for field, _value_or_maker in [*constants, *makers]:
        columns.append(field.column)
        if isinstance(field, models.JSONField):
            encoders.append((len(columns) - 1, field.encoder))
    fixed = tuple(value for _field, value in constants)
    made = [maker for _field, maker in makers]
    values_of = itemgetter(*keys) if len(keys) > 1 else (lambda row: (row[keys[0]],))

    quote = connection.ops.quote_name
    sql = f"COPY {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    # COPY goes around Django's cursor wrapper: its errors are translated here (IntegrityError, …).
    with connection.wrap_database_errors, connection.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            values = values_of(row) + fixed
            if made:
                values += tuple(maker() for maker in made)
            if encoders:
                values = list(values)
                for position, encoder in encoders:
                    value = values[position]
                    if value is not None and not isinstance(value, RawJSON):
                        values[position] = json.dumps(value, cls=encoder)
            copy.write_row(values)


def update_rows(
    model: type[models.Model], pks: Sequence[int], *, same: Mapping, each: Mapping[str, Sequence]
) -> None:
    """Sets, on the rows `pks`, the fields `same` to one value for all and the fields `each` to a value per
    row (each list in the order of `pks`), the way `bulk_update` would (no `auto_now`, no signals). On
    PostgreSQL one UPDATE over array parameters bound in binary (`FROM unnest(…)`): `bulk_update` compiles
    a `CASE WHEN` per row and field, which costs far more than the UPDATE itself."""
    if not pks:
        return
    fields = {name: model._meta.get_field(name) for name in [*same, *each]}
    if connection.vendor != "postgresql":
        objects = [
            model(pk=pk, **same, **{name: values[i] for name, values in each.items()})
            for i, pk in enumerate(pks)
        ]
        model.objects.bulk_update(objects, list(fields), batch_size=1000)
        return
    import psycopg  # only here: the embedded SQLite install does not need it

    quote = connection.ops.quote_name
    pk_field = model._meta.pk
    assignments = [f"{quote(fields[name].column)} = %b" for name in same]
    assignments += [f"{quote(fields[name].column)} = u.{quote(fields[name].column)}" for name in each]
    arrays = [f"%b::{pk_field.db_type(connection)}[]"]
    arrays += [f"%b::{fields[name].db_type(connection).split('(')[0]}[]" for name in each]
    aliases = ", ".join(quote(c) for c in [pk_field.column, *(fields[name].column for name in each)])
    sql = (
        f"UPDATE {quote(model._meta.db_table)} AS t SET {', '.join(assignments)} "
        f"FROM unnest({', '.join(arrays)}) AS u({aliases}) "
        f"WHERE t.{quote(pk_field.column)} = u.{quote(pk_field.column)}"
    )
    params = [fields[name].get_db_prep_save(value, connection) for name, value in same.items()]
    params.append(list(pks))
    for name, values in each.items():
        params.append([fields[name].get_db_prep_save(value, connection) for value in values])
    # A plain psycopg cursor on Django's connection (binary array parameters: server-side binding).
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params)


def _insert_orm(model, rows: Iterable[dict]) -> None:
    json_fields = [f.attname for f in model._meta.concrete_fields if isinstance(f, models.JSONField)]
    objects = []
    for row in rows:
        row = dict(row)
        for name in json_fields:
            if isinstance(row.get(name), RawJSON):
                row[name] = json.loads(row[name])
        objects.append(model(**row))
    model.objects.bulk_create(objects)


# Stateless between calls: json.dumps(…, cls=DjangoJSONEncoder) without building an encoder each time.
_ENCODER = DjangoJSONEncoder()


def encode_json(payload) -> RawJSON:
    """A payload encoded the way the outbox stores it (Django's encoder: dates, Decimals, UUIDs as text)."""
    return RawJSON(_ENCODER.encode(payload))


def in_values(values: Iterable, db_type: str = "bigint"):
    """The right-hand side of an `__in` lookup over many values. On PostgreSQL one array parameter
    (`IN (SELECT unnest(%s::bigint[]))`): compiling and quoting 500 separate parameters costs several
    times the query itself. Elsewhere, the plain list."""
    values = list(values)
    if connection.vendor != "postgresql":
        return values
    return RawSQL(f"SELECT unnest(%s::{db_type}[])", [values])


def autocommit_fetchone(sql: str, params: Sequence):
    """Runs one statement of a hot path on its own (autocommit, outside any transaction) and returns its
    first row (None when it returns none).

    On PostgreSQL the parameters are bound by the server (a plain psycopg 3 cursor) instead of being quoted
    into the text in Python first, as Django's cursors do. Not prepared: Django turns psycopg's prepared
    statements off so that connection poolers work. The statement is sent on the connection directly, so
    Django's once-per-request health check (`SELECT 1`, a round trip) does not run for it; instead, when
    the statement fails on a connection kept from an earlier request (the server closed it meanwhile), the
    connection is closed and the statement sent once more on a new one: what the health check would have
    done, paid only when it happens. So the statement must be safe to send twice (the webhook's INSERT …
    ON CONFLICT DO NOTHING is: the server may have applied it before the connection dropped). Elsewhere
    (SQLite) a Django cursor runs it.
    """
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    if connection.in_atomic_block:
        raise RuntimeError("autocommit_fetchone() runs on its own, outside transactions")
    for attempt in (1, 2):
        kept = connection.connection is not None
        connection.ensure_connection()
        try:
            with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
                cursor.execute(sql, params)
                return cursor.fetchone()
        except OperationalError:
            if attempt == 2 or not kept or connection.is_usable():
                raise
            connection.close()
    return None  # unreachable: the second attempt returns or raises
