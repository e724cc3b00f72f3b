"""Assinantes > Cancelar selecionadas: one cancellation (when, who asked, why) for the selected rows.

The first POST (the selected ids) answers the form with how many will be canceled and how many are
skipped, and why; the second (with `confirm`) cancels. Each subscription is canceled by the same
service as its own page, in its own transaction: one that cannot be canceled any more (its status
changed since the preview) is skipped and counted, and never undoes the others. Ids that are not the
current merchant's are dropped before anything is read, so they are never canceled nor counted.
"""

from collections import Counter

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from accounts.permissions import Action
from core.views import MerchantScopedMixin, is_htmx, safe_next_url
from subscribers import services
from subscribers.choices import SubscriptionAction
from subscribers.forms.cancel import BulkCancelForm
from subscribers.models import Subscription

# More than a page of 500 rows is not a selection a person reviews; it is refused with a message.
MAX_SELECTED = 500


def selected_ids(request) -> list[int]:
    """The posted `ids`, as distinct integers in the order given; anything else (not ASCII digits, or
    too long for a primary key) is dropped."""
    return list(
        dict.fromkeys(
            int(value)
            for value in request.POST.getlist("ids")
            if value.isascii() and value.isdigit() and len(value) <= 18
        )
    )


def bulk_cancel_preview(subscriptions) -> dict:
    """Which of `subscriptions` the cancel service would accept, and the rule each other one breaks."""
    cancelable = [s for s in subscriptions if s.can(SubscriptionAction.CANCEL)]
    skipped = Counter(
        services.refusal_message(s, SubscriptionAction.CANCEL)
        for s in subscriptions
        if not s.can(SubscriptionAction.CANCEL)
    )
    return {
        "cancelable": cancelable,
        "skipped_count": sum(skipped.values()),
        "skipped_reasons": sorted(skipped.items(), key=lambda item: (-item[1], item[0])),
    }


def bulk_cancel_result_message(canceled: int, skipped: int) -> str:
    """ "3 canceladas, 1 ignorada"."""
    return "{}, {}".format(
        ngettext("%(count)d cancelada", "%(count)d canceladas", canceled) % {"count": canceled},
        ngettext("%(count)d ignorada", "%(count)d ignoradas", skipped) % {"count": skipped},
    )


class SubscriberBulkCancelView(MerchantScopedMixin, View):
    """POST only (CSRF-protected like every POST): the preview form, then the cancellations."""

    required_action = Action.MANAGE_SUBSCRIPTIONS
    http_method_names = ["post"]
    template_name = "subscribers/subscriber_bulk_cancel.html"
    modal_template_name = "subscribers/partials/subscriber_bulk_cancel_modal.html"

    def post(self, request, *args, **kwargs):
        self.next_url = safe_next_url(request) or reverse("subscribers:subscriber_list")
        ids = selected_ids(request)
        if not ids:
            return self.leave(error=_("Selecione ao menos uma assinatura."))
        if len(ids) > MAX_SELECTED:
            return self.leave(
                error=_("Selecione no máximo %(max)d assinaturas de cada vez.") % {"max": MAX_SELECTED}
            )
        subscriptions = list(
            Subscription.objects.filter(merchant=request.merchant, pk__in=ids)
            .select_related("merchant", "customer", "plan")
            .order_by("pk")
        )
        if not subscriptions:
            return self.leave(error=_("Selecione ao menos uma assinatura."))
        if "confirm" not in request.POST:
            return self.show(subscriptions, BulkCancelForm())
        form = BulkCancelForm(request.POST)
        if not form.is_valid():
            return self.show(subscriptions, form)
        canceled = skipped = 0
        for subscription in subscriptions:
            try:
                services.subscription_cancel(
                    subscription=subscription, actor=request.user, **form.cleaned_data
                )
            except ValidationError:
                skipped += 1
            else:
                canceled += 1
        messages.success(request, bulk_cancel_result_message(canceled, skipped))
        return self.leave()

    def show(self, subscriptions, form):
        context = {
            "title": _("Cancelar selecionadas"),
            "form": form,
            "subscriptions": subscriptions,
            "next_url": self.next_url,
            **bulk_cancel_preview(subscriptions),
        }
        template = self.modal_template_name if is_htmx(self.request) else self.template_name
        return render(self.request, template, context)

    def leave(self, *, error=""):
        """Back to the list with its filters (htmx: the whole page, through HX-Redirect)."""
        if error:
            messages.error(self.request, error)
        if is_htmx(self.request):
            return HttpResponse(headers={"HX-Redirect": self.next_url})
        return HttpResponseRedirect(self.next_url)
