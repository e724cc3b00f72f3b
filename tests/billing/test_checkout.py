"""The public checkout of a checkout link: the service (customer, subscription with origin checkout, the
first charge) and the page (404s, one-time token, honeypot, coupon, boleto/pix waiting page)."""

import datetime as dt
import re
import threading

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from billing.checkout import services
from billing.checkout.views import CheckoutPageView
from billing.choices import PaymentStatus
from billing.models import Invoice, Payment
from billing.services.charging import payment_settle
from core.idempotency import AlreadyDone, InvalidToken, issue_form_token
from plans.models import CheckoutLink
from plans.services import checkout_link_create
from subscribers.choices import PaymentMethod, SubscriptionOrigin, SubscriptionStatus
from subscribers.models import Customer, Subscription
from tests.factories import CheckoutLinkFactory, CouponFactory, CustomerFactory, PlanFactory

CPF = "529.982.247-25"
CARD_OK = "4242 4242 4242 4242"
CARD_DECLINED = "4000 0000 0000 0002"
TOKEN_RE = re.compile(r'name="form_token" value="([^"]+)"')


def token(link):
    return issue_form_token(merchant=link.merchant, user=None, kind=services.form_kind(link))


def subscribe(link, **overrides):
    data = {
        "name": "Ana Souza",
        "email": "ana@example.com",
        "document": CPF,
        "phone": "(11) 91234-5678",
        "payment_method": PaymentMethod.CARD,
        "card_number": "4242424242424242",
        "coupon_code": "",
        "form_token": token(link),
    }
    data.update(overrides)
    return services.checkout_subscribe(link=link, **data)


def page_data(link, client=None, **overrides):
    url = reverse("checkout:page", args=[link.slug])
    html = (client or Client()).get(url).content.decode()
    data = {
        "name": "Ana Souza",
        "email": "ana@example.com",
        "document": CPF,
        "phone": "",
        "payment_method": "card",
        "card_number": CARD_OK,
        "coupon_code": "",
        "website": "",
        "form_token": TOKEN_RE.search(html).group(1),
    }
    data.update(overrides)
    return url, data


@pytest.fixture
def link(merchant):
    return CheckoutLinkFactory(
        merchant=merchant, plan=PlanFactory(merchant=merchant, name="Clube", price=4990)
    )


# --- the service ------------------------------------------------------------------------------------
def test_card_4242_makes_an_active_checkout_subscription_with_a_paid_first_invoice(link):
    subscription = subscribe(link)

    assert subscription.status == SubscriptionStatus.ACTIVE
    assert subscription.origin == SubscriptionOrigin.CHECKOUT
    assert subscription.customer.document == "52998224725"
    invoice = Invoice.objects.get(subscription=subscription)
    assert invoice.total == 4990
    assert Payment.objects.get(invoice=invoice).status == PaymentStatus.SUCCEEDED
    link.refresh_from_db()
    assert link.completed == 1


def test_a_declined_card_leaves_nothing_behind_and_says_why(link):
    with pytest.raises(ValidationError) as refused:
        subscribe(link, card_number="4000000000000002")

    assert "recusado" in str(refused.value)
    assert not Subscription.objects.exists()
    assert not Customer.objects.exists()
    assert not Invoice.objects.exists()
    link.refresh_from_db()
    assert link.completed == 0


def test_after_a_decline_the_same_form_can_be_sent_again_with_another_card(link):
    form_token = token(link)
    with pytest.raises(ValidationError):
        subscribe(link, card_number="4000000000000002", form_token=form_token)

    subscription = subscribe(link, form_token=form_token)

    assert subscription.status == SubscriptionStatus.ACTIVE


def test_boleto_waits_as_pending_until_the_payment_settles(link):
    subscription = subscribe(link, payment_method=PaymentMethod.BOLETO, card_number="")

    assert subscription.status == SubscriptionStatus.PENDING
    payment = Payment.objects.get(invoice__subscription=subscription)
    assert payment.status == PaymentStatus.PENDING
    payment_settle(payment=payment)
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ACTIVE


