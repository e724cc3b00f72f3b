"""URLconf of the checkout bench: the project's own, plus one trivial view, timed through the same
middleware stack in the same run as the floor no page can go under (bench/checkout.py)."""

from django.http import HttpResponse
from django.urls import include, path


def trivial(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench-trivial/", trivial, name="bench_trivial"),
    path("", include("config.urls")),
]
