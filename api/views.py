"""The merchant API's endpoints. Thin: every queryset starts from the key's merchant (request.auth), so
another merchant's id is a 404 like an unknown one; every write validates the body with a serializer and
makes one call to the same service the screens call, with the key as actor (subscribers/actors.py)."""

import re
from contextlib import contextmanager

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from api import filters, serializers
from api.exceptions import error_body
from api.idempotency import run_idempotent
from billing.models import Invoice, Payment
from billing.pdf import invoice_pdf_filename, render_invoice_pdf
from billing.services.previews import (
    cancellation_money_preview,
    schedule_running_change_preview,
    subscription_change_preview,
)
from billing.services.refunds import subscription_refund
from billing.services.upcoming import upcoming_invoices
from core.models import Event
from notifications.webhooks.models import WebhookEndpoint
from notifications.webhooks.services.endpoints import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_update,
)
from plans.models import Plan
from subscribers.actors import ApiKeyActor
from subscribers.choices import (
    PhaseAnchor,
    PhaseKind,
    PhaseProration,
    ScheduleEndBehavior,
    SubscriptionOrigin,
)
from subscribers.choices import SubscriptionStatus as S
from subscribers.models import Customer, Subscription
from subscribers.selectors import customer_access
from subscribers.services.changes import KEEP, subscription_update
from subscribers.services.contract import subscription_create
from subscribers.services.customers import customer_create, customer_details, customer_update
from subscribers.services.ending import cancellation_preview, subscription_cancel
from subscribers.services.schedules import (
    PhaseSpec,
    schedule_cancel,
    schedule_create,
    schedule_dry_run,
    schedule_release,
    schedule_update,
)


class MerchantScopedViewSet(viewsets.GenericViewSet):
    # Ids are integers: the schema says so (from the model's pk), and one that is not a number finds
    # nothing — a 404 error object like any unknown id (DRF's get_object_or_404).

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Authenticated, allowed: every POST honours Idempotency-Key (api/idempotency.py).
        handler = getattr(self, "post", None)
        if request.method == "POST" and handler is not None:
            self.post = lambda request, *a, **kw: run_idempotent(request, handler, *a, **kw)

    def get_queryset(self):
        return self.queryset.filter(merchant=self.request.auth.merchant)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if isinstance(getattr(self.request, "auth", None), object) and self.request.auth is not None:
            context["merchant"] = self.request.auth.merchant
        return context

    @property
    def actor(self) -> ApiKeyActor:
        return ApiKeyActor(api_key_id=self.request.auth.pk, name=self.request.auth.name)

    def validated(self, serializer_class, data) -> dict:
        serializer = serializer_class(data=data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def answer(self, obj, *, serializer_class=None, status_code=status.HTTP_200_OK) -> Response:
        serializer_class = serializer_class or self.get_serializer_class()
        return Response(serializer_class(obj, context=self.get_serializer_context()).data, status=status_code)


class ReadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, MerchantScopedViewSet):
    pass