def test_the_same_token_twice_makes_one_subscription(link):
    form_token = token(link)
    first = subscribe(link, form_token=form_token)

    with pytest.raises(AlreadyDone) as replay:
        subscribe(link, form_token=form_token)

    assert Subscription.objects.get() == first
    replay_token = replay.value.record.result_url.rstrip("/").rsplit("/", 1)[1]
    assert services.subscription_for_status_token(link=link, token=replay_token) == first
    assert Payment.objects.count() == 1


def test_a_token_of_another_link_is_refused(link, merchant):
    other = CheckoutLinkFactory(merchant=merchant, plan=link.plan)

    with pytest.raises(InvalidToken):
        subscribe(link, form_token=token(other))


def test_an_existing_customer_is_reused_by_email_or_document_and_never_changed(link, merchant):
    by_email = CustomerFactory(merchant=merchant, name="Ana Original", email="ana@example.com")
    by_document = CustomerFactory(
        merchant=merchant, name="Bia", email="bia@example.com", document="11144477735"
    )

    first = subscribe(link, name="Outro Nome", email="ANA@example.com ")
    second = subscribe(link, email="nova@example.com", document="111.444.777-35")

    assert first.customer == by_email
    assert second.customer == by_document
    by_email.refresh_from_db()
    assert by_email.name == "Ana Original"
    assert Customer.objects.count() == 2


def test_another_merchants_customer_with_the_same_email_is_not_reused(link, other_merchant):
    theirs = CustomerFactory(merchant=other_merchant, email="ana@example.com")

    subscription = subscribe(link)

    assert subscription.customer != theirs
    assert subscription.customer.merchant == link.merchant


def test_a_method_the_link_does_not_allow_is_refused(link):
    link.allow_pix = False
    link.save()

    with pytest.raises(ValidationError) as refused:
        subscribe(link, payment_method=PaymentMethod.PIX, card_number="")

    assert "payment_method" in refused.value.message_dict


def test_a_typed_coupon_applies_and_an_unknown_or_used_up_one_is_refused(link, merchant):
    CouponFactory(merchant=merchant, code="BEMVINDO", percent_off=20)
    CouponFactory(merchant=merchant, code="ESGOTADO", max_redemptions=1)
    subscribe(link, coupon_code="esgotado", email="x@example.com", document="")

    subscription = subscribe(link, coupon_code=" bemvindo ")
    for code in ("NAOEXISTE", "ESGOTADO"):
        with pytest.raises(ValidationError) as refused:
            subscribe(link, coupon_code=code, email=f"{code}@example.com", document="")
        assert "coupon_code" in refused.value.message_dict

    assert subscription.coupon.code == "BEMVINDO"
    assert Invoice.objects.get(subscription=subscription).total == 3992


def test_the_link_preset_coupon_applies_without_typing(merchant):
    coupon = CouponFactory(merchant=merchant, code="PRESET", percent_off=50)
    link = CheckoutLinkFactory(
        merchant=merchant, coupon=coupon, plan=PlanFactory(merchant=merchant, price=5000)
    )

    subscription = subscribe(link)

    assert subscription.coupon == coupon
    assert Invoice.objects.get(subscription=subscription).total == 2500


def test_the_limit_of_completed_sign_ups_closes_the_link(link):
    link.max_completions = 1
    link.save()
    subscribe(link)

    with pytest.raises(ValidationError) as refused:
        subscribe(link, email="b@example.com", document="")

    assert refused.value.code == "checkout_link_closed"
    assert Subscription.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sign_ups_for_the_last_place_make_one_subscription(merchant):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: two connections writing at once")
    link = CheckoutLinkFactory(merchant=merchant, max_completions=1)
    start = threading.Barrier(2)
    outcomes = []

    def sign_up(email):
        try:
            start.wait()
            subscribe(link, email=email, document="")
            outcomes.append("in")
        except ValidationError as exc:
            outcomes.append(exc.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sign_up, args=(e,)) for e in ("a@example.com", "b@example.com")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)  # generous: the CI machine may be busy

    assert sorted(outcomes) == ["checkout_link_closed", "in"]
    assert Subscription.objects.count() == 1
    assert Payment.objects.count() == 1
    link.refresh_from_db()
    assert link.completed == 1


