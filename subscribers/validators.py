"""Normalizers and validators for a customer's identifiers (e-mail, @handle, CPF/CNPJ).

The model's field validators, the customer form and the customer services all use these, so a value
is cleaned and judged the same way whoever saves it (screen, admin, import, API).
"""

import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from localflavor.br.validators import BRCNPJValidator, BRCPFValidator

CPF_LENGTH = 11
CNPJ_LENGTH = 14

# Punctuation people type in a CPF/CNPJ ("529.982.247-25", "11.222.333/0001-81"); removed before storing.
DOCUMENT_PUNCTUATION_RE = re.compile(r"[.\-/\s]")
DIGITS_RE = re.compile(r"[0-9]+")

DOCUMENT_MESSAGES = {
    "cpf": _("CPF inválido: confira os dígitos."),
    "cnpj": _("CNPJ inválido: confira os dígitos."),
    "length": _("Informe um CPF com 11 dígitos ou um CNPJ com 14 dígitos."),
    "characters": _("Use apenas números, com ou sem a pontuação do CPF/CNPJ (. - /)."),
}

HANDLE_MESSAGE = _("Use apenas letras, números, ponto (.), hífen (-) e sublinhado (_), sem espaços.")


def normalize_email(value: str) -> str:
    """E-mails are compared case-insensitively, so they are stored lower-cased and trimmed."""
    return (value or "").strip().lower()


def normalize_handle(value: str) -> str:
    """ "@maria.silva" and "maria.silva" are the same handle; it is stored without the "@"."""
    value = (value or "").strip()
    return value.removeprefix("@")


def normalize_document(value: str) -> str:
    """Drops the punctuation of a typed CPF/CNPJ; any other character is kept, so it still fails."""
    return DOCUMENT_PUNCTUATION_RE.sub("", value or "")


def document_digits_or_none(value: str) -> str | None:
    """The digits of a query that looks like a (partial) CPF/CNPJ, or None when it has anything else."""
    digits = normalize_document(value)
    return digits if DIGITS_RE.fullmatch(digits) else None


def validate_document(value: str) -> None:
    """A stored CPF/CNPJ: digits only, 11 of them with valid CPF check digits or 14 with valid CNPJ ones."""
    if not value:
        return
    if not DIGITS_RE.fullmatch(value):
        raise ValidationError(DOCUMENT_MESSAGES["characters"], code="invalid_characters")
    if len(value) == CPF_LENGTH:
        validator, message, code = BRCPFValidator(), DOCUMENT_MESSAGES["cpf"], "invalid_cpf"
    elif len(value) == CNPJ_LENGTH:
        validator, message, code = BRCNPJValidator(), DOCUMENT_MESSAGES["cnpj"], "invalid_cnpj"
    else:
        raise ValidationError(DOCUMENT_MESSAGES["length"], code="invalid_length")
    try:
        validator(value)
    except ValidationError as exc:
        raise ValidationError(message, code=code) from exc


validate_handle = RegexValidator(r"^[A-Za-z0-9._-]+\Z", message=HANDLE_MESSAGE, code="invalid_handle")
