"""Per-user column choice for the wide lists ("Configurar tabela", after NetBox's table configuration).

A django-tables2 table opts in with `@configurable("name", default=[...], always=[...])`: `default` is
what a user who never chose sees (sized to fit a 1280 px window beside the sidebar), `always` the columns
that cannot be hidden (the row selection and the actions, pinned at the row's end). The generic list
view (`core.views.MerchantListView`) hides the rest of the columns through the table's `exclude`,
so a hidden column costs nothing to render and its sort link disappears with it.
"""

from dataclasses import dataclass

from django.db import transaction

from core.models import TableConfig


@dataclass(frozen=True)
class ConfigurableTable:
    name: str
    table_class: type
    default: tuple[str, ...]
    always: tuple[str, ...]

    def choices(self) -> list[tuple[str, str]]:
        """(column name, header) of every column the user may show or hide, in the table's order."""
        columns = self.table_class.base_columns
        sequence = [name for name in self.sequence() if name in columns and name not in self.always]
        return [(name, str(columns[name].verbose_name or name)) for name in sequence]

    def sequence(self) -> list[str]:
        meta_sequence = list(getattr(self.table_class._meta, "sequence", None) or ())
        return [name for name in meta_sequence if name != "..."] or list(self.table_class.base_columns)

    def clean(self, columns) -> list[str]:
        """The known, hideable names among `columns`, in the table's order (unknown ones are dropped)."""
        wanted = set(columns or ())
        return [name for name, _header in self.choices() if name in wanted]


CONFIGURABLE_TABLES: dict[str, ConfigurableTable] = {}


def configurable(name: str, *, default, always=()):
    """Class decorator registering a table as configurable under `name`."""

    def register(table_class):
        config = ConfigurableTable(name, table_class, tuple(default), tuple(always))
        unknown = set(config.default) - set(table_class.base_columns)
        assert not unknown, f"{table_class.__name__}: unknown default columns {unknown}"
        CONFIGURABLE_TABLES[name] = config
        table_class.config_name = name
        return table_class

    return register


def config_for(table_class) -> ConfigurableTable | None:
    return CONFIGURABLE_TABLES.get(getattr(table_class, "config_name", ""))


# The user's choices are copied into the session when they sign in (and updated there when they save), so a
# list page does not pay a query for them: Assinantes keeps within its 10 queries per page. Another device's
# session picks a change up at its next sign-in.
SESSION_KEY = "table_configs"


def saved_columns(*, user, session=None) -> dict[str, list[str]]:
    """{table name: saved columns} of `user`, from the session when it holds them, else the database."""
    if session is not None and SESSION_KEY in session:
        return session[SESSION_KEY]
    return dict(TableConfig.objects.filter(user=user).values_list("table", "columns"))


def remember_in_session(*, user, session) -> None:
    session[SESSION_KEY] = dict(TableConfig.objects.filter(user=user).values_list("table", "columns"))


def visible_columns(*, user, config: ConfigurableTable, session=None) -> list[str]:
    """The hideable columns `user` sees: their saved choice, else the table's default."""
    saved = saved_columns(user=user, session=session).get(config.name)
    if saved is None:
        return list(config.default)
    return config.clean(saved) or list(config.default)


@transaction.atomic
def table_config_save(*, user, config: ConfigurableTable, columns, session=None) -> TableConfig | None:
    """Saves `user`'s columns for the table (unknown names dropped); no columns, or `columns=None`,
    resets to the default (the row is deleted). `session` (the request's) is updated to match."""
    cleaned = config.clean(columns) if columns is not None else []
    saved = None
    if cleaned:
        saved, _created = TableConfig.objects.update_or_create(
            user=user, table=config.name, defaults={"columns": cleaned}
        )
    else:
        TableConfig.objects.filter(user=user, table=config.name).delete()
    if session is not None:
        remember_in_session(user=user, session=session)
    return saved
