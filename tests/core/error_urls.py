"""The project's URLconf plus a view that fails, to see the 500 page (tests/core/test_error_pages.py)."""

from django.urls import path

from config.urls import handler403, handler404, handler500, urlpatterns  # noqa: F401


def boom(request):
    raise RuntimeError("boom")


urlpatterns = [*urlpatterns, path("test-boom/", boom)]
