from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Merchant
from subscribers.validators import normalize_email, validate_document, validate_handle

EMAIL_TAKEN_CODE = "email_taken"
EMAIL_TAKEN_MESSAGE = _("Já existe um cliente com este e-mail.")


class Customer(models.Model):
    """A merchant's customer (the subscriber). E-mail is unique per merchant, compared case-insensitively
    (stored lower-cased); CPF/CNPJ is stored as digits only."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="customers", verbose_name=_("lojista")
    )
    name = models.CharField(_("nome"), max_length=150)
    email = models.EmailField(_("e-mail"), max_length=254)
    handle = models.CharField(
        _("@usuário"), max_length=60, blank=True, help_text=_("Sem o @."), validators=[validate_handle]
    )
    document = models.CharField(
        _("CPF/CNPJ"),
        max_length=14,
        blank=True,
        help_text=_("Somente números."),
        validators=[validate_document],
    )
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
                violation_error_message=EMAIL_TAKEN_MESSAGE,
                violation_error_code=EMAIL_TAKEN_CODE,
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

    def clean(self):
        # Here as well as in the services, so the admin and any ModelForm compare e-mails the same way.
        self.email = normalize_email(self.email)

    def validate_constraints(self, exclude=None):
        # Django reports a two-field constraint as a form-wide error; the clash is the e-mail's, so it is
        # moved next to the e-mail field, where the person typing can fix it.
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict({})
            general = errors.pop(NON_FIELD_ERRORS, [])
            taken = [error for error in general if error.code == EMAIL_TAKEN_CODE]
            if taken:
                errors.setdefault("email", []).extend(taken)
            rest = [error for error in general if error.code != EMAIL_TAKEN_CODE]
            if rest:
                errors[NON_FIELD_ERRORS] = rest
            raise ValidationError(errors) from None

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
