"""Merchant scoping for every view a merchant user can reach.

Order matters and is fixed here: sign-in, then the merchant, then the object looked up *inside that
merchant* (another tenant's object is a 404 for every role), and only then the role check (403).
"""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.generic.detail import SingleObjectMixin

from accounts.permissions import Action


class MerchantScopedMixin(LoginRequiredMixin):
    """Requires a membership, scopes `get_queryset()` to the current merchant and checks the role."""

    required_action: Action = Action.VIEW
    # Needed for POST when it differs from the page's (a viewer reads the settings, an owner saves them).
    write_action: Action | None = None
    merchant_field = "merchant"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if request.merchant is None:
            return render(request, "accounts/no_merchant.html", status=403)
        if isinstance(self, SingleObjectMixin) and (
            self.pk_url_kwarg in kwargs or self.slug_url_kwarg in kwargs
        ):
            self.object = self.get_object()
        if not request.membership.can(self.get_required_action()):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_required_action(self):
        if self.write_action is not None and self.request.method not in ("GET", "HEAD", "OPTIONS"):
            return self.write_action
        return self.required_action

    def get_queryset(self):
        return super().get_queryset().filter(**{self.merchant_field: self.request.merchant})

    def get_object(self, queryset=None):
        # dispatch() already looked the object up to apply the 404-before-403 rule; reuse it.
        cached = getattr(self, "object", None)
        if queryset is None and cached is not None:
            return cached
        return super().get_object(queryset)
