"""The audit record of Assinantes CSV exports: opened when a download starts, closed when its stream ends."""

from django.db import transaction
from django.utils import timezone

from subscribers.choices import ExportStatus
from subscribers.models import SubscriberExport


@transaction.atomic
def subscriber_export_start(
    *, merchant, user, query: dict, filters: list, output_format: str, delimiter: str
) -> SubscriberExport:
    """Records that `user` started exporting the rows selected by `query` (filters, sort, format);
    `filters` are what the Exportações list shows of them (see SubscriberExport.filters)."""
    return SubscriberExport.objects.create(
        merchant=merchant,
        user=user,
        query=query,
        filters=filters,
        output_format=output_format,
        delimiter=delimiter,
        status=ExportStatus.STARTED,
    )


def subscriber_export_finish(*, export: SubscriberExport, status: str, row_count: int) -> None:
    """Records how an export's stream ended (finished, interrupted or failed) and how many rows it sent.

    One UPDATE guarded by the status, so the end is recorded once even if the stream is closed twice.
    """
    if status == ExportStatus.STARTED:
        raise ValueError("An export ends as finished, interrupted or failed.")
    finished_at = timezone.now()
    updated = SubscriberExport.objects.filter(pk=export.pk, status=ExportStatus.STARTED).update(
        status=status, row_count=row_count, finished_at=finished_at
    )
    if updated:
        export.status, export.row_count, export.finished_at = status, row_count, finished_at
