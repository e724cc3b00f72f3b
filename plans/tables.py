import django_tables2 as tables
from django.db.models import F
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.money import format_money

_RIGHT = {"th": {"class": "text-end"}, "td": {"class": "text-end"}}


class PlanTable(tables.Table):
    """The Planos list. Columns read only the row and the selector's annotations: no queries per row."""

    name = tables.Column(verbose_name=_("Nome"), linkify=True, order_by=("name", "pk"))
    price = tables.Column(
        verbose_name=_("Preço"),
        order_by=("price", "name", "pk"),
        attrs={"th": {"class": "text-end"}, "td": {"class": "money text-end"}},
    )
    interval = tables.Column(
        verbose_name=_("Intervalo"),
        accessor="interval_label",
        order_by=("interval_days", "name", "pk"),
    )
    trial_days = tables.Column(
        verbose_name=_("Dias de teste"), attrs=_RIGHT, order_by=("trial_days", "name", "pk")
    )
    installments = tables.Column(verbose_name=_("Parcelas"), default=_("Até cancelar"), attrs=_RIGHT)
    status = tables.TemplateColumn(
        verbose_name=_("Status"),
        template_code='{% include "plans/includes/plan_status_badge.html" with plan=record %}',
        order_by=("archived", "-is_active", "name", "pk"),
    )
    created_at = tables.DateColumn(verbose_name=_("Criado em"), short=True, order_by=("created_at", "pk"))

    class Meta:
        sequence = ["name", "price", "interval", "trial_days", "installments", "status", "created_at"]
        order_by = "name"

    def render_price(self, value, record):
        return format_money(value, record.currency)

    def render_trial_days(self, value):
        if not value:
            return "—"
        return ngettext("%(count)s dia", "%(count)s dias", value) % {"count": value}

    def render_installments(self, value):
        return ngettext("%(count)s parcela", "%(count)s parcelas", value) % {"count": value}

    def order_installments(self, queryset, is_descending):
        # An empty value means "until cancelled", the longest plan: last going up, first going down,
        # on SQLite and PostgreSQL alike (they disagree on where NULL sorts by default).
        column = F("installments")
        ordering = column.desc(nulls_first=True) if is_descending else column.asc(nulls_last=True)
        return queryset.order_by(ordering, "name", "pk"), True
