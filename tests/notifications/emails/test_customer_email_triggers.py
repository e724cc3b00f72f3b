"""What sends each customer e-mail: real lifecycles (contract, billing run, cancel, refund, re-add) write
outbox events, the e-mail consumer turns them into exactly one e-mail each; the clock sends reminders."""

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.core import mail
from django.utils import translation

from billing.choices import DunningFinalAction
from billing.gateways.sandbox import boleto_line
from billing.models import BillingSettings, Payment
from billing.services.billing_run import billing_run_start, process_chunk
from billing.services.refunds import subscription_refund
from core.models import Event
from notifications.emails.choices import CustomerEmailKind, EmailSendingStatus
from notifications.emails.services.email_triggers import (
    emit_trial_will_end,
    process_all_email_events,
    process_email_reminders,
    send_renewal_reminders,
)
from notifications.models import CustomerEmailSettings, EmailSending
from subscribers.choices import CancelOrigin, CancelWhen, PaymentMethod
from subscribers.services import (
    subscription_cancel,
    subscription_create,
    subscription_process_due,
    subscription_readd,
    subscription_remove,
)
from tests.factories import CustomerFactory, PlanFactory

SP = zoneinfo.ZoneInfo("America/Sao_Paulo")
START = dt.datetime(2027, 4, 1, 8, 0, tzinfo=SP)
DECLINED = "4000 0000 0000 0002"


@pytest.fixture
def customer(merchant):
    return CustomerFactory(merchant=merchant, name="Ana Souza", email="ana@example.com")


@pytest.fixture
def plan(merchant):
    return PlanFactory(merchant=merchant, name="Clube do Livro", price=123456)


@pytest.fixture
def at(django_capture_on_commit_callbacks):
    """Runs `work` at `moment`, with commit callbacks (the e-mail sends) executed."""

    def run(moment, work):
        with time_machine.travel(moment, tick=False), django_capture_on_commit_callbacks(execute=True):
            return work()

    return run


@pytest.fixture
def contract(merchant, owner, customer, plan, at):
    def make(moment=START, **kwargs):
        kwargs.setdefault("plan", plan)
        return at(
            moment,
            lambda: subscription_create(
                merchant=merchant,
                actor=owner,
                customer=customer,
                contract_date=moment.astimezone(SP).date(),
                **kwargs,
            ),
        )

    return make


@pytest.fixture
def bill(at):
    def run(moment):
        return at(
            moment,
            lambda: billing_run_start(
                dispatch=lambda run_id, ids: process_chunk(run_id=run_id, subscription_ids=ids)
            ),
        )

    return run


@pytest.fixture
def emails(at):
    """Runs the e-mail consumer (the per-minute task) at `moment` and returns the e-mails it sent."""

    def run(moment=START):
        before = len(mail.outbox)
        at(moment, process_all_email_events)
        return mail.outbox[before:]

    return run


def sendings(kind=None):
    queryset = EmailSending.objects.order_by("pk")
    return list(queryset.filter(kind=kind) if kind else queryset)


# --- events → e-mails ------------------------------------------------------------------------------------
def test_a_contract_with_notify_sends_the_created_email_once(contract, emails):
    subscription = contract(notify_customer=True)

    (message,) = emails()

    assert message.to == ["ana@example.com"]
    assert message.subject == "Sua assinatura do plano Clube do Livro está confirmada"
    assert "- Valor: R$\xa01.234,56" in message.body
    assert "- Data de contratação: 01/04/2027" in message.body
    (sending,) = sendings()
    assert (sending.kind, sending.status, sending.subscription) == (
        CustomerEmailKind.SUBSCRIPTION_CREATED,
        EmailSendingStatus.SENT,
        subscription,
    )
    assert sending.event.type == "subscription.created"


def test_reprocessing_the_same_events_sends_nothing_more(contract, emails):
    contract(notify_customer=True)
    emails()

    Event.objects.update(emails_processed_at=None)  # as if a worker died before marking them

    assert emails() == []
    assert len(sendings()) == 1


def test_a_contract_without_notify_sends_no_email(contract, emails):
    contract(notify_customer=False)

    assert emails() == []
    assert sendings() == []
    assert not Event.objects.filter(emails_processed_at__isnull=True).exists()


