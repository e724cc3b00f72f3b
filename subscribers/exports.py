"""Assinantes as CSV: streamed from the database in chunks, so memory stays flat for any size.

Two flavours: "human" (the default, for spreadsheets in pt-BR: dd/mm/aaaa dates, "1.234,56" amounts)
and "machine" (ISO dates, integer centavos). Every cell that a spreadsheet would read as a formula is
neutralised with a leading quote (CSV injection, OWASP).

The columns (header, Python formatter, SQL expression) are defined once in `subscribers.columns`, which
the Assinantes list shares. Speed (bench/subscribers.py, bar ≥ 200,000 rows/s): on PostgreSQL the database
writes the CSV — `COPY (<the list's queryset with every column's SQL cell>) TO STDOUT WITH (FORMAT csv)` —
and Python only passes the bytes on. Elsewhere (SQLite, `make run`) rows are read as tuples and formatted by
`RowFormatter` with every column's Python formatter; `csv_line` quotes exactly as COPY does, so both paths
give the same bytes (tests/subscribers/test_subscriber_export_copy.py). Everything that depends on the
request (language, time zone) is captured when the export is built, because the stream runs after the view
has returned.
"""

import datetime as dt
import logging
from collections.abc import Iterable, Iterator
from functools import partial
from operator import itemgetter

import psycopg
from django.core.exceptions import FieldDoesNotExist
from django.db import connections, transaction
from django.db.models import F, OrderBy, QuerySet
from psycopg import generators, pq

from subscribers.choices import ExportStatus
from subscribers.columns import COLUMNS, HUMAN, Cells, Formats, Sql, neutralize
from subscribers.columns import MACHINE as MACHINE  # the views name both formats through this module
from subscribers.models import SubscriberExport
from subscribers.services.exports import subscriber_export_finish

logger = logging.getLogger(__name__)

BOM = "\ufeff"
DELIMITERS = {"semicolon": ";", "comma": ","}
CHUNK_SIZE = 2000
COPY_CHUNK_BYTES = 256 * 1024
# The PostgreSQL export's first statement: this many rows, read in order without sorting them all.
FIRST_ROWS = 10_000
# The cookie the "Exportar" button waits for (static/js/export-download.js): its value is the token the
# button sent in `download_token`, set on the response so the browser sees it when the download starts.
DOWNLOAD_COOKIE = "subscriber_export_download"


def export_fields() -> tuple[str, ...]:
    """What the Python path reads per row: every column's fields once, in column order."""
    return tuple(dict.fromkeys(name for column in COLUMNS for name in column.fields))


def export_queryset(queryset: QuerySet, tz) -> QuerySet:
    """`queryset` (the list's subscriptions, filtered and sorted) as `export_fields()` tuples. Instants come
    back as days on the merchant's clock computed by the database: a date is far cheaper to load than an
    aware datetime."""
    annotations = {
        name: expression(tz) for column in COLUMNS for name, expression in column.annotations.items()
    }
    return queryset.annotate(**annotations).values_list(*export_fields())


def header() -> list[str]:
    return [str(column.header) for column in COLUMNS]


class RowFormatter:
    """Turns one `export_fields()` tuple into CSV cells with every column's Python formatter, in the
    language and time zone current when it is built."""

    def __init__(self, output_format: str = HUMAN):
        self.formats = Formats(output_format)
        self.tz = self.formats.tz
        index = {name: position for position, name in enumerate(export_fields())}
        # Per column: its formatter bound to the formats, and the positions of its values (an int for one
        # value, so the common case costs one call per cell).
        self._plan = [
            (
                partial(column.python, self.formats),
                index[column.fields[0]]
                if len(column.fields) == 1
                else itemgetter(*map(index.get, column.fields)),
            )
            for column in COLUMNS
        ]

    def __call__(self, values: tuple) -> list[str]:
        return [
            neutralize(cell(values[at]) if at.__class__ is int else cell(*at(values)))
            for cell, at in self._plan
        ]