# --- customers -------------------------------------------------------------------------------------
class CustomerViewSet(ReadViewSet):
    queryset = Customer.objects.all()
    serializer_class = serializers.CustomerSerializer

    @extend_schema(
        request=serializers.CustomerWriteSerializer, responses={201: serializers.CustomerSerializer}
    )
    def create(self, request):
        data = self.validated(serializers.CustomerWriteSerializer, request.data)
        customer = customer_create(merchant=request.auth.merchant, **data)
        return self.answer(customer, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.CustomerWriteSerializer(partial=True))
    def partial_update(self, request, pk=None):
        customer = self.get_object()
        serializer = serializers.CustomerWriteSerializer(
            instance=None, data=request.data, partial=True, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        customer = customer_update(
            customer=customer, actor=self.actor, **{**customer_details(customer), **serializer.validated_data}
        )
        return self.answer(customer)

    @extend_schema(responses=serializers.AccessSerializer)
    @action(detail=True, methods=["get"], url_path="access")
    def access(self, request, pk=None):
        """Does the customer have access now? The subscriptions that give it and until when."""
        customer = self.get_object()
        granted = customer_access(customer=customer, now=timezone.now())
        ends = [until for _subscription, until in granted]
        data = {
            "customer": customer.pk,
            "has_access": bool(granted),
            # Unknown (None) for any of them means no known end for the customer either.
            "access_until": max(ends) if ends and None not in ends else None,
            "subscriptions": [
                {
                    "id": subscription.pk,
                    "status": subscription.status,
                    "plan": {"id": subscription.plan_id, "name": subscription.plan.name},
                    "access_until": until,
                }
                for subscription, until in granted
            ],
        }
        return Response(serializers.AccessSerializer(data).data)


class PlanViewSet(ReadViewSet):
    queryset = Plan.objects.all()
    serializer_class = serializers.PlanSerializer


# --- schedules -------------------------------------------------------------------------------------
_SERVICE_PHASE_KEY = re.compile(r"^phases-(\d+)-(\w+)$")


def _phase_spec(data: dict) -> PhaseSpec:
    """A phase of the request body as the schedule services take it, read as the phase editor reads its
    form (subscribers/forms/schedule.py): a pause keeps only its end and resume mode; a plan leaves no
    one-off price beside it."""
    if data["kind"] == PhaseKind.PAUSE:
        return PhaseSpec.pause(end_date=data["end_date"], resume_mode=data["resume_mode"])
    plan = data["plan"]
    return PhaseSpec(
        plan=plan,
        price_name=data["price_name"],
        price_amount=None if plan else data["price_amount"],
        price_interval_unit="" if plan else data["price_interval_unit"],
        price_interval_count=None if plan else data["price_interval_count"],
        quantity=data["quantity"],
        coupon=data["coupon"],
        discount_percent=data["discount_percent"],
        tax_rates=list(data["tax_rates"]),
        trial_days=data["trial_days"],
        end_date=data["end_date"],
        iterations=data["iterations"],
        proration=data["proration"] or PhaseProration.PRORATE,
        anchor=data["anchor"] or PhaseAnchor.AUTOMATIC,
    )


def _attached_phases(subscription: Subscription) -> int:
    """How many phases schedule_create puts before the ones sent: a running subscription's current terms
    become phase 0; one not started yet takes the phases from its start."""
    return 0 if subscription.status == S.SCHEDULED else 1


@contextmanager
def _schedule_errors(*, offset: int = 0, prefix: str = ""):
    """The schedule services' refusals with the request body's names: their `phases-<n>-<field>` (the
    editor's form prefix, counting every phase of the schedule) becomes `phases[<i>].<field>` with `i` the
    index in the body's `phases` (`offset` phases come before them: phase 0 of an attached schedule,
    whose own problems are the request's). Codes and messages are the services'."""
    try:
        yield
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            if prefix:
                raise ValidationError({prefix: exc.error_list}) from None
            raise
        errors: dict[str, list] = {}
        for key, problems in exc.error_dict.items():
            match = _SERVICE_PHASE_KEY.match(key)
            if match and int(match[1]) >= offset:
                key = f"phases[{int(match[1]) - offset}].{match[2]}"
            elif match:
                key = NON_FIELD_ERRORS
            if prefix:
                key = prefix if key == NON_FIELD_ERRORS else f"{prefix}.{key}"
            errors.setdefault(key, []).extend(problems)
        raise ValidationError(errors) from None


# --- subscriptions ---------------------------------------------------------------------------------
def _update_terms(subscription: Subscription, data: dict) -> dict:
    """subscription_update's arguments: the subscription's current terms, with what was sent on top."""
    terms = {
        "plan": subscription.plan,
        "quantity": subscription.quantity,
        "payment_method": subscription.payment_method,
        "salesperson": subscription.salesperson,
        "discount_type": subscription.discount_type,
        "discount_percent": subscription.discount_percent,
        "discount_amount": subscription.discount_amount,
        "discount_periods": subscription.discount_periods,
        "tax_rates": None,
        "coupon": KEEP,
        "apply": "now",
    }
    # A change already waiting for the next cycle is the plan/quantity being edited (as on the screen).
    if subscription.pending_plan_id:
        terms["plan"] = subscription.pending_plan
    if subscription.pending_quantity:
        terms["quantity"] = subscription.pending_quantity
    terms.update(data)
    return terms


class SubscriptionViewSet(ReadViewSet):
    queryset = Subscription.objects.select_related("plan", "pending_plan", "salesperson", "merchant")
    serializer_class = serializers.SubscriptionSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = filters.SubscriptionFilter

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action in ("retrieve", "list"):
            # The representation holds the plan's and customer's ids only: no joins, no related models
            # built per row (measured by bench/api.py).
            queryset = queryset.select_related(None)
        return queryset

    def filter_queryset(self, queryset):
        # Filters apply to the list only (an action's query string is its own parameters).
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    @extend_schema(
        request=serializers.SubscriptionCreateSerializer,
        responses={201: serializers.SubscriptionSerializer},
    )
    def create(self, request):
        """Contracts a plan for a customer (origin "api"), as Nova assinatura does."""
        data = dict(self.validated(serializers.SubscriptionCreateSerializer, request.data))
        schedule = data.pop("schedule")
        merchant = request.auth.merchant
        data.setdefault("contract_date", merchant.localdate())
        # With `schedule`, both or nothing (the first charge is enqueued on commit, so a refused schedule
        # charges nothing either).
        with transaction.atomic():
            subscription = subscription_create(
                merchant=merchant, actor=self.actor, origin=SubscriptionOrigin.API, **data
            )
            if schedule is not None:
                with _schedule_errors(offset=_attached_phases(subscription), prefix="schedule"):
                    schedule_create(
                        subscription=subscription,
                        actor=self.actor,
                        phases=[_phase_spec(phase) for phase in schedule["phases"]],
                        end_behavior=schedule["end_behavior"],
                    )
                subscription.refresh_from_db()
        return self.answer(subscription, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        request=serializers.SubscriptionUpdateSerializer,
        responses={200: serializers.SubscriptionSerializer},
    )
    def partial_update(self, request, pk=None):
        """Changes plan, quantity, coupon, discount, payment method or taxes (Editar assinatura)."""
        subscription = self.get_object()
        data = self.validated(serializers.SubscriptionUpdateSerializer, request.data)
        subscription = subscription_update(
            subscription=subscription, actor=self.actor, **_update_terms(subscription, data)
        )
        return self.answer(subscription)

    @extend_schema(
        parameters=[serializers.SubscriptionUpdateSerializer], responses=serializers.ChangePreviewSerializer
    )
    @action(detail=True, methods=["get"], url_path="change_preview")
    def change_preview(self, request, pk=None):
        """What PATCH with these values would charge or credit now and the next invoice; saves nothing."""
        subscription = self.get_object()
        data = self.validated(serializers.SubscriptionUpdateSerializer, request.query_params)
        terms = _update_terms(subscription, data)
        terms.pop("payment_method"), terms.pop("salesperson")
        if terms["coupon"] is KEEP:
            terms.pop("coupon")
        preview = subscription_change_preview(subscription=subscription, **terms)
        return Response(serializers.ChangePreviewSerializer(preview).data)

    @extend_schema(
        request=serializers.SubscriptionCancelSerializer,
        responses={200: serializers.SubscriptionSerializer},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancels now, at the end of the period or on a date (Cancelar assinatura)."""
        subscription = self.get_object()
        data = self.validated(serializers.SubscriptionCancelSerializer, request.data)
        subscription = subscription_cancel(subscription=subscription, actor=self.actor, **data)
        return self.answer(subscription)

    @extend_schema(
        parameters=[serializers.SubscriptionCancelSerializer], responses=serializers.CancelPreviewSerializer
    )
    @action(detail=True, methods=["get"], url_path="cancel_preview")
    def cancel_preview(self, request, pk=None):
        """Until when the customer keeps access and what happens to the money, for a cancellation with these
        values; saves nothing."""
        subscription = self.get_object()
        data = self.validated(serializers.CancelTermsSerializer, request.query_params)
        effective_at, access_until = cancellation_preview(
            subscription=subscription, when=data["when"], at_date=data["at_date"]
        )
        money = cancellation_money_preview(
            subscription=subscription,
            when=data["when"],
            credit_unused_time=data["credit_unused_time"],
            effective_at=effective_at,
        )
        if money["credited"]:
            access_until = effective_at  # the unused time is given back: access ends with the cancellation
        body = {"effective_at": effective_at, "access_until": access_until, **money}
        return Response(serializers.CancelPreviewSerializer(body).data)

    @extend_schema(request=serializers.RefundCreateSerializer, responses={201: serializers.RefundSerializer})
    @action(detail=True, methods=["post"])
    def refund(self, request, pk=None):
        """Refunds the subscription's last payment (Reembolsar): in full, or `amount` centavos."""
        subscription = self.get_object()
        data = self.validated(serializers.RefundCreateSerializer, request.data)
        refund = subscription_refund(subscription=subscription, actor=self.actor, **data)
        return self.answer(refund, serializer_class=serializers.RefundSerializer, status_code=201)

    # --- its schedule (Programação) --------------------------------------------------------------------
    def _schedule(self, subscription: Subscription):
        """The schedule steering the subscription, else its latest one (released, completed, canceled);
        404 when it never had one."""
        schedule = subscription.schedules.order_by("-created_at", "-pk").first()
        if schedule is None:
            raise NotFound(_("Esta assinatura não tem programação."))
        schedule.subscription = subscription
        return schedule

    def _schedule_answer(self, schedule, status_code=status.HTTP_200_OK) -> Response:
        return self.answer(schedule, serializer_class=serializers.ScheduleSerializer, status_code=status_code)

    @extend_schema(responses=serializers.ScheduleSerializer)
    @action(detail=True, methods=["get"], url_path="schedule")
    def schedule(self, request, pk=None):
        """The subscription's schedule: phases (terms, dates, which runs now), status and end behaviour."""
        return self._schedule_answer(self._schedule(self.get_object()))

    @extend_schema(
        request=serializers.ScheduleCreateSerializer, responses={201: serializers.ScheduleSerializer}
    )
    @schedule.mapping.post
    def create_schedule(self, request, pk=None):
        """Gives the subscription a schedule (Programar fases): a running one keeps its current terms as
        phase 0 until its period ends and `phases` follow; one not started yet takes `phases` from its
        start."""
        subscription = self.get_object()
        data = self.validated(serializers.ScheduleCreateSerializer, request.data)
        with _schedule_errors(offset=_attached_phases(subscription)):
            schedule = schedule_create(
                subscription=subscription,
                actor=self.actor,
                phases=[_phase_spec(phase) for phase in data["phases"]],
                end_behavior=data["end_behavior"],
            )
        return self._schedule_answer(schedule, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.ScheduleUpdateSerializer, responses=serializers.ScheduleSerializer)
    @schedule.mapping.patch
    def update_schedule(self, request, pk=None):
        """Edits the schedule (Editar programação) under its rules: ended phases frozen, the running one
        limited to quantity, coupon, taxes and its end, later ones free."""
        subscription = self.get_object()
        schedule = self._schedule(subscription)
        data = self.validated(serializers.ScheduleUpdateSerializer, request.data)
        if "phases" in data:
            phases = [_phase_spec(phase) for phase in data["phases"]]
        else:
            phases = [PhaseSpec.of(phase) for phase in schedule.phases.order_by("position")]
        with _schedule_errors():
            schedule = schedule_update(
                schedule=schedule,
                actor=self.actor,
                phases=phases,
                end_behavior=data.get("end_behavior", schedule.end_behavior),
                running_proration=data["running_proration"],
            )
        return self._schedule_answer(schedule)

    @extend_schema(request=None, responses=serializers.ScheduleSerializer)
    @action(detail=True, methods=["post"], url_path="schedule/release", url_name="schedule-release")
    def release_schedule(self, request, pk=None):
        """Liberar da programação: the subscription keeps its current terms; later phases never happen."""
        schedule = self._schedule(self.get_object())
        return self._schedule_answer(schedule_release(schedule=schedule, actor=self.actor))

    @extend_schema(
        request=serializers.ScheduleCancelSerializer, responses={200: serializers.SubscriptionSerializer}
    )
    @action(detail=True, methods=["post"], url_path="schedule/cancel", url_name="schedule-cancel")
    def cancel_schedule(self, request, pk=None):
        """Cancelar programação e assinatura: both end now, with who asked and why; the answer is the
        subscription (its access_until: the end of the paid period)."""
        schedule = self._schedule(self.get_object())
        data = self.validated(serializers.ScheduleCancelSerializer, request.data)
        schedule = schedule_cancel(schedule=schedule, actor=self.actor, **data)
        return self.answer(Subscription.objects.get(pk=schedule.subscription_id))

    @extend_schema(
        request=serializers.SchedulePreviewSerializer,
        responses={200: serializers.SchedulePreviewAnswerSerializer},
    )
    @action(detail=True, methods=["post"], url_path="schedule/preview", url_name="schedule-preview")
    def preview_schedule(self, request, pk=None):
        """The next invoices with this schedule, as the editor's Prévia computes them: the schedule is
        saved by the same services inside a savepoint that is rolled back; nothing is saved. `now`: what
        saving it with running_proration "prorate" charges or credits at once for the running phase."""
        subscription = self.get_object()
        data = self.validated(serializers.SchedulePreviewSerializer, request.data)
        live = subscription.live_schedule
        default_end = live.end_behavior if live else ScheduleEndBehavior.RELEASE
        offset = 0 if live else _attached_phases(subscription)
        phases = [_phase_spec(phase) for phase in data["phases"]]
        end_behavior = data.get("end_behavior", default_end)
        change = schedule_running_change_preview(
            subscription=subscription,
            schedule=live,
            phases=phases,
            running_proration=data["running_proration"],
        )
        with (
            _schedule_errors(offset=offset),
            schedule_dry_run(
                subscription=subscription, actor=self.actor, phases=phases, end_behavior=end_behavior
            ) as edited,
        ):
            upcoming = upcoming_invoices(edited)
        answer = serializers.SchedulePreviewAnswerSerializer(
            upcoming, context={"now": change and change["now"]}
        )
        return Response(answer.data)

    @extend_schema(responses=serializers.UpcomingInvoicesSerializer)
    @action(detail=True, methods=["get"], url_path="upcoming_invoices", url_name="upcoming-invoices")
    def upcoming(self, request, pk=None):
        """Próximas faturas: the next 12 invoices as the billing run will write them (with its schedule's
        phases, coupons ending, installments, a scheduled cancellation); saves nothing."""
        upcoming = upcoming_invoices(self.get_object())
        return Response(serializers.UpcomingInvoicesSerializer(upcoming).data)


# --- billing ---------------------------------------------------------------------------------------
class InvoiceViewSet(ReadViewSet):
    queryset = Invoice.objects.select_related("merchant", "customer", "subscription__plan")
    serializer_class = serializers.InvoiceSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = filters.InvoiceFilter

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        """The invoice as a PDF, the same document as the screen's Baixar PDF."""
        invoice = self.get_object()
        response = HttpResponse(render_invoice_pdf(invoice), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{invoice_pdf_filename(invoice)}"'
        return response


class PaymentViewSet(ReadViewSet):
    queryset = Payment.objects.all()
    serializer_class = serializers.PaymentSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = filters.PaymentFilter


class EventViewSet(ReadViewSet):
    """The outbox, for polling: newest first; `previous` of the first page (or `created_after`) finds what
    came since."""

    queryset = Event.objects.all()
    serializer_class = serializers.EventSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = filters.EventFilter


# --- notifications ---------------------------------------------------------------------------------
class WebhookEndpointViewSet(
    mixins.DestroyModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, MerchantScopedViewSet
):
    queryset = WebhookEndpoint.objects.all()
    serializer_class = serializers.WebhookEndpointSerializer

    @extend_schema(responses={201: serializers.WebhookEndpointCreatedSerializer})
    def create(self, request):
        """Creates an endpoint; the answer carries its signing secret, shown this once."""
        data = self.validated(serializers.WebhookEndpointSerializer, request.data)
        endpoint = webhook_endpoint_create(merchant=request.auth.merchant, actor=self.actor, **data)
        return self.answer(
            endpoint, serializer_class=serializers.WebhookEndpointCreatedSerializer, status_code=201
        )

    @extend_schema(
        request=serializers.WebhookEndpointSerializer(partial=True),
        responses={200: serializers.WebhookEndpointSerializer},
    )
    def partial_update(self, request, pk=None):
        endpoint = self.get_object()
        serializer = serializers.WebhookEndpointSerializer(
            data=request.data, partial=True, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        endpoint = webhook_endpoint_update(endpoint=endpoint, **serializer.validated_data)
        return self.answer(endpoint)

    def perform_destroy(self, instance):
        webhook_endpoint_delete(endpoint=instance)


@csrf_exempt  # no session here either: a POST to a wrong address gets the 404, not the CSRF page
def not_found(request, *args, **kwargs):
    """Any other address under /api/v1/: the API's 404 error object, not the screens' HTML page."""
    return JsonResponse(
        error_body(status_code=404, code="not_found", message=_("Endereço não encontrado na API.")),
        status=404,
    )
