from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Merchant
from dashboard.choices import REASON_LENGTH, FactKind


class MetricsSnapshot(models.Model):
    """The Painel's numbers for a large merchant as of `taken_at`, so its page reads a few hundred rows
    instead of aggregating millions on every visit. Its daily facts are the MetricFact rows; `state`
    holds the "now" numbers (counts by status, MRR by plan interval, amount at risk)."""

    merchant = models.OneToOneField(
        Merchant, on_delete=models.CASCADE, related_name="metrics_snapshot", verbose_name=_("lojista")
    )
    taken_at = models.DateTimeField(_("atualizado em"))
    subscriptions = models.PositiveBigIntegerField(_("assinaturas"), default=0)
    state = models.JSONField(_("números do momento"), default=dict)

    class Meta:
        verbose_name = _("retrato do painel")
        verbose_name_plural = _("retratos do painel")

    def __str__(self):
        return f"{self.merchant} @ {self.taken_at:%Y-%m-%d %H:%M}"


class MetricFact(models.Model):
    """One day's count and amount of one kind of event (new subscription, payment, …) for one merchant,
    currency and key; part of a MetricsSnapshot, replaced whole when the snapshot is refreshed."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="+", verbose_name=_("lojista")
    )
    kind = models.CharField(_("tipo"), max_length=20, choices=FactKind.choices)
    day = models.DateField(_("dia"))
    currency = models.CharField(_("moeda"), max_length=3, blank=True)
    key = models.CharField(_("chave"), max_length=REASON_LENGTH, blank=True)
    count = models.BigIntegerField(_("quantidade"), default=0)
    amount = models.BigIntegerField(_("valor"), default=0)

    class Meta:
        verbose_name = _("fato diário do painel")
        verbose_name_plural = _("fatos diários do painel")
        indexes = [models.Index(fields=["merchant", "kind", "day"], name="dash_fact_merchant_kind_day")]

    def __str__(self):
        return f"{self.kind} {self.day} {self.currency} {self.key}: {self.count} / {self.amount}"