def csv_line(cells, delimiter: str) -> str:
    """One CSV line exactly as PostgreSQL's COPY … (FORMAT csv) writes it, so both export paths give the
    same bytes: a cell is quoted when it holds the delimiter, a quote or a line break (rows have more
    than one cell, so COPY does not quote a lone backslash-dot); lines end with a bare line feed."""
    return (
        delimiter.join(
            '"' + cell.replace('"', '""') + '"'
            if cell and (delimiter in cell or '"' in cell or "\n" in cell or "\r" in cell)
            else cell or ""
            for cell in cells
        )
        + "\n"
    )


def stream_csv(
    queryset: QuerySet,
    *,
    delimiter: str = ";",
    output_format: str = HUMAN,
    counter: list | None = None,
    walks=(),
) -> Iterator[bytes]:
    """Yields the BOM and header, then the rows in chunks, as UTF-8: written by PostgreSQL itself (`COPY`)
    there, by Python (`RowFormatter`) elsewhere (SQLite) — the same bytes either way.

    `queryset` is the list's (filtered, sorted) subscriptions; `counter[0]` counts the rows sent so far;
    `walks` are the list's `core.pagination.GroupWalk`s (an order by plan or salesperson is then written
    group by group, see stream_csv_copy).
    """
    counter = counter if counter is not None else [0]
    # The header is ours: written as it is (tests/subscribers/test_subscriber_export.py checks that no
    # header starts with a formula character).
    yield (BOM + csv_line(header(), delimiter)).encode()
    if connections[queryset.db].vendor == "postgresql":
        chunks = stream_csv_copy(
            queryset, delimiter=delimiter, output_format=output_format, counter=counter, walks=walks
        )
    else:
        chunks = stream_csv_rows(queryset, delimiter=delimiter, output_format=output_format, counter=counter)
    yield from chunks


def stream_csv_rows(
    queryset: QuerySet, *, delimiter: str, output_format: str, counter: list
) -> Iterator[str]:
    """The rows formatted in Python, one string per CHUNK_SIZE subscriptions (any database)."""
    formatter = RowFormatter(output_format)
    # In a transaction, PostgreSQL's server-side cursor streams: outside one (autocommit) Django declares it
    # WITH HOLD, which computes the whole result before the first row.
    with transaction.atomic(using=queryset.db):
        rows = export_queryset(queryset, formatter.tz).iterator(chunk_size=CHUNK_SIZE)
        while True:
            lines = []
            for values in rows:
                lines.append(csv_line(formatter(values), delimiter))
                if len(lines) == CHUNK_SIZE:
                    break
            if not lines:
                return
            counter[0] += len(lines)
            yield "".join(lines).encode()


def _segments(queryset: QuerySet, output_format: str, walks) -> tuple:
    """(head, rest) COPY sources: `head` is the first FIRST_ROWS rows, `rest(sent)` the rows after the
    `sent` ones head sent (None: nothing follows).

    An order by a name on another table (Plano, Vendedor) cannot read the first rows through an index: its
    head is the first group's first rows (`GroupWalk.split`: the first plan or salesperson in the names'
    order, read through the walk's index), so the download starts at once; the rest is one COPY of the
    whole order after them, sorted by PostgreSQL like the default order's rest (one COPY per group read
    every group through its index in that order, a third slower than one sort), sorted by the groups'
    ranks rather than their names (`GroupWalk.ranked`)."""
    order = queryset.query.order_by
    sort = next(
        ((walk, walk.descending(order)) for walk in walks if walk.descending(order) is not None), None
    )
    values = sort[0].group_values(queryset) if sort else None
    salespeople = salesperson_cells(queryset, output_format, walks, known=sort and (sort[0], values))
    cells = copy_queryset(queryset, output_format, salespeople=salespeople)
    if sort is None:
        return cells[:FIRST_ROWS], lambda sent: cells[FIRST_ROWS:] if sent == FIRST_ROWS else None
    walk, descending = sort
    groups = walk.split(queryset, descending=descending, values=values)
    head = copy_queryset(groups[0], output_format, salespeople=salespeople) if groups else cells
    # The same order, sorted by each group's rank rather than by its name (GroupWalk.ranked).
    ranked = walk.ranked(queryset, descending=descending, values=values)
    ranked = copy_queryset(ranked, output_format, salespeople=salespeople)
    return head[:FIRST_ROWS], lambda sent: ranked[sent:]


