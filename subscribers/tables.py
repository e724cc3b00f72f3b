import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from subscribers.models import Customer


class CustomerTable(tables.Table):
    """Clientes: every column comes from the customer row itself, so no query runs per row.

    Sorting adds the pk as a tie-breaker, so pages stay stable when names or dates repeat.
    """

    name = tables.Column(verbose_name=_("Nome"), linkify=True, order_by=("name", "pk"))
    email = tables.Column(verbose_name=_("E-mail"))
    handle = tables.Column(verbose_name=_("@usuário"), order_by=("handle", "pk"))
    document = tables.Column(
        verbose_name=_("CPF/CNPJ"), accessor="document_display", order_by=("document", "pk")
    )
    phone = tables.Column(verbose_name=_("Telefone"), order_by=("phone", "pk"))
    created_at = tables.DateColumn(verbose_name=_("Criado em"), short=True, order_by=("created_at", "pk"))

    class Meta:
        model = Customer
        fields = ["name", "email", "handle", "document", "phone", "created_at"]

    def render_handle(self, value):
        return "@" + value
