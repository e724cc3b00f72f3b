from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Cobranças")

    def ready(self):
        from billing import signals  # noqa: F401  (registers the last-payment-status receiver)

        provide_extension_points()


def provide_extension_points() -> None:
    """Billing implements what the apps below it call without importing billing (core/registry.py)."""
    from billing.selectors import with_refund_row_facts
    from billing.services.backdating import contract_date_bounds, draft_due_invoices
    from billing.services.billing_run import billing_run_reap, billing_run_release
    from billing.services.invoice_actions import subscription_ended_charges
    from billing.services.invoicing import subscription_billing_history
    from billing.services.pause import (
        pause_policy,
        resume_billing,
        resume_preview,
        subscription_paused_charges,
    )
    from billing.services.portal import (
        customer_charge_reissue,
        customer_invoice_pdf,
        customer_invoices,
        customer_open_charges,
        retention_coupon,
        withdrawal_refund,
    )
    from billing.services.previews import cancellation_money_preview, subscription_change_preview
    from billing.services.proration import credit_unused_time, prorate_plan_change
    from billing.services.refunds import refund_row_refusal
    from core import heartbeat
    from core.queues import BILLING
    from subscribers import extension_points as subscribers

    by = "billing"
    # Stripe cards of merchants in our-engine mode are charged through their own connection.
    from billing.choices import Gateway
    from billing.gateways import remote_gateways
    from billing.gateways.stripe_intents import engine_gateway_for

    remote_gateways.register(Gateway.STRIPE, engine_gateway_for)
    subscribers.plan_change.provide(prorate_plan_change, by=by)
    subscribers.cancel_credit.provide(credit_unused_time, by=by)
    subscribers.change_money_preview.provide(subscription_change_preview, by=by)
    subscribers.cancel_money_preview.provide(cancellation_money_preview, by=by)
    subscribers.billing_history.provide(subscription_billing_history, by=by)
    subscribers.contract_date_bounds.provide(contract_date_bounds, by=by)
    subscribers.first_invoices.provide(draft_due_invoices, by=by)
    subscribers.refund_refusal.provide(refund_row_refusal, by=by)
    subscribers.refund_row_facts.provide(with_refund_row_facts, by=by)
    subscribers.subscription_ended.provide(subscription_ended_charges, by=by)
    subscribers.customer_invoices.provide(customer_invoices, by=by)
    subscribers.customer_invoice_pdf.provide(customer_invoice_pdf, by=by)
    subscribers.withdrawal_refund.provide(withdrawal_refund, by=by)
    subscribers.customer_open_charges.provide(customer_open_charges, by=by)
    subscribers.customer_charge_reissue.provide(customer_charge_reissue, by=by)
    subscribers.retention_coupon.provide(retention_coupon, by=by)
    subscribers.pause_policy.provide(pause_policy, by=by)
    subscribers.subscription_paused.provide(subscription_paused_charges, by=by)
    subscribers.resume_billing.provide(resume_billing, by=by)
    subscribers.resume_money_preview.provide(resume_preview, by=by)
    # The billing cluster's workers reap chunks of dead workers after each heartbeat; `manage.py worker`
    # hands back the chunks of workers it had to kill.
    heartbeat.worker_heartbeat.provide(billing_run_reap, by=by, key=BILLING)
    heartbeat.worker_release.provide(billing_run_release, by=by)
