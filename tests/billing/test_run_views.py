"""Cobranças > Execuções: the runs, their self-refreshing progress bar and "Executar agora"."""

import datetime as dt
import importlib

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.choices import BillingRunStatus, BillingRunTrigger
from billing.models import BillingRun
from tests.factories import BillingRunFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("billing:run_list")
RUN_NOW_URL = reverse("billing:run_now")
UTC = dt.UTC


def running(merchant, **fields):
    values = {"status": BillingRunStatus.RUNNING, "due": 200, "processed": 50, "succeeded": 45, "failed": 5}
    values.update(fields)
    return BillingRunFactory(merchant=merchant, chunks_total=4, chunks_done=1, **values)


def progress_url(run):
    return reverse("billing:run_progress", args=[run.pk])


# --- the list ------------------------------------------------------------------------------------------
def test_the_list_shows_runs_newest_first_with_their_figures(owner_client, merchant, other_merchant):
    old = BillingRunFactory(merchant=merchant, due=10, processed=10, succeeded=7, failed=3)
    new = BillingRunFactory(merchant=merchant, due=20, processed=20, succeeded=20, failed=0)
    BillingRunFactory(merchant=other_merchant)
    BillingRun.objects.filter(pk=old.pk).update(started_at=dt.datetime(2026, 1, 1, 12, tzinfo=UTC))
    BillingRun.objects.filter(pk=new.pk).update(started_at=dt.datetime(2026, 2, 1, 12, tzinfo=UTC))

    response = owner_client.get(LIST_URL)

    rows = list(response.context["table"].page.object_list)
    assert [r.record.pk for r in rows] == [new.pk, old.pk]
    content = response.content.decode()
    assert new.get_absolute_url() in content
    assert '<span class="badge text-bg-success">Concluída</span>' in content
    assert 'class="progress-bar' in content and "100%" in content


def test_a_running_run_polls_its_progress_and_a_finished_one_does_not(owner_client, merchant):
    live = running(merchant)
    done = BillingRunFactory(merchant=merchant)

    content = owner_client.get(LIST_URL).content.decode()

    assert f'hx-get="{progress_url(live)}?compact=1"' in content
    assert 'hx-trigger="every 2s"' in content
    assert progress_url(done) not in content
    assert "25%" in content  # 50 of 200


def test_the_list_shows_who_started_a_manual_run(owner_client, owner, merchant):
    BillingRunFactory(merchant=merchant, started_by=owner, trigger=BillingRunTrigger.MANUAL)
    BillingRunFactory(merchant=merchant, trigger=BillingRunTrigger.SCHEDULE)

    response = owner_client.get(LIST_URL)

    cells = [row.get_cell("started_by") for row in response.context["table"].rows]
    assert owner.get_full_name() in cells and "—" in cells


def test_status_filter(owner_client, merchant):
    live = running(merchant)
    BillingRunFactory(merchant=merchant)

    response = owner_client.get(LIST_URL, {"status": "running"})

    assert [row.record.pk for row in response.context["table"].rows] == [live.pk]


def test_trigger_filter(owner_client, merchant):
    manual = BillingRunFactory(merchant=merchant, trigger=BillingRunTrigger.MANUAL)
    BillingRunFactory(merchant=merchant, trigger=BillingRunTrigger.SCHEDULE)

    response = owner_client.get(LIST_URL, {"trigger": "manual"})

    assert [row.record.pk for row in response.context["table"].rows] == [manual.pk]


def test_list_query_count_does_not_grow_with_rows(
    owner_client, owner, merchant, django_assert_max_num_queries
):
    BillingRun.objects.bulk_create(
        BillingRun(merchant=merchant, started_by=owner, due=10, processed=n % 11, status="running")
        for n in range(200)
    )

    with django_assert_max_num_queries(10):
        response = owner_client.get(LIST_URL, {"page": 3})

    assert len(response.context["table"].page.object_list) == 25


def test_run_now_button_only_for_owners(member_client, owner, manager, viewer, support, merchant):
    assert RUN_NOW_URL in member_client(owner).get(LIST_URL).content.decode()
    for user in (manager, viewer, support):
        assert RUN_NOW_URL not in member_client(user).get(LIST_URL).content.decode()
        assert member_client(user).post(RUN_NOW_URL).status_code == 403


# --- a run's page and its progress partial -------------------------------------------------------------
def test_the_run_page_shows_its_progress_and_polls_while_running(owner_client, owner, merchant):
    run = running(merchant, started_by=owner, trigger=BillingRunTrigger.MANUAL)

    content = owner_client.get(run.get_absolute_url()).content.decode()

    assert f"Execução nº {run.pk}" in content
    assert "50 de 200" in content
    assert "Manual" in content and owner.get_full_name() in content
    assert f'hx-get="{progress_url(run)}"' in content
    assert 'hx-trigger="every 2s"' in content
    assert 'aria-valuenow="25"' in content