# Up to this many salespeople the Vendedor cell is chosen by id (a CASE: one comparison per WHEN, in turn)
# rather than written from the joined user on every row.
MAX_SALESPEOPLE_BY_ID = 16


def salesperson_cells(queryset: QuerySet, output_format: str, walks, *, known=None) -> dict | None:
    """{salesperson id: Vendedor cell} for every salesperson in the rows' scope (the Vendedor walk's groups,
    one index probe each; `known` = (walk, its groups) when already found), each cell written by
    PostgreSQL with the per-row expression (`Cells.sql_person`), so the bytes are the same; None without
    that walk or past MAX_SALESPEOPLE_BY_ID. Choosing a cell by id costs a fraction of writing the name on
    every row and needs no join to the users (~0.5 s less PostgreSQL CPU at a million rows;
    bench/README.md, session 9)."""
    walk = next((walk for walk in walks if walk.field == "salesperson"), None)
    if walk is None:
        return None
    values = known[1] if known and known[0] is walk else walk.group_values(queryset, none=False)
    ids = [value for value in values if value is not None]
    if len(ids) > MAX_SALESPEOPLE_BY_ID:
        return None
    users = queryset.model._meta.get_field("salesperson").related_model.objects.using(queryset.db)
    cell = Cells(output_format).sql_person()
    return dict(users.filter(pk__in=ids).annotate(export_cell=cell).values_list("pk", "export_cell"))


def stream_csv_copy(
    queryset: QuerySet, *, delimiter: str, output_format: str, counter: list, walks=()
) -> Iterator[bytes]:
    """The rows as PostgreSQL writes them: `COPY (<the queryset, every cell formatted in SQL>) TO STDOUT`,
    passed on as the server sends them (no Python work per row).

    Two statements, so the download starts at once: the first `FIRST_ROWS` rows (with that LIMIT the
    planner reads them in order through the sort's index and sends the first within milliseconds), then
    the rest (OFFSET: the plan that is fastest for every row — it sorts them all before sending any, a few
    seconds at a million, during which the download waits). Both read one snapshot (REPEATABLE READ), so
    a row written meanwhile cannot appear twice or go missing at the seam. Sorted by plan or salesperson
    the first rows are the first group's, read through its index (`_segments`)."""
    if delimiter not in DELIMITERS.values():
        raise ValueError(f"Unsupported delimiter {delimiter!r}")
    connection = connections[queryset.db]
    outermost = not connection.in_atomic_block
    with transaction.atomic(using=queryset.db), connection.cursor() as cursor:
        if outermost:  # must be the transaction's first statement; a caller's transaction keeps its own
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        # For this transaction (set_config(…, true) is SET LOCAL), in one statement: no JIT compilation (it
        # only delays a query that reads every row through index lookups); more of the sort by the list's
        # order in memory (per worker); the DateStyle the cells write days in and the time zone whose days
        # they are (Cells.date_style, Cells.time_zone), the caller's read first to be put back for a
        # caller's transaction.
        cells = Cells(output_format)
        cursor.execute(
            "SELECT current_setting('DateStyle'), current_setting('TimeZone'),"
            " set_config('jit', 'off', true), set_config('work_mem', '64MB', true),"
            " set_config('DateStyle', %s, true), set_config('TimeZone', %s, true)",
            [cells.date_style, cells.time_zone],
        )
        previous_style, previous_zone = cursor.fetchone()[:2]
        raw = cursor.cursor  # psycopg's own: COPY merges the parameters client-side
        head, rest = _segments(queryset, output_format, walks)
        sent = yield from _copy(raw, head, delimiter=delimiter, counter=counter, sent=0)
        rest = rest(sent)
        if rest is not None:
            yield from _copy(raw, rest, delimiter=delimiter, counter=counter, sent=sent)
        if not outermost:  # SET LOCAL outlives this savepoint: the caller reads its dates in its own style
            cursor.execute(
                "SELECT set_config('DateStyle', %s, true), set_config('TimeZone', %s, true)",
                [previous_style, previous_zone],
            )