def test_readding_resends_the_access_email_but_a_plain_start_does_not(contract, owner, emails, at):
    subscription = contract()
    emails()  # subscription.created + access_granted of the contract: nothing to send

    at(START + dt.timedelta(hours=1), lambda: subscription_readd(subscription=subscription, actor=owner))
    (message,) = emails(START + dt.timedelta(hours=1))

    assert message.subject == "Seu acesso ao plano Clube do Livro foi liberado"
    assert "foi liberado novamente" in message.body
    assert [s.kind for s in sendings()] == [CustomerEmailKind.ACCESS_RESENT]


def test_a_cancellation_at_period_end_tells_the_access_date_once(contract, owner, emails, bill, at):
    subscription = contract()
    bill(START)  # paid: the period runs to 01/05
    emails()
    moment = START + dt.timedelta(days=10)

    at(
        moment,
        lambda: subscription_cancel(
            subscription=subscription, actor=owner, origin=CancelOrigin.CUSTOMER, when=CancelWhen.PERIOD_END
        ),
    )
    (message,) = emails(moment)
    # The end of the period carries the cancellation out: the same e-mail is not sent again.
    at(dt.datetime(2027, 5, 1, 9, 0, tzinfo=SP), subscription_process_due)
    assert emails(dt.datetime(2027, 5, 1, 9, 1, tzinfo=SP)) == []

    assert message.subject == "Sua assinatura do plano Clube do Livro foi cancelada"
    assert "Você continua com acesso até 01/05/2027." in message.body
    assert Event.objects.filter(type="subscription.canceled").exists()
    assert len(sendings(CustomerEmailKind.SUBSCRIPTION_CANCELED)) == 1


def test_removing_access_sends_the_canceled_email_with_today(contract, owner, emails, at):
    subscription = contract()
    emails()

    at(START, lambda: subscription_remove(subscription=subscription, actor=owner))
    (message,) = emails()

    assert "Você continua com acesso até 01/04/2027." in message.body


def test_a_declined_card_says_when_it_is_retried(contract, emails, bill):
    contract(payment_token=DECLINED)
    bill(START)

    (message,) = emails()

    assert message.subject == "Não conseguimos processar o pagamento da sua assinatura"
    assert "pagamento de R$\xa01.234,56 da sua assinatura do plano Clube do Livro" in message.body
    assert "Motivo: Cartão recusado pelo emissor." in message.body
    assert "Vamos tentar cobrar novamente em 02/04/2027." in message.body
    assert [s.event.type for s in sendings()] == ["invoice.payment_failed"]  # not payment.failed as well


def test_the_last_failed_attempt_says_the_subscription_ended(contract, emails, bill):
    contract(payment_token=DECLINED)
    bill(START)
    bill(START + dt.timedelta(hours=24))
    emails(START + dt.timedelta(hours=24))
    bill(START + dt.timedelta(hours=48))

    (message,) = emails(START + dt.timedelta(hours=48))

    assert "As tentativas de cobrança acabaram e sua assinatura foi encerrada." in message.body
    assert len(sendings(CustomerEmailKind.PAYMENT_FAILED)) == 3


def test_a_policy_that_keeps_the_subscription_unpaid_says_so(merchant, contract, emails, bill):
    BillingSettings.objects.create(merchant=merchant, retries=0, final_action=DunningFinalAction.KEEP_UNPAID)
    contract(payment_token=DECLINED)
    bill(START)

    (message,) = emails()

    assert "Não faremos novas tentativas; sua assinatura fica com o pagamento pendente." in message.body


def test_a_boleto_invoice_sends_the_payment_instructions(contract, emails, bill):
    contract(payment_method=PaymentMethod.BOLETO)
    bill(START)
    payment = Payment.objects.get()

    (message,) = emails()

    assert message.subject == "Boleto de R$\xa01.234,56 para pagamento até 04/04/2027"
    assert "Geramos o boleto da sua assinatura do plano Clube do Livro" in message.body
    assert "- Pague até: 04/04/2027" in message.body
    from billing.gateways.sandbox import boleto_line

    assert boleto_line(payment.gateway_reference, payment.amount) in message.body
    assert "Pix copia e cola" not in message.body
    assert boleto_line(payment.gateway_reference, payment.amount) in message.alternatives[0][0]


def test_a_pix_invoice_sends_the_copy_and_paste_code(contract, emails, bill):
    contract(payment_method=PaymentMethod.PIX)
    bill(START)
    payment = Payment.objects.get()

    (message,) = emails()

    from billing.gateways.sandbox import pix_code

    assert message.subject.startswith("Pix de R$\xa01.234,56")
    assert pix_code(payment.gateway_reference, payment.amount) in message.body
    assert "Linha digitável" not in message.body


