"""Pagination for lists that may hold a million rows: a total that does not cost a full COUNT on every
request, a page's ids picked by a narrow query before its rows are built (deferred join, so a middle
page does not build every skipped row), and far pages read from the other end of the ordering so the
last page is as fast as the first.

Counting (`count_rows`), on PostgreSQL:

- a count cached for these filters is used as it is (no query at all);
- otherwise the planner's estimate of the filtered rows comes first (EXPLAIN, no rows read, ~1 ms);
- below `LIST_EXACT_COUNT_THRESHOLD` (20,000) the page counts exactly — cheap at that size (an estimate
  far too low, which the planner can make for unusual filters, costs one slower COUNT, whose total is
  then cached as a larger list's is);
- above it, an exact COUNT cached for `LIST_COUNT_CACHE_SECONDS` (60) per list and filter set is shown
  with its age ("atualizado há 1 min"); the COUNT runs with a `LIST_COUNT_TIMEOUT_MS` (200 ms) statement
  timeout, and when it would take longer the page shows the planner's estimate instead ("cerca de …
  (estimativa)"), and keeps showing it for the cache period rather than retrying on every request.

Other databases (the embedded SQLite install, small by nature) always count exactly.
"""

import dataclasses
import datetime as dt
import json

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import DatabaseError, connections, transaction
from django.db.models import Q
from django.utils import timezone

EXACT = "exact"
CACHED = "cached"
ESTIMATE = "estimate"


DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 500


class BoundedPaginator(Paginator):
    """A paginator whose page size stays between 1 and MAX_PER_PAGE whatever `?per_page=` says.

    django-tables2 takes `per_page` from the query string as any integer: -1 made a negative slice and
    100000000000000000000 an OFFSET past PostgreSQL's bigint (both a 500). Below 1 the default is used,
    above the cap the cap."""

    def __init__(self, object_list, per_page, *args, **kwargs):
        try:
            per_page = int(per_page)
        except (TypeError, ValueError):
            per_page = DEFAULT_PER_PAGE
        if per_page < 1:
            per_page = DEFAULT_PER_PAGE
        super().__init__(object_list, min(per_page, MAX_PER_PAGE), *args, **kwargs)


