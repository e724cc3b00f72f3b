"""What subscribers asks of billing, which builds on it (subscribers may not import billing).

Each point is provided by billing in `BillingConfig.ready()` (core/registry.py explains the mechanism;
docs/architecture.md lists every point).
"""

from core.registry import ExtensionPoint

plan_change = ExtensionPoint(
    "subscribers.plan_change",
    declared_by="subscribers",
    description="Bills a plan or quantity change applied now, inside the edit's transaction. Called as "
    "(subscription=, old_plan=, old_quantity=, now=, previous=, old_tax_rates=); returns a JSON-safe dict "
    "noted on the edit's timeline entry, or None.",
)
cancel_credit = ExtensionPoint(
    "subscribers.cancel_credit",
    declared_by="subscribers",
    description="Credits the unused rest of the paid period to the customer's balance (cancel now, "
    "crediting). Called as (subscription=, now=); returns the note for the timeline.",
)
change_money_preview = ExtensionPoint(
    "subscribers.change_money_preview",
    declared_by="subscribers",
    description="What an edit (plan, quantity, coupon, discount, taxes) charges or credits now and the next "
    "invoice, for the edit screen. Raises ValidationError when the values cannot be previewed.",
)
cancel_money_preview = ExtensionPoint(
    "subscribers.cancel_money_preview",
    declared_by="subscribers",
    description="What a cancellation does to the customer's money, for the cancel screen.",
)
billing_history = ExtensionPoint(
    "subscribers.billing_history",
    declared_by="subscribers",
    description="A subscription's billing history and whether a delete may take it along (money never). "
    'Called as (subscription, delete=bool) → {"invoices": n, "payments": n, "blocked_reason": str}.',
)
contract_date_bounds = ExtensionPoint(
    "subscribers.contract_date_bounds",
    declared_by="subscribers",
    description="(earliest, latest) contract date the merchant accepts for a plan today. Called as "
    "(merchant=, plan=, today=).",
)
first_invoices = ExtensionPoint(
    "subscribers.first_invoices",
    declared_by="subscribers",
    description="The invoices billing will issue for a subscription just contracted. Called as "
    "(subscription=, tax_rates=, now=).",
)
refund_refusal = ExtensionPoint(
    "subscribers.refund_refusal",
    declared_by="subscribers",
    description="Why a list row may not be refunded (the refund service's own message), or None. Called as "
    "(subscription, has_paid_payment=bool).",
)
refund_row_facts = ExtensionPoint(
    "subscribers.refund_row_facts",
    declared_by="subscribers",
    description="Annotates Assinantes' queryset with what `refund_refusal` needs per row "
    "(`has_paid_payment`), in the list's own query. Called as (queryset) → queryset.",
)
subscription_ended = ExtensionPoint(
    "subscribers.subscription_ended",
    declared_by="subscribers",
    description="What ending a subscription does to its open charges (live boletos/pix withdrawn, invoices "
    "voided), in the transaction that ends it. Called as (subscription, now=).",
)
# --- Minha assinatura (subscribers/portal/): what the customer sees and asks of billing ---------------
customer_invoices = ExtensionPoint(
    "subscribers.customer_invoices",
    declared_by="subscribers",
    description="The invoices the customer portal lists for one customer (drafts left out), newest first. "
    "Called as (customer=) → a list of Invoice rows.",
)
customer_invoice_pdf = ExtensionPoint(
    "subscribers.customer_invoice_pdf",
    declared_by="subscribers",
    description="One of the customer's invoices as a PDF for the portal. Called as "
    "(customer=, invoice_id=) → "
    "(filename, bytes); raises Http404 when the invoice is not that customer's.",
)
customer_open_charges = ExtensionPoint(
    "subscribers.customer_open_charges",
    declared_by="subscribers",
    description="The customer's open invoices paid by boleto/pix for the portal. Called as (customer=) → "
    "a list of {invoice, payment, replaces, reissuable, boleto_line, pix_code}.",
)
customer_charge_reissue = ExtensionPoint(
    "subscribers.customer_charge_reissue",
    declared_by="subscribers",
    description="2ª via of an open invoice's boleto/pix for the portal. Called as (customer=, invoice_id=, "
    "replaces=, actor=) → the new (or, on a repeated request, the already reissued) Payment; Http404 for "
    "another customer's invoice, ValidationError when there is nothing to reissue.",
)
retention_coupon = ExtensionPoint(
    "subscribers.retention_coupon",
    declared_by="subscribers",
    description="The coupon a merchant offers in the portal after a cancellation request, accepted with one "
    "click. Called as (merchant) → a Coupon or None.",
)
withdrawal_refund = ExtensionPoint(
    "subscribers.withdrawal_refund",
    declared_by="subscribers",
    description="Refunds in full a subscription cancelled by withdrawal (CDC art. 49) through the refund "
    "service. Called as (subscription=, actor=, reason_code=, now=), the refund's reason a code of "
    "subscribers/timeline.py; raises ValidationError when it cannot.",
)
pause_policy = ExtensionPoint(
    "subscribers.pause_policy",
    declared_by="subscribers",
    description="The merchant's pause rules (Configurações > Cobrança). Called as (merchant) → "
    '{"coupons": PauseCoupons value, "access": PauseAccess value, "customers_may_pause": bool}.',
)
subscription_paused = ExtensionPoint(
    "subscribers.subscription_paused",
    declared_by="subscribers",
    description="What pausing does to a subscription's open charges (live boletos/pix withdrawn and their "
    "invoices voided), in the transaction that pauses it. Called as (subscription, now=); returns the "
    "number of invoices voided.",
)
resume_billing = ExtensionPoint(
    "subscribers.resume_billing",
    declared_by="subscribers",
    description="Bills a resume inside its transaction: a new period charged at once, or the prorated rest "
    "of the current cycle's period. Called as (subscription=, mode=, charge_rest=bool, now=) after the "
    "subscription's cycle fields were set (charge_rest: continuing past the paid period, the rest of the "
    "current period is owed); returns a JSON-safe note for the timeline.",
)
resume_money_preview = ExtensionPoint(
    "subscribers.resume_money_preview",
    declared_by="subscribers",
    description="What resuming bills now and next, for the resume screen. Called as (subscription=, mode=, "
    "at=) → dict (see billing.services.pause.resume_preview).",
)