def test_the_progress_partial_keeps_polling_while_running(owner_client, merchant):
    run = running(merchant)

    response = owner_client.get(progress_url(run), headers={"HX-Request": "true"})

    content = response.content.decode()
    assert "<html" not in content
    assert 'hx-trigger="every 2s"' in content
    assert "50 de 200" in content


def test_the_progress_partial_of_a_finished_run_stops_the_polling(owner_client, merchant):
    run = running(merchant)
    BillingRun.objects.filter(pk=run.pk).update(
        status=BillingRunStatus.FINISHED, processed=200, succeeded=190, failed=10, finished_at=timezone.now()
    )

    content = owner_client.get(progress_url(run)).content.decode()

    assert "hx-trigger" not in content and "hx-get" not in content
    assert "100%" in content and "200 de 200" in content
    assert "Concluída" in content


def test_the_compact_partial_is_the_lists_cell(owner_client, merchant):
    run = running(merchant)
    content = owner_client.get(progress_url(run), {"compact": "1"}).content.decode()
    assert f'hx-get="{progress_url(run)}?compact=1"' in content
    assert 'id="run-counts"' not in content


def test_a_failed_run_shows_its_error(owner_client, merchant):
    run = BillingRunFactory(merchant=merchant, status=BillingRunStatus.FAILED, error="Banco fora do ar")
    content = owner_client.get(run.get_absolute_url()).content.decode()
    assert "Banco fora do ar" in content and "bg-danger" in content


def test_a_failed_runs_own_error_reads_in_each_readers_language(merchant, owner):
    from tests.billing.test_refund_reason_codes import reader

    run = BillingRunFactory(
        merchant=merchant,
        status=BillingRunStatus.FAILED,
        error_code="chunks_given_up",
        error_params={"count": 2, "attempts": 3},
    )
    assert "2 chunk(s) given up after 3 attempts." in reader(owner, "en").get(run.get_absolute_url()).text
    assert (
        "2 lote(s) abandonado(s) após 3 tentativas."
        in reader(owner, "pt-br").get(run.get_absolute_url()).text
    )


def test_the_migration_maps_the_run_errors_stored_before_to_their_codes():
    migration = importlib.import_module("billing.migrations.0023_billing_run_error_codes")
    assert migration.code_of("1 chunk(s) given up after 3 attempts.") == (
        "chunks_given_up",
        {"count": 1, "attempts": 3},
    )
    assert migration.code_of("Execução interrompida sem registro de lotes.") == ("interrupted", {})
    assert migration.code_of("Banco fora do ar") is None


def test_viewer_can_read_runs(member_client, viewer, merchant):
    run = running(merchant)
    client = member_client(viewer)
    assert client.get(LIST_URL).status_code == 200
    assert client.get(run.get_absolute_url()).status_code == 200
    assert client.get(progress_url(run)).status_code == 200


def test_another_merchants_run_is_404(owner_client, other_merchant):
    run = running(other_merchant)
    assert owner_client.get(run.get_absolute_url()).status_code == 404
    assert owner_client.get(progress_url(run)).status_code == 404


# --- "Executar agora" ----------------------------------------------------------------------------------
def test_run_now_with_nothing_due_says_so(owner_client, merchant):
    SubscriptionFactory(merchant=merchant, next_invoice_at=timezone.now() + dt.timedelta(days=3))

    response = owner_client.post(RUN_NOW_URL, follow=True)

    assert response.redirect_chain[-1][0] == LIST_URL
    assert "Nada a cobrar agora." in response.content.decode()
    assert not BillingRun.objects.exists()


def test_run_now_starts_a_manual_run_for_this_merchant_only(
    member_client, owner, merchant, other_merchant, django_capture_on_commit_callbacks
):
    due = timezone.now() - dt.timedelta(minutes=1)
    SubscriptionFactory.create_batch(3, merchant=merchant, next_invoice_at=due)
    SubscriptionFactory(merchant=other_merchant, next_invoice_at=due)

    with django_capture_on_commit_callbacks() as callbacks:
        response = member_client(owner).post(RUN_NOW_URL)

    run = BillingRun.objects.get()
    assert run.merchant == merchant
    assert (run.trigger, run.started_by, run.due, run.status) == (
        BillingRunTrigger.MANUAL,
        owner,
        3,
        BillingRunStatus.RUNNING,
    )
    assert response["Location"] == run.get_absolute_url()
    assert len(callbacks) == 1  # one chunk handed to the task queue once the transaction commits


def test_run_now_is_post_only(owner_client, merchant):
    assert owner_client.get(RUN_NOW_URL).status_code == 405


@pytest.mark.parametrize("role", ["viewer", "support"])
def test_roles_without_manage_billing_cannot_run_now(request, member_client, merchant, role):
    SubscriptionFactory(merchant=merchant, next_invoice_at=timezone.now() - dt.timedelta(minutes=1))

    response = member_client(request.getfixturevalue(role)).post(RUN_NOW_URL)

    assert response.status_code == 403
    assert not BillingRun.objects.exists()
