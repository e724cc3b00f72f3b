"""The Content-Security-Policy header (django-csp, settings.CONTENT_SECURITY_POLICY) breaks no page.

Chromium reports every blocked inline script, inline style, on…= handler or foreign resource as a console
error and a `securitypolicyviolation` event. The test signs in through the login form and opens every
merchant screen the URL walker knows (lists, details, forms; one object of each kind), plus the e-mail
editor with its preview iframe, and fails on any report.
"""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from billing.choices import PaymentStatus
from subscribers.choices import PaymentMethod
from subscribers.services.schedules import PhaseSpec, schedule_create
from tests.factories import (
    FACTORY_FOR_MODEL,
    InvoiceFactory,
    PaymentFactory,
    PlanFactory,
    SandboxChargeFactory,
    SubscriptionFactory,
)
from tests.urlwalk import merchant_routes

pytestmark = pytest.mark.django_db(transaction=True)

COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline") + " @ " +
    (event.sourceFile || "") + ":" + event.lineNumber + " " + (event.sample || ""));
});
"""


def _pages(client, merchant):
    """Every merchant screen that answers an HTML page to a GET (downloads and POST-only actions aside)."""
    urls = []
    objects = {}  # one object of each kind (some are unique per merchant, e.g. an e-mail template's kind)
    for route in merchant_routes():
        if route.kwargs:
            factory = FACTORY_FOR_MODEL.get(route.model)
            if factory is None:
                continue
            if route.model not in objects:
                objects[route.model] = factory(merchant=merchant)
            url = reverse(route.name, kwargs=route.url_kwargs(objects[route.model]))
        else:
            url = reverse(route.name)
        response = client.get(url)
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            urls.append(url)
    return urls


def test_no_page_violates_the_content_security_policy(page, login, owner, merchant, client):
    # A pending pix with "Simular pagamento", so the invoice page shows its buttons and dialogs.
    subscription = SubscriptionFactory(merchant=merchant, payment_method=PaymentMethod.PIX)
    invoice = InvoiceFactory(merchant=merchant, subscription=subscription, subtotal=4990, attempt_count=1)
    charge = SandboxChargeFactory(merchant=merchant, method=PaymentMethod.PIX, amount=4990)
    PaymentFactory(
        merchant=merchant,
        invoice=invoice,
        method=PaymentMethod.PIX,
        amount=4990,
        status=PaymentStatus.PENDING,
        gateway_reference=charge.reference,
    )
    client.force_login(owner)
    urls = _pages(client, merchant)
    assert len(urls) > 40, urls

    reports = []
    page.on(
        "console",
        lambda message: (
            reports.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text
            else None
        ),
    )
    page.add_init_script(COLLECT_VIOLATIONS)

    response = page.goto("/conta/login/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    login(owner)
    for url in [*urls, invoice.get_absolute_url()]:
        page.goto(url)
        page.wait_for_load_state("networkidle")
        reports.extend(f"{url}: {v}" for v in page.evaluate("window.__cspViolations || []"))

    # The e-mail editor: the preview (a sandboxed srcdoc iframe with the e-mail's own inline styles).
    page.goto(reverse("notifications:customer_email_edit", kwargs={"kind": "renewal_reminder"}))
    expect(page.locator("#preview-subject")).not_to_be_empty()
    expect(page.frame_locator("#preview-html").locator("body")).not_to_be_empty()
    page.wait_for_load_state("networkidle")
    reports.extend(page.evaluate("window.__cspViolations || []"))

    assert not reports, "\n".join(sorted(set(reports)))


def test_the_schedule_timeline_violates_no_policy_and_keeps_its_phase_width(page, login, owner, merchant):
    # The URL walk above opens a subscription without a schedule; the Programação card only renders with one.
    subscription = SubscriptionFactory(merchant=merchant)
    impressa = PlanFactory(merchant=merchant, name="Impressa", price=8990)
    schedule_create(
        subscription=subscription,
        actor=owner,
        phases=[PhaseSpec(plan=impressa, iterations=1), PhaseSpec(plan=impressa, quantity=2)],
    )
    page.add_init_script(COLLECT_VIOLATIONS)
    login(owner)

    page.goto(subscription.get_absolute_url())
    phases = page.locator("#schedule-timeline li.schedule-phase")
    expect(phases).to_have_count(3)
    page.wait_for_load_state("networkidle")

    assert page.evaluate("window.__cspViolations || []") == []
    # The width the card asks for comes from the stylesheet (an inline style= would be blocked).
    assert phases.first.evaluate("el => getComputedStyle(el).minWidth") == "192px"
