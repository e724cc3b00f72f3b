"""Status badges, drawn one way everywhere (after NetBox's ChoiceSet colours and ChoiceFieldColumn).

Each status choice set declares the Bootstrap badge class of every choice right below its definition, in
its app's choices.py: `register_badges(InvoiceStatus, {InvoiceStatus.PAID: "text-bg-success", …})`.
Tables draw them with core.tables.ChoiceFieldColumn, pages with `{% badge value "app.choices.Name" %}`
(core/templatetags/recorrente.py); both render templates/core/badge.html. A choice set missing a colour is
refused when its module loads, so a new status cannot be added without one.
"""

from functools import cache

from django.core.exceptions import ImproperlyConfigured
from django.template.loader import render_to_string
from django.utils.module_loading import import_string
from django.utils.safestring import SafeString

UNKNOWN_BADGE_CLASS = "text-bg-light"
BADGE_CLASSES: dict[type, dict[str, str]] = {}


def register_badges(choices: type, classes: dict[str, str]) -> None:
    """Declares the badge class of each choice of `choices` (a TextChoices); every choice needs one."""
    missing = set(choices.values) - set(classes)
    if missing:
        raise ImproperlyConfigured(f"{choices.__qualname__}: no badge class for {sorted(missing)}")
    BADGE_CLASSES[choices] = {str(value): css for value, css in classes.items()}


def badge_class(choices: type, value) -> str:
    return BADGE_CLASSES[choices].get(str(value), UNKNOWN_BADGE_CLASS)


def badge_label(choices: type, value) -> str:
    """The choice's label in the active language; an unknown stored value shows as it is."""
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def render_badge(choices: type, value, *, title="", element_id="", data_status=False) -> SafeString:
    """<span class="badge text-bg-success">Paga</span>, from templates/core/badge.html. `title` is a
    tooltip, `element_id` an id, `data_status` adds data-status="<value>" (what scripts and tests read)."""
    return SafeString(
        render_to_string(
            "core/badge.html",
            {
                "css": badge_class(choices, value),
                "label": badge_label(choices, value),
                "value": value,
                "title": title,
                "element_id": element_id,
                "data_status": data_status,
            },
        ).strip()
    )


@cache
def choices_named(path: str) -> type:
    """The choice set a template names ("billing.choices.InvoiceStatus"), once it has its badges."""
    choices = import_string(path)
    if choices not in BADGE_CLASSES:
        raise ImproperlyConfigured(f"{path} has no badge classes (core.badges.register_badges)")
    return choices
