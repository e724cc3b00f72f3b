"""Reading the Assinantes list page after page, as a person paging through it would."""

from django.urls import reverse

LIST_URL = reverse("subscribers:subscriber_list")


def listed_pks(client, params, *, per_page: int) -> list[int]:
    """Every subscription's pk the list shows for `params`, in order, from page 1 to the last page."""
    pks, page = [], 1
    while True:
        response = client.get(LIST_URL, {**params, "per_page": per_page, "page": page})
        assert response.status_code == 200
        pks += [row.record.pk for row in response.context["table"].page.object_list]
        if page >= response.context["table"].paginator.num_pages:
            return pks
        page += 1
