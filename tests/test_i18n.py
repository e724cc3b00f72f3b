"""Portuguese by default, English on request; dates dd/mm/aaaa and money R$ 1.234,56 in pt-BR."""

import datetime as dt

from django.conf import settings
from django.urls import reverse
from django.utils import formats, translation

from tests.factories import PlanFactory


def test_interface_is_portuguese_by_default(owner_client, merchant):
    page = owner_client.get(reverse("plans:plan_list")).content.decode()
    assert "Painel" in page and "Configurações" in page
    assert 'lang="pt-br"' in page


def test_english_is_available_from_the_language_switcher(owner_client, merchant):
    PlanFactory(merchant=merchant, name="Digital", price=123456)
    response = owner_client.post(
        reverse("set_language"), {"language": "en", "next": reverse("plans:plan_list")}
    )
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"

    page = owner_client.get(reverse("plans:plan_list")).content.decode()

    assert "Dashboard" in page and "Settings" in page and "Painel" not in page
    assert "R$1,234.56" in page


def test_money_and_dates_in_portuguese(owner_client, merchant):
    PlanFactory(merchant=merchant, name="Digital", price=123456)
    page = owner_client.get(reverse("plans:plan_list")).content.decode()
    assert "R$\xa01.234,56" in page
    with translation.override("pt-br"):
        assert formats.date_format(dt.date(2026, 1, 31), "SHORT_DATE_FORMAT") == "31/01/2026"
        assert formats.date_format(dt.date(2026, 1, 31)) == "31/01/2026"


def test_form_messages_keep_djangos_pt_br_wording_whatever_apps_are_installed():
    """An installed app's catalogue outranks Django's own: Django REST framework's pt-BR words "Enter a valid
    email address." differently, which changed every form's message when the API landed. Each such
    collision is pinned back to Django's wording in locale/pt_BR."""
    import gettext
    from pathlib import Path

    import django
    from django.apps import apps
    from django.utils import translation

    def catalogue(path):
        return gettext.GNUTranslations(path.open("rb"))._catalog if path.exists() else {}

    django_pt = catalogue(Path(django.__file__).parent / "conf/locale/pt_BR/LC_MESSAGES/django.mo")
    collisions = {}
    for app in apps.get_app_configs():
        for msgid, text in catalogue(Path(app.path) / "locale/pt_BR/LC_MESSAGES/django.mo").items():
            if isinstance(msgid, str) and msgid and django_pt.get(msgid, text) != text:
                collisions[msgid] = django_pt[msgid]

    assert "Enter a valid email address." in collisions  # the case that broke the customer form
    with translation.override("pt-br"):
        assert {msgid: translation.gettext(msgid) for msgid in collisions} == collisions