def test_an_expired_link_refuses(link):
    with time_machine.travel("2030-01-01 12:00:00+00:00", tick=False):
        link.expires_at = dt.datetime(2030, 1, 1, 11, tzinfo=dt.UTC)
        link.save()
        with pytest.raises(ValidationError):
            subscribe(link)
    assert not Subscription.objects.exists()


def test_a_trial_plan_starts_trialing_with_nothing_charged_today(merchant):
    link = CheckoutLinkFactory(merchant=merchant, plan=PlanFactory(merchant=merchant, trial_days=7))

    subscription = subscribe(link)

    assert subscription.status == SubscriptionStatus.TRIALING
    assert not Payment.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_submissions_of_one_form_make_one_subscription_and_one_charge(merchant):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: two connections writing at once")
    link = CheckoutLinkFactory(merchant=merchant)
    url, data = page_data(link)
    start = threading.Barrier(2)
    responses = []

    def submit():
        try:
            start.wait()
            responses.append(Client().post(url, data))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)  # generous: the CI machine may be busy

    subscription = Subscription.objects.get()
    assert [r.status_code for r in responses] == [302, 302]
    assert len({r.url for r in responses}) == 1
    assert Payment.objects.filter(invoice__subscription=subscription).count() == 1
    assert Customer.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sign_ups_of_one_cpf_make_one_customer(merchant):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: two connections writing at once")
    link = CheckoutLinkFactory(merchant=merchant)
    start = threading.Barrier(2)
    errors = []

    def sign_up(email):
        try:
            start.wait()
            subscribe(link, email=email)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sign_up, args=(e,)) for e in ("a@example.com", "b@example.com")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)  # generous: the CI machine may be busy

    assert errors == []
    assert Subscription.objects.count() == 2
    assert Customer.objects.count() == 1


