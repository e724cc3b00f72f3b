"""Normalizers and validators for a customer's identifiers (e-mail, @handle, CPF/CNPJ, phone), their
postal address (CEP, UF) and for a typed card number.

The model's field validators, the customer form and the customer services all use these, so a value
is cleaned and judged the same way whoever saves it (screen, admin, import, API).
"""

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from localflavor.br.br_states import STATE_CHOICES
from localflavor.br.validators import BRCNPJValidator, BRCPFValidator, BRPostalCodeValidator

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


# --- phone ---------------------------------------------------------------------------------------------
PHONE_REGION = "BR"  # a number typed without "+<country>" is Brazilian: "(11) 91234-5678"
PHONE_MESSAGE = _(
    "Telefone inválido: informe DDD e número, por exemplo (11) 91234-5678, (11) 3456-7890 ou "
    "+55 11 91234-5678."
)
E164_RE = re.compile(r"\+[1-9][0-9]{7,14}")


def _parsed_phone(value: str):
    """The phonenumbers object of a valid number typed with ASCII digits, else None."""
    if not value or not value.isascii():
        return None
    try:
        number = phonenumbers.parse(value, PHONE_REGION)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def normalize_phone(value: str) -> str:
    """A valid number in E.164 ("(11) 91234-5678" → "+5511912345678"); anything else trimmed as typed, so
    `validate_phone` refuses it with its message. Parsing and the numbering plans are Google's
    libphonenumber (`phonenumbers`): DDDs, 9-digit mobiles, landlines, 0800, foreign numbers."""
    value = (value or "").strip()
    number = _parsed_phone(value)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) if number else value


def validate_phone(value: str) -> None:
    """A stored phone: empty, or a valid number in E.164."""
    if value and not (E164_RE.fullmatch(value) and _parsed_phone(value)):
        raise ValidationError(PHONE_MESSAGE, code="invalid_phone")


def format_phone(value: str) -> str:
    """How people read it: "(11) 91234-5678" for Brazil, "+1 650-253-0000" abroad; as stored otherwise
    (a value kept from before phones were validated)."""
    number = _parsed_phone(value) if value and value.startswith("+") else None
    if number is None:
        return value or ""
    if number.country_code == 55:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# --- postal address --------------------------------------------------------------------------------------
POSTAL_CODE_MESSAGE = _("CEP inválido: informe os 8 dígitos, por exemplo 01310-100.")
STATE_MESSAGE = _("UF inválida: escolha um dos estados da lista (por exemplo SP).")
STATE_CODES = frozenset(code for code, _name in STATE_CHOICES)
POSTAL_CODE_PUNCTUATION_RE = re.compile(r"[.\-\s]")

_POSTAL_CODE_VALIDATOR = BRPostalCodeValidator(message=POSTAL_CODE_MESSAGE, code="invalid_postal_code")


def normalize_postal_code(value: str) -> str:
    """ "01310100", "01310-100" and "01.310-100" are one CEP, stored as "01310-100"; anything else is kept
    trimmed as typed, so `validate_postal_code` refuses it with its message."""
    value = (value or "").strip()
    digits = POSTAL_CODE_PUNCTUATION_RE.sub("", value)
    if len(digits) == 8 and digits.isascii() and digits.isdigit():
        return f"{digits[:5]}-{digits[5:]}"
    return value


def validate_postal_code(value: str) -> None:
    """A stored CEP: empty or "00000-000" (localflavor's rule, with our message)."""
    if value:
        _POSTAL_CODE_VALIDATOR(value)


def normalize_state(value: str) -> str:
    """ "sp" and " SP " are São Paulo's UF, stored as "SP"."""
    return (value or "").strip().upper()


def normalize_text(value: str) -> str:
    """A line of an address as people mean it: trimmed, runs of spaces made one."""
    return " ".join((value or "").split())


# The card-number rule the contract form, Alterar cartão and `subscription_change_card` share.
CARD_MIN_DIGITS, CARD_MAX_DIGITS = 13, 19


def luhn_valid(digits: str) -> bool:
    """The check digit every card number carries (ISO/IEC 7812): catches most typos."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def card_digits(raw: str) -> str:
    """The digits of a typed card number (spaces and hyphens allowed); ValidationError if it cannot be
    a card: other characters, not 13–19 digits, or a wrong check digit."""
    digits = raw.replace(" ", "").replace("-", "")
    if not digits.isascii() or not digits.isdigit():
        raise ValidationError(
            _("O número do cartão deve ter apenas dígitos (espaços e hífens são aceitos)."),
            code="card_characters",
        )
    if not CARD_MIN_DIGITS <= len(digits) <= CARD_MAX_DIGITS:
        raise ValidationError(
            _("O número do cartão deve ter de %(min)d a %(max)d dígitos."),
            code="card_length",
            params={"min": CARD_MIN_DIGITS, "max": CARD_MAX_DIGITS},
        )
    if not luhn_valid(digits):
        raise ValidationError(_("Número de cartão inválido: confira os dígitos."), code="card_checksum")
    return digits
