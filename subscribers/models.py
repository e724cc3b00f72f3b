from django.db import models
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Merchant


class Customer(models.Model):
    """A merchant's customer (the subscriber). E-mail is unique per merchant, compared case-insensitively
    (stored lower-cased); CPF/CNPJ is stored as digits only."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="customers", verbose_name=_("lojista")
    )
    name = models.CharField(_("nome"), max_length=150)
    email = models.EmailField(_("e-mail"), max_length=254)
    handle = models.CharField(_("@usuário"), max_length=60, blank=True, help_text=_("Sem o @."))
    document = models.CharField(_("CPF/CNPJ"), max_length=14, blank=True, help_text=_("Somente números."))
    phone = models.CharField(_("telefone"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("criado em"), auto_now_add=True)
    updated_at = models.DateTimeField(_("atualizado em"), auto_now=True)

    class Meta:
        verbose_name = _("cliente")
        verbose_name_plural = _("clientes")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "email"],
                name="customer_unique_email_per_merchant",
                violation_error_message=_("Já existe um cliente com este e-mail."),
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "name"], name="customer_merchant_name_idx"),
            models.Index(fields=["merchant", "document"], name="customer_merchant_document_idx"),
            models.Index(Upper("handle"), "merchant", name="customer_merchant_handle_idx"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("subscribers:customer_detail", kwargs={"pk": self.pk})

    @property
    def document_type(self) -> str:
        return {11: "CPF", 14: "CNPJ"}.get(len(self.document), "")

    @property
    def document_display(self) -> str:
        d = self.document
        if len(d) == 11:
            return f"{d[:3]}.{d[3:6]}.{d[6:9]}-{d[9:]}"
        if len(d) == 14:
            return f"{d[:2]}.{d[2:5]}.{d[5:8]}/{d[8:12]}-{d[12:]}"
        return d