def test_a_card_invoice_sends_no_payment_instructions(contract, emails, bill):
    contract()
    bill(START)

    assert emails() == []


def test_a_partial_refund_tells_the_refunded_amount(contract, owner, emails, bill, at):
    subscription = contract()
    bill(START)
    emails()
    at(START, lambda: subscription_cancel(subscription=subscription, actor=owner, origin=CancelOrigin.SELLER))
    emails()

    at(
        START + dt.timedelta(days=1),
        lambda: subscription_refund(
            subscription=subscription, actor=owner, amount=50000, reason="Pedido do cliente"
        ),
    )
    (message,) = emails(START + dt.timedelta(days=1))

    assert message.subject == "Reembolso de R$\xa0500,00 emitido"
    assert "- Valor reembolsado: R$\xa0500,00" in message.body
    assert "- Data: 02/04/2027" in message.body
    assert "- Motivo: Pedido do cliente" in message.body


def test_a_disabled_kind_is_logged_as_skipped_and_says_why_in_the_readers_language(
    merchant, contract, emails, owner
):
    from notifications.models import CustomerEmailTemplate
    from tests.billing.test_refund_reason_codes import reader

    CustomerEmailTemplate.objects.create(merchant=merchant, kind="subscription_created", is_enabled=False)
    with translation.override("pt-br"):
        contract(notify_customer=True)

    assert emails() == []
    # The reason is the status, never a sentence in the writer's language
    assert [(s.status, s.error) for s in sendings()] == [(EmailSendingStatus.SKIPPED, "")]
    url = sendings()[0].get_absolute_url()
    assert "Template turned off by the merchant." in reader(owner, "en").get(url).text
    assert "Modelo desativado pelo lojista." in reader(owner, "pt-br").get(url).text


def test_an_event_of_another_merchant_never_reaches_this_merchants_customer(contract, emails, other_merchant):
    subscription = contract(notify_customer=True)
    emails()
    Event.objects.create(
        merchant=other_merchant,
        type="subscription.access_granted",
        payload={"id": subscription.pk, "readded": True},
    )

    assert emails() == []
    assert len(sendings()) == 1


# --- the clock --------------------------------------------------------------------------------------------
def test_the_renewal_reminder_goes_once_n_days_before_the_next_charge(contract, emails, bill, at):
    subscription = contract()
    bill(START)
    emails()
    subscription.refresh_from_db()
    assert subscription.next_invoice_at == dt.datetime(2027, 5, 1, 8, 0, tzinfo=SP)

    assert at(dt.datetime(2027, 4, 27, 9, 0, tzinfo=SP), send_renewal_reminders) == 0  # 4 days before
    assert at(dt.datetime(2027, 4, 28, 9, 0, tzinfo=SP), send_renewal_reminders) == 1
    assert at(dt.datetime(2027, 4, 28, 10, 0, tzinfo=SP), send_renewal_reminders) == 0  # the next hour
    assert at(dt.datetime(2027, 4, 30, 9, 0, tzinfo=SP), send_renewal_reminders) == 0

    (message,) = mail.outbox
    assert message.subject == "Sua assinatura do plano Clube do Livro renova em 01/05/2027"
    assert "renova em 01/05/2027 (daqui a 3 dias)" in message.body
    assert "- Valor: R$\xa01.234,56 (Mensal)" in message.body
    (sending,) = sendings(CustomerEmailKind.RENEWAL_REMINDER)
    assert sending.dedupe_key == f"renewal:{subscription.pk}:2027-05-01"


def test_the_next_period_gets_its_own_reminder_and_the_merchant_picks_n(merchant, contract, emails, bill, at):
    CustomerEmailSettings.objects.create(merchant=merchant, renewal_reminder_days=7)
    subscription = contract()
    bill(START)

    assert at(dt.datetime(2027, 4, 23, 9, 0, tzinfo=SP), send_renewal_reminders) == 0
    assert at(dt.datetime(2027, 4, 24, 9, 0, tzinfo=SP), send_renewal_reminders) == 1
    bill(dt.datetime(2027, 5, 1, 8, 0, tzinfo=SP))
    assert at(dt.datetime(2027, 5, 24, 9, 0, tzinfo=SP), send_renewal_reminders) == 0
    assert at(dt.datetime(2027, 5, 25, 9, 0, tzinfo=SP), send_renewal_reminders) == 1

    subscription.refresh_from_db()
    assert [s.dedupe_key for s in sendings(CustomerEmailKind.RENEWAL_REMINDER)] == [
        f"renewal:{subscription.pk}:2027-05-01",
        f"renewal:{subscription.pk}:2027-06-01",
    ]


