"""Why a payment or refund failed, when our own code said it (the sandbox gateway, a lapsed boleto/pix, our
Stripe charging), is its `failure_code` alone, named when shown in the reader's language
(subscribers.choices.FailureCode); `failure_message` keeps a provider's own words.

Those messages were stored already translated, in the language active when they were written (pt-BR, or
English): a message that is exactly one of our sentences for its row's code, or the code itself, is
cleared. The subscription timeline's "charge declined" lines carried the same sentence as their `message`
param: it becomes the code, named when shown. Any other text stays as it is."""

from django.db import migrations

# code: the sentences our code wrote for it, pt-BR and English.
KNOWN = {
    "card_declined": ("Cartão recusado pelo emissor.", "Card declined by the issuer."),
    "insufficient_funds": ("Saldo insuficiente.", "Insufficient funds."),
    "invalid_card": ("Número de cartão inválido.", "Invalid card number."),
    "gateway_unavailable": ("Gateway indisponível.", "Gateway unavailable."),
    "expired": (
        "O boleto/pix venceu sem pagamento.",
        "The boleto/Pix expired without being paid.",
        "O prazo de pagamento expirou.",
        "The payment deadline has expired.",
    ),
    "unsupported_currency": ("Boleto e Pix só aceitam reais (BRL).", "Boleto and Pix only accept reais (BRL)."),
    "payment_method_missing": ("Nenhum meio de pagamento salvo no Stripe.", "No payment method saved in Stripe."),
    "authentication_required": (
        "O cartão exige a autenticação do cliente.",
        "The card requires the customer's authentication.",
    ),
    "invalid_amount": (
        "O valor do reembolso deve ser maior que zero.",
        "The refund amount must be greater than zero.",
    ),
    "boleto_not_refundable": (
        "Pagamentos por boleto não podem ser reembolsados pelo gateway.",
        "Boleto payments cannot be refunded through the gateway.",
    ),
    "charge_not_paid": ("Só é possível reembolsar uma cobrança paga.", "Only a paid charge can be refunded."),
    "amount_too_large": (
        "O valor é maior que o saldo ainda reembolsável.",
        "The amount is greater than the remaining refundable balance.",
    ),
}


def to_codes(apps, schema_editor):
    for name in ("Payment", "Refund"):
        model = apps.get_model("billing", name)
        for code, sentences in KNOWN.items():
            model.objects.filter(failure_code=code, failure_message__in=[*sentences, code]).update(
                failure_message=""
            )
    SubscriptionEvent = apps.get_model("subscribers", "SubscriptionEvent")
    declined = SubscriptionEvent.objects.filter(reason_code="charge_declined")
    for code, sentences in KNOWN.items():
        for event in declined.filter(reason_params__message__in=sentences).only("pk", "reason_params"):
            event.reason_params = {**event.reason_params, "message": code}
            event.save(update_fields=["reason_params"])


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0021_provider_event_note_codes"),
        ("subscribers", "0026_billing_timeline_codes"),
    ]

    # Not reversed: the code before this one shows a row without a message by its code.
    operations = [migrations.RunPython(to_codes, migrations.RunPython.noop)]