class KnownCountPaginator(BoundedPaginator):
    """A paginator told the row count by a query the page runs anyway (e.g. the header counts),
    so it does not run a second COUNT over the same rows."""

    def __init__(self, object_list, per_page, *, count=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        if count is not None:
            self.count = count  # overrides the cached_property for this instance


@dataclasses.dataclass(frozen=True)
class RowCount:
    """How many rows a list holds and how that number was obtained (exact, cached at `as_of`, estimate)."""

    value: int
    mode: str = EXACT
    as_of: dt.datetime | None = None

    @property
    def is_exact(self) -> bool:
        return self.mode == EXACT

    @property
    def is_estimate(self) -> bool:
        return self.mode == ESTIMATE

    @property
    def shown(self) -> int:
        """The number to show: estimates rounded to two significant digits (1.034.512 → 1.000.000)."""
        if self.mode != ESTIMATE or self.value < 100:
            return self.value
        magnitude = 10 ** (len(str(self.value)) - 2)
        return round(self.value / magnitude) * magnitude

    @property
    def age_minutes(self) -> int:
        """Whole minutes since a cached count was taken (0 for a fresh or exact one)."""
        if self.as_of is None:
            return 0
        return int((timezone.now() - self.as_of).total_seconds() // 60)


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def estimate_rows(queryset) -> int | None:
    """The PostgreSQL planner's estimate of how many rows `queryset` returns (None elsewhere)."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    plan = json.loads(queryset.order_by().values("pk").explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


def _timed(using: str, timeout_ms: int, run):
    """`run()` under a PostgreSQL statement timeout of `timeout_ms`; None when it would take longer."""
    connection = connections[using]
    nested = connection.in_atomic_block
    try:
        with transaction.atomic(using=using):
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL statement_timeout = %s", [f"{int(timeout_ms)}ms"])
            value = run()
            if nested:  # SET LOCAL would outlive this savepoint and time out the rest of the transaction
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL statement_timeout = DEFAULT")
            return value
    except DatabaseError:  # QueryCanceled: the count would have been slow
        return None


def _timed_count(queryset, timeout_ms: int) -> int | None:
    """COUNT(*) of `queryset` unless it takes longer than `timeout_ms` (then None)."""
    return _timed(queryset.db, timeout_ms, queryset.count)


# `count_rows(with_page=True)` leaves the count to the page's id query below this estimate: a rare search,
# whose page reads every match anyway (a trigram bitmap scan), so one query finds them once instead of
# twice. Near LIST_EXACT_COUNT_THRESHOLD it saved nothing measurable (`canceled range`, 75,241 rows
# estimated at 19,018: ~37 ms of database time either way at a million, bench/README.md session 8), and
# where the page alone stops after 25 rows of an index in the list's order the window makes it read and
# buffer every match: those lists keep the COUNT.
COUNT_WITH_PAGE_BELOW = 2_000


def count_rows(queryset, *, cache_key: str, with_page: bool = False) -> RowCount | None:
    """The row count of `queryset` for a list's header and paginator, exact only where that is cheap.

    `cache_key` names the list and its filters (e.g. merchant + normalised query string). With
    `with_page`, an exact count of a list estimated under COUNT_WITH_PAGE_BELOW is not taken here but by
    the page's own id query (`LargeListPaginator(counter=…)`): None. The matches are then found once per
    request instead of twice — a rare search's trigram scan was half of its page's database time.
    """
    if connections[queryset.db].vendor != "postgresql" or queryset.query.is_empty():
        return RowCount(queryset.count())
    cached = cache.get(cache_key)
    if cached is None:
        estimate = estimate_rows(queryset)
        if estimate < _setting("LIST_EXACT_COUNT_THRESHOLD", 20_000):
            if with_page and estimate < COUNT_WITH_PAGE_BELOW:
                return None
            # An estimate far too low (an unusual filter: `canceled range` at a million, 75,000 rows
            # estimated at 19,000) would count a large list on every request: once counted, it is cached
            # like any large list's count.
            return remember_count(cache_key, queryset.count())
        value = _timed_count(queryset, _setting("LIST_COUNT_TIMEOUT_MS", 200))
        cached = {"value": value, "estimate": estimate, "as_of": timezone.now()}
        cache.set(cache_key, cached, _setting("LIST_COUNT_CACHE_SECONDS", 60))
    if cached["value"] is None:  # counting was too slow a moment ago: don't try again until it expires
        return RowCount(cached["estimate"], ESTIMATE)
    return RowCount(cached["value"], CACHED, cached["as_of"])


def remember_count(cache_key: str, value: int) -> RowCount:
    """A total counted exactly some other way (e.g. the sum of a walk's group counts): cached under
    `cache_key` as `count_rows` caches it when the list is large (it would count a small one exactly)."""
    if value < _setting("LIST_EXACT_COUNT_THRESHOLD", 20_000):
        return RowCount(value)
    as_of = timezone.now()
    cache.set(
        cache_key,
        {"value": value, "estimate": value, "as_of": as_of},
        _setting("LIST_COUNT_CACHE_SECONDS", 60),
    )
    return RowCount(value, CACHED, as_of)


# Each group hands over up to OFFSET + LIMIT rows to be merged: past this depth (page 400 of 25 rows, from
# either end) the walk costs more than sorting every row (a middle page of a million took 3.5-12 s against
# ~1 s for the plain sort, on a loaded machine), so such pages skip whole groups by their counts instead
# (GroupWalk.group_counts, GroupWalk.ids_by_counts).
MAX_WALK_DEPTH = 10_000


@dataclasses.dataclass(frozen=True)
class GroupWalk:
    """An ordering by a name on another table (a plan's, a salesperson's) read group by group.

    `ORDER BY plan.name, …` cannot walk an index of the listed table, so PostgreSQL sorted every matching
    row for each page (125–240 ms at 200,000 rows, more at a million). The groups are few, though: a page
    is the concatenation of each group's rows in `within` order, each read from an index that starts with
    (scope…, `field`, within…). One query, the page's ids:

    1. the groups: the values `field` takes within `scope` (e.g. the merchant), found by a loose index scan
       (one index probe per distinct value, not a DISTINCT over every row), numbered in the related
       table's `names` order as PostgreSQL sorts them;
    2. per group (LATERAL), its first OFFSET + LIMIT rows of the filtered queryset in `within` order, plus
       those of the rows without a value (NULL names sort last ascending, first descending, as PostgreSQL
       sorts them);
    3. the page: those rows by (group, within…, pk), OFFSET, LIMIT.

    `order_by` is the ascending ordering the walk answers (the table's, e.g. ("plan__name", "plan_id",
    "contract_date", "pk")); it must be the `names`, `field`'s id, `within` and "pk", so that a walk and a
    sort give the same rows in the same order, ties of equal names included. PostgreSQL only.
    """

    order_by: tuple[str, ...]
    field: str
    names: tuple[str, ...]
    within: tuple[str, ...]
    scope: dict

    # Reads the first pages of its ordering too (ValueWalk only deep ones): LargeListPaginator then leaves
    # those pages to the walk rather than to one query that also counts (`_page_and_count`).
    walks_first_pages = True

    def descending(self, order_by) -> bool | None:
        """False when `order_by` is this ordering, True when it is its reverse, None otherwise."""
        order_by = tuple(order_by)
        if order_by == self.order_by:
            return False
        if order_by == tuple(f"-{name}" for name in self.order_by):
            return True
        return None

    def ids(self, queryset, *, descending: bool, offset: int, limit: int, cache_key: str = "") -> list | None:
        """The pks of rows offset … offset + limit of `queryset` in this order (reversed when
        `descending`); None when neither way applies (not PostgreSQL; deeper than MAX_WALK_DEPTH and the
        groups could not be counted in time).

        Up to MAX_WALK_DEPTH rows from the start the walk merges each group's first rows (one query, no
        count needed); deeper, the page skips whole groups by their counts (`group_counts`, cached under
        `cache_key` like the list's total) and reads only the groups it falls in (`ids_by_counts`)."""
        connection = connections[queryset.db]
        if connection.vendor != "postgresql":
            return None
        if offset + limit > MAX_WALK_DEPTH:
            groups = self.group_counts(queryset, cache_key=cache_key)
            if groups is None:
                return None
            return self.ids_by_counts(queryset, groups, descending=descending, offset=offset, limit=limit)
        return self._walk_ids(queryset, descending=descending, offset=offset, limit=limit)

    def split(self, queryset, *, descending: bool, values: list | None = None) -> list:
        """`queryset` (ordered by this walk, or its reverse when `descending`) as one queryset per group,
        in the ordering's group order, each ordered `within` its group: their rows one after the other are
        the plain sort's, and each reads its group through the walk's index instead of the whole list
        being sorted by a joined name (the CSV export streams them one by one).

        The groups are the values `field` takes within `scope` (a loose index scan: one probe per
        value, plus one for the rows without a value); a group with no row left by the filters is an
        empty queryset (`values`: the groups when already found by `group_values`). PostgreSQL only."""
        if values is None:
            values = self.group_values(queryset)
        within = [f"-{name}" if descending else name for name in (*self.within, "pk")]
        return [
            queryset.filter(self._condition(queryset, value)).order_by(*within)
            for value in (reversed(values) if descending else values)
        ]

    def ranked(self, queryset, *, descending: bool, values: list | None = None):
        """`queryset` in this ordering (reversed when `descending`) by each group's rank among
        `values` (`group_values`) instead of by the names: the same rows in the same order, but
        PostgreSQL sorts integers rather than comparing a joined name in the collation a million
        times (the whole CSV sorted by plan took three times the default order's sort)."""
        from django.contrib.postgres.fields import ArrayField
        from django.db.models import BigIntegerField, F, Func, IntegerField, Value

        if values is None:
            values = self.group_values(queryset)
        ids = [value for value in values if value is not None]
        attname = queryset.model._meta.get_field(self.field).attname
        # array_position is NULL for the subscriptions without a value: last ascending, first descending,
        # where PostgreSQL sorts their NULL names.
        rank = Func(
            Value(ids, output_field=ArrayField(BigIntegerField())),
            F(attname),
            function="array_position",
            output_field=IntegerField(),
        )
        within = list(self.within)
        fields = [queryset.model._meta.get_field(name) for name in within]
        if len(fields) == 1 and fields[0].get_internal_type() == "DateField" and not fields[0].null:
            # One integer for the rank and the day (rank × 2³² + days since 1970; a missing rank is the
            # last, len(ids) + 1, where PostgreSQL sorts NULL): nearly every comparison of a rank alone
            # ties (a handful of groups), and each tie then reads the next key; with the day in the first
            # key ties are as rare as in the plain date order (the export's sort ~10 % less CPU).
            rank = Func(
                Func(rank, Value(len(ids) + 1), function="COALESCE"),
                F(within.pop()),
                arg_joiner="::bigint * 4294967296 + (",
                template="(%(expressions)s - DATE '1970-01-01'))",
                output_field=BigIntegerField(),
            )
        order = [rank.desc() if descending else rank.asc()]
        order += [f"-{name}" if descending else name for name in (*within, "pk")]
        return queryset.order_by(*order)

    def group_values(self, queryset, *, none: bool = True) -> list:
        """The values `field` takes within `scope`, in this ordering's (ascending) group order, None last
        when the filtered rows include some without a value (not looked for when `none` is False). A loose
        index scan (one probe per value)."""
        connection = connections[queryset.db]
        quote = connection.ops.quote_name
        model_field = queryset.model._meta.get_field(self.field)
        table, column = quote(queryset.model._meta.db_table), quote(model_field.column)
        target = model_field.related_model._meta
        scope = " AND ".join(f"{quote(name)} = %s" for name in self.scope)
        names = ", ".join(f"t.{quote(target.get_field(name).column)}" for name in self.names)
        sql = f"""
            WITH RECURSIVE used(v) AS (
                (SELECT {column} FROM {table} WHERE {scope} AND {column} IS NOT NULL
                 ORDER BY {column} LIMIT 1)
                UNION ALL
                SELECT (SELECT {column} FROM {table} WHERE {scope} AND {column} > used.v
                        ORDER BY {column} LIMIT 1)
                FROM used WHERE used.v IS NOT NULL
            )
            SELECT used.v FROM used JOIN {quote(target.db_table)} t ON t.{quote(target.pk.column)} = used.v
            ORDER BY {names}
        """
        scope_params = list(self.scope.values())
        with connection.cursor() as cursor:
            cursor.execute(sql, [*scope_params, *scope_params])
            values = [row[0] for row in cursor.fetchall()]
        if none and queryset.filter(**{f"{model_field.attname}__isnull": True}).exists():
            values.append(None)  # NULL names sort last ascending (PostgreSQL)
        return values

    def _condition(self, queryset, value) -> Q:
        attname = queryset.model._meta.get_field(self.field).attname
        return Q(**{f"{attname}__isnull": True}) if value is None else Q(**{attname: value})

    def group_counts(self, queryset, *, cache_key: str = "") -> list[tuple] | None:
        """[(group value, rows of `queryset` in it)] in this ordering's (ascending) group order, the
        group without a value last; None when counting takes longer than `LIST_GROUP_COUNT_TIMEOUT_MS`.

        One query: a GROUP BY over the filtered rows (an index-only scan of the walk's index when
        unfiltered), then its few groups ordered by name. With `cache_key` the result (or the timeout) is
        kept for `LIST_COUNT_CACHE_SECONDS`, like the list's total: a row added meanwhile can shift a deep
        page by a row, as it does the total's "atualizado há 1 min"."""
        from django.db.models import Count

        key = f"{cache_key}:groups:{self.field}" if cache_key else ""
        if key and (cached := cache.get(key)) is not None:
            return cached["groups"]
        connection = connections[queryset.db]
        quote = connection.ops.quote_name
        model_field = queryset.model._meta.get_field(self.field)
        target = model_field.related_model._meta
        counted, params = (
            queryset.order_by()
            .values_list(model_field.attname)
            .annotate(rows=Count("*"))
            .query.sql_with_params()
        )
        # Counted first, then named: the join is to a handful of groups, not to every row. The group
        # without a value has NULL names, which sort last ascending as in the list's ORDER BY.
        names = ", ".join(f"t.{quote(target.get_field(name).column)}" for name in self.names)
        sql = f"""
            SELECT c.v, c.n FROM ({counted}) AS c(v, n)
            LEFT JOIN {quote(target.db_table)} t ON t.{quote(target.pk.column)} = c.v
            ORDER BY {names}
        """

        def count():
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return [tuple(row) for row in cursor.fetchall()]

        groups = _timed(queryset.db, _setting("LIST_GROUP_COUNT_TIMEOUT_MS", 1000), count)
        if key:
            cache.set(key, {"groups": groups}, _setting("LIST_COUNT_CACHE_SECONDS", 60))
        return groups

    def ids_by_counts(self, queryset, groups, *, descending: bool, offset: int, limit: int) -> list:
        """The pks of rows offset … offset + limit, knowing each group's row count (`group_counts`): the
        groups before the page are skipped by count, and each group the page overlaps is read through its
        index from whichever of its ends is nearer (OFFSET within one group, not across the whole list).
        One query (UNION ALL of the groups' slices); the ids come unordered (the page orders its rows)."""
        within = [f"-{name}" if descending else name for name in (*self.within, "pk")]
        backwards = [name[1:] if name.startswith("-") else f"-{name}" for name in within]
        pieces, start = [], 0
        for value, rows in reversed(groups) if descending else groups:
            end = start + rows
            if end > offset and start < offset + limit:
                first = max(offset - start, 0)  # within the group
                last = min(offset + limit, end) - start
                group = queryset.filter(self._condition(queryset, value)).values_list("pk", flat=True)
                if first > rows - last:  # nearer the group's end: read it backwards
                    pieces.append(group.order_by(*backwards)[rows - last : rows - first])
                else:
                    pieces.append(group.order_by(*within)[first:last])
            if end >= offset + limit:
                break
            start = end
        if not pieces:
            return []
        return list(pieces[0].union(*pieces[1:], all=True) if len(pieces) > 1 else pieces[0])

    def _walk_ids(self, queryset, *, descending: bool, offset: int, limit: int) -> list:
        from django.db.models.expressions import RawSQL

        connection = connections[queryset.db]
        quote = connection.ops.quote_name
        model_field = queryset.model._meta.get_field(self.field)
        table, column = quote(queryset.model._meta.db_table), quote(model_field.column)
        target = model_field.related_model._meta
        direction = " DESC" if descending else ""
        scope = " AND ".join(f"{quote(name)} = %s" for name in self.scope)
        names = ", ".join(f"t.{quote(target.get_field(name).column)}{direction}" for name in self.names)
        within = [f"-{name}" if descending else name for name in (*self.within, "pk")]
        columns = ", ".join(["pk", *(f"w{i}" for i in range(len(self.within)))])

        def rows(condition):
            child = queryset.filter(condition).order_by(*within).values("pk", *self.within)
            return child[: offset + limit].query.sql_with_params()

        grouped, grouped_params = rows(Q(**{model_field.attname: RawSQL("groups.v", [])}))
        ungrouped, ungrouped_params = rows(Q(**{f"{model_field.attname}__isnull": True}))
        order = ", ".join(["g", *(f"w{i}{direction}" for i in range(len(self.within))), f"pk{direction}"])
        sql = f"""
            WITH RECURSIVE used(v) AS (
                (SELECT {column} FROM {table} WHERE {scope} AND {column} IS NOT NULL
                 ORDER BY {column} LIMIT 1)
                UNION ALL
                SELECT (SELECT {column} FROM {table} WHERE {scope} AND {column} > used.v
                        ORDER BY {column} LIMIT 1)
                FROM used WHERE used.v IS NOT NULL
            ), groups AS (
                SELECT row_number() OVER (ORDER BY {names}) AS g, used.v
                FROM used JOIN {quote(target.db_table)} t ON t.{quote(target.pk.column)} = used.v
            )
            SELECT pk FROM (
                SELECT groups.g, c.* FROM groups CROSS JOIN LATERAL ({grouped}) AS c({columns})
                UNION ALL
                SELECT {0 if descending else "NULL"} AS g, c.* FROM ({ungrouped}) AS c({columns})
            ) AS walk
            ORDER BY {order} LIMIT %s OFFSET %s
        """
        scope_params = list(self.scope.values())
        params = [*scope_params, *scope_params, *grouped_params, *ungrouped_params, limit, offset]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [row[0] for row in cursor.fetchall()]


@dataclasses.dataclass(frozen=True)
class ValueWalk(GroupWalk):
    """An ordering by a column of the listed table itself (e.g. ("contract_date", "pk")) whose deep pages
    skip whole values by their counts, as GroupWalk's deep pages skip whole plans.

    Its first pages need nothing: the ordering's index is walked to the page (a few thousand entries).
    A middle page of a million rows, though, made PostgreSQL step through half a million index entries for
    its OFFSET (~80 ms on an idle machine, the slowest page of Assinantes). Past MAX_WALK_DEPTH rows from
    either end the page counts the filtered rows per value once (`group_counts`: one GROUP BY over the
    index, cached with the list's total under its key), skips the values before the page by those
    counts, and reads the one or two values it falls in through the same index with a small OFFSET
    within the value. `order_by` must be (`field`, "pk"); `names`, `within` and `scope` are unused.
    PostgreSQL only.
    """

    names: tuple[str, ...] = ()
    within: tuple[str, ...] = ()
    scope: dict = dataclasses.field(default_factory=dict)

    walks_first_pages = False

    def ids(self, queryset, *, descending: bool, offset: int, limit: int, cache_key: str = "") -> list | None:
        if connections[queryset.db].vendor != "postgresql" or offset + limit <= MAX_WALK_DEPTH:
            return None  # near either end: the plain OFFSET through the index is cheap
        groups = self.group_counts(queryset, cache_key=cache_key)
        if groups is None:
            return None
        return self.ids_by_counts(queryset, groups, descending=descending, offset=offset, limit=limit)

    def group_counts(self, queryset, *, cache_key: str = "") -> list[tuple] | None:
        """[(value, rows of `queryset` with it)] in ascending order, NULL last (as PostgreSQL sorts it);
        None when counting takes longer than `LIST_GROUP_COUNT_TIMEOUT_MS`. Cached like GroupWalk's."""
        from django.db.models import Count, F

        key = f"{cache_key}:values:{self.field}" if cache_key else ""
        if key and (cached := cache.get(key)) is not None:
            return cached["groups"]
        attname = queryset.model._meta.get_field(self.field).attname
        counted = (
            queryset.order_by()
            .values_list(attname)
            .annotate(rows=Count("*"))
            .order_by(F(attname).asc(nulls_last=True))
        )

        def count():
            return [tuple(row) for row in counted]

        groups = _timed(queryset.db, _setting("LIST_GROUP_COUNT_TIMEOUT_MS", 1000), count)
        if key:
            cache.set(key, {"groups": groups}, _setting("LIST_COUNT_CACHE_SECONDS", 60))
        return groups

    def split(self, queryset, *, descending: bool, values=None) -> list:
        raise NotImplementedError("a ValueWalk only pages; its order needs no split")

    def ranked(self, queryset, *, descending: bool, values=None):
        raise NotImplementedError("a ValueWalk's order is already a column's")


class LargeListPaginator(KnownCountPaginator):
    """A page of a long, ordered QuerySet in one query that stays cheap wherever the page is.

    - **Deferred join.** The page's ids are chosen by a narrow inner query — the ordering, the filters,
      OFFSET/LIMIT, and only the primary key selected (so PostgreSQL walks an index-only path and skips
      rows without building them) — and the outer query builds just those rows with their joins and
      annotations: `WHERE id IN (SELECT id … ORDER BY … LIMIT … OFFSET …) ORDER BY …`. Without it every
      skipped row was projected, correlated subqueries included (seconds for a middle page of a million).
    - **Far pages from the end.** Pages past the middle pick their ids with the reversed ordering and a
      small OFFSET, so the last page costs what the first does. The rows are the same as a forward read
      when the count is exact; with a cached or estimated count the far pages are counted from the end.

    `rows` (optional) is the unfiltered QuerySet the outer query starts from (same annotations and
    select_related): the filters then run once, in the inner query; without it the outer query repeats
    them. The ordering must end with a unique column (e.g. "-pk") for pages to be stable.

    `walks` (optional) are `GroupWalk`s: an ordering one of them answers picks its ids group by group;
    `count_cache_key` (the key the list's total is cached under) keeps their per-group counts too.

    The count: `count` when the caller knows it; else `counter()` (e.g. `count_rows(…, with_page=True)`)
    gives a `RowCount`, or None for a small list, which the page's id query then counts too
    (`COUNT(*) OVER ()`, `_page_and_count`: a rare search finds its matches once, not once for the COUNT
    and once for the page); `count_with_page=True` is the same without a counter. A deep page read by a
    walk (past MAX_WALK_DEPTH) while no total is cached under `count_cache_key` counts by the walk's
    per-group counts, which it needs anyway and whose sum is the total (`_count_by_groups`: one GROUP BY
    instead of a COUNT and then the GROUP BY). `row_count` says how the count was obtained.
    """

    def __init__(
        self,
        object_list,
        per_page,
        *,
        rows=None,
        walks=(),
        count_cache_key="",
        counter=None,
        count_with_page=False,
        **kwargs,
    ):
        super().__init__(object_list, per_page, **kwargs)
        self.rows = rows
        self.walks = walks
        self.count_cache_key = count_cache_key
        self.counter = counter if counter is not None else (lambda: None) if count_with_page else None
        self._row_count = None

    @property
    def row_count(self) -> RowCount:
        """The count and how it was obtained (exact, cached, estimate)."""
        return self._row_count or RowCount(self.count)

    def page(self, number):
        if self.counter is not None and "count" not in self.__dict__:
            page = self._count_first(number)
            if page is not None:
                return page
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        queryset, rebuild = self._queryset()
        if queryset is None or not queryset.ordered or not queryset.query.order_by:
            return super().page(number)
        if top <= bottom:
            return self._get_page(rebuild([]), number, self)
        if bottom <= self.count // 2:
            # A whole page's LIMIT even when fewer rows are left: the same rows, but the planner weighs
            # walking the order's index against finding every match (e.g. a search's trigram index) by
            # this LIMIT, and LIMIT 1 for an exact count of 1 made a rare term walk the whole index.
            ids = self._walk(queryset, offset=bottom, limit=self.per_page, reverse=False)
            if ids is None:
                ids = queryset.values("pk")[bottom : bottom + self.per_page]
        else:
            from_end = self.count - top
            ids = self._walk(queryset, offset=from_end, limit=top - bottom, reverse=True)
            if ids is None:
                ids = queryset.reverse().values("pk")[from_end : from_end + (top - bottom)]
        records = list(self.page_rows(queryset, ids))
        return self._get_page(rebuild(records), number, self)

    def _count_first(self, number):
        """Obtains the count for page `number` the cheapest way (see the class); returns the page when the
        count came with it, else None (the count is then set)."""
        if self._count_by_groups(number):
            return None
        row_count = self.counter()
        if row_count is not None:
            self.count, self._row_count = row_count.value, row_count
            return None
        return self._page_and_count(number)  # None: the plain COUNT (Paginator.count) decides

    def _count_by_groups(self, number) -> bool:
        """For a deep page read by a walk, with no total cached: the walk's per-group counts (cached
        under `count_cache_key`, read again by the walk for the page) and their sum as the total, cached
        like `count_rows`'s. False where that does not apply or the counts took too long."""
        if not self.count_cache_key or cache.get(self.count_cache_key) is not None:
            return False
        try:
            wanted = int(number)
        except (TypeError, ValueError):
            return False
        queryset, _rebuild = self._queryset()
        if wanted * self.per_page <= MAX_WALK_DEPTH or queryset is None or not queryset.query.order_by:
            return False  # near the start: no walk needs counts (near the end is not known yet)
        if connections[queryset.db].vendor != "postgresql":
            return False
        walk = next((w for w in self.walks if w.descending(queryset.query.order_by) is not None), None)
        if walk is None:
            return False
        groups = walk.group_counts(queryset, cache_key=self.count_cache_key)
        if groups is None:
            return False
        self.count = sum(rows for _value, rows in groups)
        self._row_count = remember_count(self.count_cache_key, self.count)
        return True

    def _page_and_count(self, number):
        """Page `number` and the count in one query: the page's ids with `COUNT(*) OVER ()`, read forward
        with OFFSET (the list is small: every match is read for the count anyway, and sorting a few
        thousand of them for the page costs less than finding them a second time). None, the count left
        to a plain COUNT, where this does not apply: not PostgreSQL, an ordering read by a group walk (its
        first pages are index probes, cheaper than reading every match), a page past MAX_WALK_DEPTH (the
        walks count deep pages their own way), an invalid number, or a page past the end."""
        from django.db.models import Count, Window

        queryset, rebuild = self._queryset()
        if queryset is None or not queryset.ordered or not queryset.query.order_by:
            return None
        if connections[queryset.db].vendor != "postgresql" or queryset.query.distinct:
            return None  # (a window counts the rows before DISTINCT)
        try:
            wanted = int(number)
        except (TypeError, ValueError):
            return None
        bottom = (wanted - 1) * self.per_page
        if wanted < 1 or bottom + self.per_page > MAX_WALK_DEPTH:
            return None
        order_by = queryset.query.order_by
        if any(walk.descending(order_by) is not None for walk in self.walks if walk.walks_first_pages):
            return None
        counted = queryset.annotate(list_total=Window(Count("*"))).values_list("pk", "list_total")
        found = list(counted[bottom : bottom + self.per_page])
        if not found:  # nothing there (no match, or a page past the end): the plain COUNT decides
            return None
        self.count = found[0][1]
        self._row_count = RowCount(self.count)
        number = self.validate_number(wanted)
        records = list(self.page_rows(queryset, [pk for pk, _total in found]))
        return self._get_page(rebuild(records), number, self)

    def _walk(self, queryset, *, offset, limit, reverse):
        """The page's ids by the group walk that answers the queryset's ordering, or None."""
        for walk in self.walks:
            descending = walk.descending(queryset.query.order_by)
            if descending is not None:
                return walk.ids(
                    queryset,
                    descending=descending != reverse,
                    offset=offset,
                    limit=limit,
                    cache_key=self.count_cache_key,
                )
        return None

    def page_rows(self, queryset, ids):
        """The rows whose pk is in `ids` (a sliced values("pk") subquery), in `queryset`'s order."""
        outer = (self.rows if self.rows is not None else queryset).filter(pk__in=ids)
        outer = outer.order_by(*queryset.query.order_by)
        return outer if queryset.query.standard_ordering else outer.reverse()

    def _queryset(self):
        """The QuerySet behind object_list (a django-tables2 BoundRows or a QuerySet) and how to wrap a
        list of its records back into the same kind of object."""
        from django.db.models import QuerySet

        object_list = self.object_list
        if isinstance(object_list, QuerySet):
            return object_list, lambda records: records
        data = getattr(getattr(object_list, "data", None), "data", None)
        if isinstance(data, QuerySet):
            from django_tables2.rows import BoundRows

            return data, lambda records: BoundRows(
                data=records, table=object_list.table, pinned_data=object_list.pinned_data
            )
        return None, None