def test_no_reminder_for_a_subscription_that_will_not_renew(contract, owner, emails, bill, at):
    subscription = contract()
    bill(START)
    at(
        START + dt.timedelta(days=2),
        lambda: subscription_cancel(
            subscription=subscription, actor=owner, origin=CancelOrigin.CUSTOMER, when=CancelWhen.PERIOD_END
        ),
    )

    assert at(dt.datetime(2027, 4, 28, 9, 0, tzinfo=SP), send_renewal_reminders) == 0


def test_a_trial_ending_emits_the_event_once_and_emails_once(merchant, contract, emails, at):
    trial_plan = PlanFactory(merchant=merchant, name="Clube do Livro", price=123456, trial_days=7)
    subscription = contract(plan=trial_plan, payment_token="4242424242424242")
    assert subscription.trial_ends_at == dt.datetime(2027, 4, 8, 8, 0, tzinfo=SP)
    emails()

    assert at(dt.datetime(2027, 4, 4, 9, 0, tzinfo=SP), emit_trial_will_end) == 0  # 4 days before
    assert at(dt.datetime(2027, 4, 5, 9, 0, tzinfo=SP), emit_trial_will_end) == 1
    assert at(dt.datetime(2027, 4, 5, 10, 0, tzinfo=SP), process_email_reminders) == {
        "trials": 0,
        "reminders": 0,
    }
    (message,) = emails(dt.datetime(2027, 4, 5, 10, 1, tzinfo=SP))

    (event,) = Event.objects.filter(type="subscription.trial_will_end")
    assert event.payload["id"] == subscription.pk
    assert message.subject == "Seu período de teste do plano Clube do Livro vai até 08/04/2027"
    assert "a primeira cobrança, de R$\xa01.234,56 (Mensal), será feita em 08/04/2027" in message.body
    assert emails(dt.datetime(2027, 4, 6, 10, 1, tzinfo=SP)) == []


def test_reminders_and_trial_ends_reach_every_subscription_past_the_first_page(merchant, at):
    from tests.factories import SubscriptionFactory

    moment = dt.datetime(2027, 4, 1, 9, 0, tzinfo=SP)
    active = [
        SubscriptionFactory(merchant=merchant, next_invoice_at=moment + dt.timedelta(days=2))
        for _ in range(5)
    ]
    trialing = [
        SubscriptionFactory(
            merchant=merchant,
            status="trialing",
            trial_ends_at=moment + dt.timedelta(days=2),
            next_invoice_at=None,
        )
        for _ in range(5)
    ]

    assert at(moment, lambda: send_renewal_reminders(batch_size=2)) == 5
    assert at(moment, lambda: send_renewal_reminders(batch_size=2)) == 0
    assert at(moment, lambda: emit_trial_will_end(batch_size=2)) == 5
    assert at(moment, lambda: emit_trial_will_end(batch_size=2)) == 0

    assert {s.subscription_id for s in sendings(CustomerEmailKind.RENEWAL_REMINDER)} == {s.pk for s in active}
    assert {e.payload["id"] for e in Event.objects.filter(type="subscription.trial_will_end")} == {
        s.pk for s in trialing
    }


def test_a_new_boleto_after_the_last_one_lapsed_sends_its_own_instructions(contract, emails, bill):
    contract(payment_method=PaymentMethod.BOLETO)
    bill(START)
    first = Payment.objects.get()
    emails()
    lapsed = first.expires_at + dt.timedelta(minutes=1)
    bill(lapsed)  # the first boleto lapses: a failed attempt, a new one after the retry interval
    emails(lapsed)
    retry = lapsed + dt.timedelta(hours=25)
    bill(retry)
    second = Payment.objects.exclude(pk=first.pk).get()
    assert (second.status, second.method, second.invoice_id) == ("pending", "boleto", first.invoice_id)

    messages = emails(retry)

    (message,) = [m for m in messages if m.subject.startswith("Boleto")]
    assert boleto_line(second.gateway_reference, second.amount) in message.body
    assert boleto_line(first.gateway_reference, first.amount) not in message.body
    assert len(sendings(CustomerEmailKind.PAYMENT_INSTRUCTIONS)) == 2
    assert Event.objects.filter(type="payment.pending").count() == 2