# --- the page ---------------------------------------------------------------------------------------
def test_the_page_shows_the_merchant_plan_and_price_and_counts_a_visit(client, link):
    response = client.get(reverse("checkout:page", args=[link.slug]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "The Pacific" in html and "Clube" in html and "R$\xa049,90" in html
    link.refresh_from_db()
    assert link.visits == 1


@pytest.mark.parametrize("state", ["unknown", "inactive", "expired", "sold_out", "plan_archived"])
def test_a_closed_or_unknown_link_is_the_same_404(client, link, state):
    slug = link.slug
    if state == "unknown":
        slug = "nao-existe-123"
    elif state == "inactive":
        link.is_active = False
    elif state == "expired":
        link.expires_at = "2000-01-01T00:00:00+00:00"
    elif state == "sold_out":
        link.max_completions, link.completed = 1, 1
    elif state == "plan_archived":
        link.plan.archived_at = "2000-01-01T00:00:00+00:00"
        link.plan.save()
    link.save()

    for name in ("checkout:page", "checkout:coupon", "checkout:theme"):
        assert client.get(reverse(name, args=[slug])).status_code == 404, name
    assert client.post(reverse("checkout:page", args=[slug]), {}).status_code == 404


def test_subscribing_with_a_card_lands_on_the_confirmation(client, link):
    url, data = page_data(link, client)

    response = client.post(url, data)

    subscription = Subscription.objects.get()
    assert response.status_code == 302
    assert subscription.status == SubscriptionStatus.ACTIVE
    page = client.get(response.url).content.decode()
    assert "Assinatura confirmada" in page
    link.refresh_from_db()
    assert (link.visits, link.started, link.completed) == (1, 1, 1)


def test_a_declined_card_shows_the_reason_and_creates_nothing(client, link):
    url, data = page_data(link, client, card_number=CARD_DECLINED)

    response = client.post(url, data)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Cartão recusado pelo emissor" in html
    card_input = re.search(r'<input[^>]*name="card_number"[^>]*>', html).group(0)
    assert "value=" not in card_input  # the card number is never written back into the page
    assert not Subscription.objects.exists()
    assert not Customer.objects.exists()


def test_a_card_number_failing_luhn_is_refused_before_anything_happens(client, link):
    url, data = page_data(link, client, card_number="4242 4242 4242 4241")

    response = client.post(url, data)

    assert "Número de cartão inválido" in response.content.decode()
    link.refresh_from_db()
    assert link.started == 0


def test_an_invalid_cpf_is_refused(client, link):
    url, data = page_data(link, client, document="111.111.111-12")

    response = client.post(url, data)

    assert response.status_code == 200
    assert not Subscription.objects.exists()
    assert "CPF" in response.content.decode()


def test_a_resubmitted_form_goes_to_the_first_sign_up(client, link):
    url, data = page_data(link, client)
    # The success address is signed with a timestamp: both posts in the same second so it is comparable
    # (on a loaded machine they fell in different seconds and the addresses differed only in it).
    with time_machine.travel(dt.datetime.now(dt.UTC), tick=False):
        first = client.post(url, data)

        again = client.post(url, data)

    assert again.status_code == 302 and again.url == first.url
    assert Subscription.objects.count() == 1


def test_a_post_without_a_token_is_refused(client, link):
    url, data = page_data(link, client)
    data["form_token"] = ""

    response = client.post(url, data)

    assert response.status_code == 200
    assert not Subscription.objects.exists()
    assert TOKEN_RE.search(response.content.decode()).group(1)


def test_the_honeypot_refuses_without_writing_or_counting(client, link):
    url, data = page_data(link, client, website="http://spam.example")

    response = client.post(url, data)

    assert response.status_code == 400
    assert not Subscription.objects.exists()
    link.refresh_from_db()
    assert link.started == 0


def test_the_page_answers_the_same_whether_or_not_the_email_is_a_customer(link, merchant):
    CustomerFactory(merchant=merchant, email="ana@example.com", document="52998224725")
    known_client, new_client = Client(), Client()
    url, known = page_data(link, known_client, card_number=CARD_DECLINED)
    _url, new = page_data(
        link, new_client, card_number=CARD_DECLINED, email="nova@example.com", document="11144477735"
    )

    a = known_client.post(url, known).content.decode()
    b = new_client.post(url, new).content.decode()

    strip = re.compile(r'value="[^"]*"|csrfmiddlewaretoken[^>]*')
    assert strip.sub("", a) == strip.sub("", b)


def test_boleto_shows_the_line_and_the_page_turns_active_once_paid(client, link):
    url, data = page_data(link, client, payment_method="boleto", card_number="")
    status_url = client.post(url, data).url

    waiting = client.get(status_url).content.decode()
    payment_settle(payment=Payment.objects.get())
    polled = client.get(status_url, headers={"HX-Request": "true"})

    assert "Linha digitável" in waiting and 'hx-trigger="every' in waiting
    assert "Assinatura confirmada" in polled.content.decode()
    assert "<html" not in polled.content.decode()


def test_pix_shows_the_copia_e_cola_and_its_qr(client, link):
    url, data = page_data(link, client, payment_method="pix", card_number="")

    html = client.get(client.post(url, data).url).content.decode()

    assert "Pix copia e cola" in html
    assert 'src="data:image/svg+xml;base64,' in html


def test_success_redirect_url_gets_the_subscription_id(client, link):
    link.success_url = "https://loja.example.com/obrigado?x=1"
    link.save()
    url, data = page_data(link, client)

    html = client.get(client.post(url, data).url).content.decode()

    subscription = Subscription.objects.get()
    assert f"https://loja.example.com/obrigado?x=1&amp;subscription_id={subscription.pk}" in html


@pytest.mark.parametrize("token", ["forjado", None])
def test_the_order_page_needs_its_signed_token(client, link, merchant, token):
    subscription = subscribe(link)
    if token is None:  # a real token, but of another link
        other = CheckoutLinkFactory(merchant=merchant, plan=link.plan)
        token = services.status_token(link=other, subscription=subscription)

    response = client.get(reverse("checkout:status", args=[link.slug, token]))

    assert response.status_code == 404


def test_the_live_coupon_check_shows_the_discounted_first_charge(client, link, merchant):
    CouponFactory(merchant=merchant, code="METADE", percent_off=50)
    url = reverse("checkout:coupon", args=[link.slug])

    good = client.get(url, {"coupon_code": "metade"}, headers={"HX-Request": "true"}).content.decode()
    bad = client.get(url, {"coupon_code": "nada"}, headers={"HX-Request": "true"}).content.decode()

    assert "R$\xa024,95" in good and "METADE" in good
    assert "Cupom inválido" in bad


def test_a_coupon_of_another_merchant_is_unknown_here(client, link, other_merchant):
    CouponFactory(merchant=other_merchant, code="DELES")

    html = client.get(reverse("checkout:coupon", args=[link.slug]), {"coupon_code": "DELES"}).content.decode()

    assert "Cupom inválido" in html


def test_the_brand_colour_is_a_stylesheet(client, link):
    link.brand_color = "#ff0066"
    link.save()

    page = client.get(reverse("checkout:page", args=[link.slug])).content.decode()
    css = client.get(reverse("checkout:theme", args=[link.slug]))

    assert reverse("checkout:theme", args=[link.slug]) in page
    assert css["Content-Type"].startswith("text/css") and b"#ff0066" in css.content


def test_rate_limits_per_ip_and_per_link_answer_429(settings, link, rate_limits_on):
    from django.core.cache import cache

    settings.RATELIMIT_ENABLE = True
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "checkout": "2/m", "checkout_link": "3/m"}
    cache.clear()
    url = reverse("checkout:page", args=[link.slug])
    one_ip = Client(REMOTE_ADDR="10.0.0.1")

    first = [one_ip.post(url, {}).status_code for _ in range(3)]
    others = [Client(REMOTE_ADDR=f"10.0.1.{n}").post(url, {}).status_code for n in range(2)]

    assert first == [200, 200, 429]
    assert others == [200, 429]  # the link's own limit (3) is reached across addresses
    cache.clear()


def test_checkout_link_create_refuses_a_link_without_payment_methods(merchant):
    plan = PlanFactory(merchant=merchant)

    with pytest.raises(ValidationError):
        checkout_link_create(
            merchant=merchant, plan=plan, allow_card=False, allow_boleto=False, allow_pix=False
        )
    assert not CheckoutLink.objects.exists()


def test_the_view_limits_are_declared():
    groups = {group for group, _key, _methods in CheckoutPageView.rate_limits}
    assert {"checkout", "checkout_link", "public"} <= groups


def test_the_page_costs_two_queries_the_link_with_everything_it_shows_and_the_visit(client, link):
    # The hottest public page (bench/checkout.py): the link joined with its merchant, the merchant's
    # billing settings (the preview), plan and coupon; then the visit counter. Nothing scans.
    page = reverse("checkout:page", args=[link.slug])
    from django.test.utils import CaptureQueriesContext

    client.get(page)  # the session/CSRF cookie, as a browser has after its first view
    with CaptureQueriesContext(connection) as queries:
        assert client.get(page).status_code == 200
    sqls = [q["sql"] for q in queries.captured_queries]
    assert len(sqls) == 2, "\n".join(sqls)


@pytest.mark.parametrize("bound", [False, True], ids=["empty", "with-errors"])
def test_the_forms_inputs_are_the_markup_django_would_write(link, bound):
    # The checkout form writes its <input>s in Python (billing/checkout/forms.py, _DirectInput) for speed;
    # they must stay what Django's own widget templates write, attributes, values and errors included.

    from billing.checkout.forms import CheckoutForm

    data = {"name": 'Ana "A" <b>', "email": "nope", "document": "1", "card_number": "4242", "website": ""}
    form = CheckoutForm(data if bound else None, link=link, initial={"form_token": "tok"})
    if bound:
        assert not form.is_valid()
    for name in ("name", "email", "document", "phone", "card_number", "website", "form_token"):
        field = form[name]
        widget = field.field.widget
        django_class = next(
            k for k in type(widget).__mro__ if k.__module__.startswith(("django.", "subscribers."))
        )
        reference = django_class(attrs=widget.attrs)
        reference.is_required = widget.is_required
        attrs = field.build_widget_attrs({"id": field.auto_id} if field.auto_id else {})
        value = field.value()
        expected = reference.render(field.html_name, value, attrs=attrs)
        assert str(widget.render(field.html_name, value, attrs=attrs)) == expected, name