def _copy(raw, part, *, delimiter: str, counter: list, sent: int):
    """COPYs `part`; yields the bytes, returns the rows sent so far (`sent` before it)."""
    sql, params = part.query.sql_with_params()
    # The rows select their sort keys before the cells (copy_queryset): the file is the cells alone.
    cells = ", ".join(map(connections[part.db].ops.quote_name, CELL_NAMES))
    statement = f"COPY (SELECT {cells} FROM ({sql}) AS export_rows) TO STDOUT WITH (FORMAT csv, DELIMITER %s)"
    params = (*params, delimiter)
    buffer = bytearray()
    before = counter[0]
    with raw.copy(statement, params):
        # One row per message, passed on in chunks of COPY_CHUNK_BYTES. A row libpq has already received
        # is taken directly (_copy_wait does the rest): psycopg's `Copy` iteration costs a generator and a
        # wait per row (~1.0 s of Python CPU per million rows relayed, ~0.4 s this way; bench/README.md,
        # session 9).
        take = raw.connection.pgconn.get_copy_data
        while True:
            size, data = take(1)
            if size <= 0:
                data = _copy_wait(raw.connection, size)
                if data.__class__ is int:  # the end: the COPY's row count
                    rows = data
                    break
            buffer += data
            # The first rows go out at once; then chunks of COPY_CHUNK_BYTES.
            if len(buffer) >= COPY_CHUNK_BYTES or (sent == 0 and counter[0] == 0):
                # A line break inside a quoted cell makes this an upper bound while streaming; the
                # COPY's own row count replaces it at the end.
                counter[0] += buffer.count(b"\n")
                yield bytes(buffer)
                buffer.clear()
    if buffer:
        counter[0] += buffer.count(b"\n")
        yield bytes(buffer)
    sent += rows if rows >= 0 else counter[0] - before
    counter[0] = sent
    return sent


def _copy_wait(connection, size: int):
    """After `get_copy_data` found no row (`size` 0: none received yet; -1: the COPY ended), inside
    psycopg's `copy()` block on `connection`: the next row, or the COPY's row count (an int; -1 unknown)
    at the end, raising the statement's error if it failed.

    Waiting is psycopg's own generator's (`generators.copy_from`, which also reads the end). An end seen
    directly has left libpq's COPY state: the result is read as copy_from reads it. A close mid-COPY
    leaves libpq in the COPY, which the `copy()` block cancels and drains as before."""
    pgconn = connection.pgconn
    if size == 0:
        data = connection.wait(generators.copy_from(pgconn))
        if isinstance(data, memoryview):
            return data
        result = data
    else:
        results = connection.wait(generators.fetch_many(pgconn))
        if len(results) != 1:
            raise psycopg.ProgrammingError("the COPY ended with other statements' results")
        result = results[0]
        if result.status != pq.ExecStatus.COMMAND_OK:
            raise psycopg.errors.error_from_result(result, encoding=connection.info.encoding)
    return result.command_tuples if result.command_tuples is not None else -1


CELL_NAMES = tuple(f"export_cell_{n}" for n in range(len(COLUMNS)))


