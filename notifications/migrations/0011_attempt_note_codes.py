"""Our own words on webhook deliveries, their attempts, automation runs and automations become a code of
notifications/attempt_notes.py and its parameters, shown in the reader's language, like the inbox's notes
(billing 0021).

The texts written before were stored already translated, in the worker's language (pt-BR, or English):
each that is exactly one of our sentences is mapped to its code, the words it wrapped (an exception's, a
receiver's answer, a host) kept verbatim as parameters; any other text stays as it is."""

import re

from django.db import migrations, models

# code → (pt-BR, English) as they were worded; a parameter's name is the one the code takes now.
ERRORS = {
    "connect_timeout": (
        "Tempo de conexão esgotado (%(seconds)s s).",
        "Connection timed out (%(seconds)s s).",
    ),
    "read_timeout": ("Tempo de resposta esgotado (%(seconds)s s).", "Response timed out (%(seconds)s s)."),
    "connection_failed": ("Falha de conexão: %(error)s", "Connection failed: %(error)s"),
    "http_failed": ("HTTP %(code)s: %(response)s",),
    "invalid_url": ("Informe uma URL válida.", "Enter a valid URL."),
    "incomplete_url": (
        "Informe uma URL completa, começando com https://.",
        "Enter a full URL starting with https://.",
    ),
    "http_not_allowed": (
        "Use uma URL https://. Endereços http:// só são aceitos para localhost em desenvolvimento.",
        "Use an https:// URL. http:// addresses are accepted only for localhost in development.",
    ),
    "localhost_refused": (
        "Endereços locais (localhost) não podem receber webhooks.",
        "Local addresses (localhost) cannot receive webhooks.",
    ),
    "address_not_public": (
        "O endereço %(address)s não é público (%(kind)s) e não pode receber webhooks.",
        "The address %(address)s is not public (%(kind)s) and cannot receive webhooks.",
    ),
    "unresolved": ("Não foi possível resolver %(host)s: %(error)s", "Could not resolve %(host)s: %(error)s"),
    "no_address": ("Não foi possível resolver %(host)s.", "Could not resolve %(host)s."),
    "resolves_not_public": (
        "Endereço recusado: %(host)s resolve para %(address)s (%(kind)s).",
        "Address refused: %(host)s resolves to %(address)s (%(kind)s).",
    ),
    "endpoint_disabled": ("Endpoint desativado.", "Endpoint disabled."),
    "automation_disabled": ("Automação desativada.", "Automation disabled."),
    "test_interrupted": (
        "O teste foi interrompido antes de terminar.",
        "The test was interrupted before it finished.",
    ),
    "no_customer_email": (
        "O evento não traz o e-mail do cliente.",
        "The event does not carry the customer's e-mail.",
    ),
    "subscription_gone": ("A assinatura do evento não existe mais.", "The event's subscription no longer exists."),
    "credential_unreadable": (
        "Não foi possível ler a credencial da integração; cadastre o token de novo.",
        "The integration's credential could not be read; enter the token again.",
    ),
    "unknown_integration": (
        "Tipo de integração desconhecido: %(integration_kind)s",
        "Unknown integration type: %(integration_kind)s",
    ),
}
RESPONSES = {"sent_to": ("Enviado para %(email)s", "Sent to %(email)s")}
# An address's kind as it was worded (either language) → its AddressKind value.
KINDS = {
    "loopback": "loopback",
    "não especificado": "unspecified",
    "unspecified": "unspecified",
    "link-local": "link_local",
    "multicast": "multicast",
    "reservado": "reserved",
    "reserved": "reserved",
    "privado": "private",
    "private": "private",
    "não público": "not_public",
    "not public": "not_public",
}
INT_PARAMS = ("seconds", "code")


def _pattern(sentence: str) -> re.Pattern:
    parts = re.split(r"%\((\w+)\)s", sentence)
    regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts))
    return re.compile(regex, re.DOTALL)


def _patterns(sentences: dict) -> list:
    return [(code, _pattern(sentence)) for code, both in sentences.items() for sentence in both]


ERROR_PATTERNS = _patterns(ERRORS)
RESPONSE_PATTERNS = _patterns(RESPONSES)


def _code_of(text: str, patterns) -> tuple[str, dict] | None:
    for code, pattern in patterns:
        match = pattern.fullmatch(text or "")
        if match is None:
            continue
        params = match.groupdict()
        if "kind" in params:
            if params["kind"] not in KINDS:
                continue
            params["kind"] = KINDS[params["kind"]]
        for name in INT_PARAMS:
            if name in params and params[name].isdigit():
                params[name] = int(params[name])
        return code, params
    return None


