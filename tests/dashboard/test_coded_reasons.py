"""Principais motivos counts the coded cancellation reasons too (a customer's option in the portal, the
reasons the system words itself), grouped by the option or the code whatever language they were given in,
and names each group in the reader's language; a typed reason is shown as typed."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from dashboard import services
from dashboard.metrics import CancelReason, build_dashboard
from dashboard.periods import Preset, preset_period
from dashboard.selectors import coded_reason_key
from subscribers import timeline
from subscribers.choices import CancelOrigin
from tests.dashboard.conftest import NOW, S, _subscription, local
from tests.dashboard.test_metrics import TODAY
from tests.factories import PlanFactory

pytestmark = pytest.mark.django_db
URL = reverse("dashboard:index")


@pytest.fixture
def canceled(merchant, frozen_clock):
    """Five cancellations in March: three customers who picked "Está caro para mim" in the portal (their
    words differ), one dunning gave up on, one reason typed by the seller."""
    plan = PlanFactory(merchant=merchant, price=5000)

    def cancel(day, **reason):
        return _subscription(
            merchant,
            plan,
            contract=NOW.date().replace(month=1),
            status=S.CANCELED,
            ended=local(2026, 3, day, 10, 0),
            **reason,
        )

    for day, details in ((2, "Too pricey"), (3, ""), (4, "caro demais")):
        cancel(
            day,
            cancel_origin=CancelOrigin.CUSTOMER,
            cancel_reason_code=timeline.PORTAL_CANCEL_REQUEST,
            cancel_reason_params=timeline.customer_reason_params("price", details),
        )
    cancel(5, cancel_origin=CancelOrigin.SELLER, cancel_reason_code=timeline.DUNNING_EXHAUSTED)
    cancel(6, cancel_origin=CancelOrigin.SELLER, cancel_reason="Mudou de cidade")
    return merchant


def test_coded_reasons_are_grouped_by_option_or_code_not_counted_as_without_reason(canceled):
    dashboard = build_dashboard(
        merchant=canceled, period=preset_period(Preset.THIS_MONTH, today=TODAY), today=TODAY
    )

    assert dashboard.top_reasons == [
        (CancelReason(code=coded_reason_key("portal_cancel_request", {"option": "price"}), text=""), 3),
        (CancelReason(code="", text="Mudou de cidade"), 1),
        (CancelReason(code="dunning_exhausted", text=""), 1),
    ]
    assert dashboard.no_reason == 0


@pytest.mark.parametrize(
    ("language", "price", "dunning"),
    [
        ("pt-br", "Está caro para mim", "Tentativas de cobrança esgotadas."),
        ("en", "It is too expensive for me", "Charge attempts exhausted."),
    ],
)
@pytest.mark.parametrize("stored", [False, True], ids=["live", "snapshot"])
def test_the_reasons_chart_names_each_group_in_the_readers_language(
    canceled, owner, language, price, dunning, stored
):
    if stored:  # a large merchant's page reads the facts kept by the refresh
        services.snapshot_refresh(merchant=canceled)
    client = Client()
    client.force_login(owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    html = client.get(URL).content.decode()
    chart = html[html.index('id="chart-reasons"') : html.index('id="chart-methods"')]

    assert price in chart and dunning in chart and "Mudou de cidade" in chart
    assert "Too pricey" not in chart and "portal_cancel_request" not in chart