def copy_queryset(
    queryset: QuerySet, output_format: str = HUMAN, *, salespeople: dict | None = None
) -> QuerySet:
    """`queryset` (filtered, sorted) as one text cell per CSV column, formatted by the database. An empty
    cell is NULL, which COPY writes as nothing (it would quote an empty string). `salespeople`: see
    salesperson_cells.

    The sort keys, when the order allows it (`_sort_keys`), are selected before the cells and sorted by
    there: PostgreSQL sorts the rows as they are selected, and a key after eighteen text cells is found by
    walking every cell of the row on each comparison that ties on the first key — nearly all of them when
    the first key is a plan's or a salesperson's rank (the export's PostgreSQL CPU ~30 % lower sorted by
    plan, ~15 % in the default order; bench/README.md, session 9). `_copy` then COPYs the cells alone."""
    cells = Cells(output_format, salespeople=salespeople)
    names = {
        name: Sql("NULLIF({0}, '')", column.sql(cells))
        for name, column in zip(CELL_NAMES, COLUMNS, strict=True)
    }
    sort = _sort_keys(queryset)
    if sort is None:
        return queryset.annotate(**names).values_list(*names)
    keys, ordering = sort
    return queryset.annotate(**keys, **names).order_by(*ordering).values_list(*keys, *names)


def _sort_keys(queryset: QuerySet) -> tuple[dict, list] | None:
    """`queryset`'s ordering as annotations (export_key_0, …) and the same ordering by them, or None when
    an item is not a plain field path, an annotation or an expression (a relation's own ordering, a random
    order, extra()): such an export keeps its ordering as it is."""
    query = queryset.query
    order = query.order_by or (query.get_meta().ordering if query.default_ordering else ())
    if not order or query.extra_order_by or query.distinct or query.combinator:
        return None
    keys, ordering = {}, []
    for n, item in enumerate(order):
        alias = f"export_key_{n}"
        if isinstance(item, str):
            name = item.removeprefix("-")
            if not _names_a_value(queryset, name):
                return None
            keys[alias] = F(name)
            ordering.append(OrderBy(F(alias), descending=item.startswith("-")))
        elif isinstance(item, OrderBy):
            keys[alias] = item.expression
            key = item.copy()
            key.set_source_expressions([F(alias)])
            ordering.append(key)
        elif hasattr(item, "resolve_expression") and not getattr(item, "contains_aggregate", True):
            keys[alias] = item
            ordering.append(OrderBy(F(alias)))
        else:
            return None
    return keys, ordering


def _names_a_value(queryset: QuerySet, name: str) -> bool:
    """Whether `order_by(name)` sorts by what `F(name)` is: an annotation, the primary key, or a path of
    fields ending in a value rather than a relation (which order_by sorts by the related model's ordering)."""
    if name in queryset.query.annotations or name == "pk":
        return True
    model, parts = queryset.model, name.split("__")
    for position, part in enumerate(parts):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return False
        last = position == len(parts) - 1
        if last:
            # plan_id (the column) is a value; "plan" (the relation) is not.
            return not field.is_relation or part == getattr(field, "attname", None)
        if not field.is_relation or field.related_model is None:
            return False
        model = field.related_model
    return False


class RecordedExport(Iterable):
    """The response body of a recorded export: streams the CSV and, when the stream ends, records on the
    `SubscriberExport` how it ended — finished with its row count, failed on an error, or interrupted when
    the server closes it early (the browser went away). Django calls close() when the response is done."""

    def __init__(
        self, export: SubscriberExport, queryset: QuerySet, *, delimiter: str, output_format: str, walks=()
    ):
        self.export = export
        self.counter = [0]
        self._chunks = stream_csv(
            queryset, delimiter=delimiter, output_format=output_format, counter=self.counter, walks=walks
        )
        self._ended = False

    def __iter__(self):
        try:
            yield from self._chunks
        except Exception:
            self._end(ExportStatus.FAILED)
            raise
        self._end(ExportStatus.FINISHED)

    def close(self):
        self._chunks.close()
        self._end(ExportStatus.INTERRUPTED)

    def _end(self, status):
        if self._ended:
            return
        self._ended = True
        try:
            subscriber_export_finish(export=self.export, status=status, row_count=self.counter[0])
        except Exception:  # the download itself must not fail because its audit row could not be closed
            logger.exception("Could not record the end of subscriber export %s", self.export.pk)


def export_filename(now: dt.datetime) -> str:
    return "assinantes-{}.csv".format(now.strftime("%Y%m%d-%H%M"))