def error_code_of(text: str):
    """(code, params) of a stored error, or None when it is not exactly one of our sentences."""
    return _code_of(text, ERROR_PATTERNS)


def response_code_of(text: str):
    """(code, params) of a stored answer that is our own sentence (a test e-mail's), or None."""
    return _code_of(text, RESPONSE_PATTERNS)


def _convert(model, error_field, code_field, params_field, response_field=None):
    """Maps each row's error (or, without one, its answer) to a code; rows written in batches."""
    rows, changed = model.objects.filter(**{code_field: ""}), []
    fields = [error_field, code_field, params_field] + ([response_field] if response_field else [])
    for row in rows.only("pk", *fields).iterator(chunk_size=2000):
        found = error_code_of(getattr(row, error_field))
        if found is not None:
            setattr(row, error_field, "")
        elif response_field and not getattr(row, error_field):
            found = response_code_of(getattr(row, response_field))
            if found is not None:
                setattr(row, response_field, "")
        if found is None:
            continue
        setattr(row, code_field, found[0])
        setattr(row, params_field, found[1])
        changed.append(row)
        if len(changed) >= 1000:
            model.objects.bulk_update(changed, fields)
            changed = []
    if changed:
        model.objects.bulk_update(changed, fields)


def to_codes(apps, schema_editor):
    for name in ("WebhookDelivery", "AutomationRun"):
        model = apps.get_model("notifications", name)
        _convert(model, "last_error", "last_note_code", "last_note_params", "last_response_excerpt")
    _convert(apps.get_model("notifications", "WebhookDeliveryAttempt"), "error", "note_code", "note_params")
    _convert(apps.get_model("notifications", "Automation"), "last_error", "last_error_code", "last_error_params")


def _text(code: str, params: dict) -> str:
    sentence = (ERRORS.get(code) or RESPONSES.get(code) or ("",))[0]
    try:
        return sentence % params
    except (KeyError, TypeError, ValueError):
        return ""


def to_text(apps, schema_editor):
    """Back to the pt-BR text (an address's kind stays its code)."""
    targets = [
        ("WebhookDelivery", "last_error", "last_note_code", "last_note_params"),
        ("AutomationRun", "last_error", "last_note_code", "last_note_params"),
        ("WebhookDeliveryAttempt", "error", "note_code", "note_params"),
        ("Automation", "last_error", "last_error_code", "last_error_params"),
    ]
    for name, error_field, code_field, params_field in targets:
        model = apps.get_model("notifications", name)
        for row in model.objects.exclude(**{code_field: ""}).iterator(chunk_size=2000):
            code = getattr(row, code_field)
            field = "last_response_excerpt" if code in RESPONSES else error_field
            setattr(row, field, _text(code, getattr(row, params_field))[:500])
            row.save(update_fields=[field])


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0010_email_skip_reason_not_stored"),
    ]

    operations = [
        migrations.AddField(
            model_name="automation",
            name="last_error_code",
            field=models.CharField(blank=True, max_length=40, verbose_name="código do erro"),
        ),
        migrations.AddField(
            model_name="automation",
            name="last_error_params",
            field=models.JSONField(blank=True, default=dict, verbose_name="parâmetros do erro"),
        ),
        migrations.AddField(
            model_name="automationrun",
            name="last_note_code",
            field=models.CharField(blank=True, max_length=40, verbose_name="código da observação"),
        ),
        migrations.AddField(
            model_name="automationrun",
            name="last_note_params",
            field=models.JSONField(blank=True, default=dict, verbose_name="parâmetros da observação"),
        ),
        migrations.AddField(
            model_name="webhookdelivery",
            name="last_note_code",
            field=models.CharField(blank=True, max_length=40, verbose_name="código da observação"),
        ),
        migrations.AddField(
            model_name="webhookdelivery",
            name="last_note_params",
            field=models.JSONField(blank=True, default=dict, verbose_name="parâmetros da observação"),
        ),
        migrations.AddField(
            model_name="webhookdeliveryattempt",
            name="note_code",
            field=models.CharField(blank=True, max_length=40, verbose_name="código da observação"),
        ),
        migrations.AddField(
            model_name="webhookdeliveryattempt",
            name="note_params",
            field=models.JSONField(blank=True, default=dict, verbose_name="parâmetros da observação"),
        ),
        migrations.RunPython(to_codes, to_text),
    ]
