"""Column types shared by every app's django-tables2 tables."""

import django_tables2 as tables

from core.badges import badge_label, render_badge


class ChoiceFieldColumn(tables.Column):
    """A status shown as a badge in its choice's colour (core.badges; NetBox's ChoiceFieldColumn); the
    CSV export gets the label. `choices` is the TextChoices whose colours were registered; the stored
    value is read from the row (django-tables2 hands a choice field's cell its label instead).
    `title_accessor` names the row's own text for the badge's tooltip (an e-mail's error)."""

    def __init__(self, *args, choices, title_accessor=None, **kwargs):
        self.choices = choices
        self.title_accessor = title_accessor
        super().__init__(*args, **kwargs)

    def _stored(self, record, bound_column):
        return tables.A(bound_column.accessor).resolve(record, quiet=True)

    def render(self, record, bound_column):
        stored = self._stored(record, bound_column)
        if stored in (None, ""):
            return "—"  # a column with empty_values=() (nothing to show, e.g. no payment yet)
        title = tables.A(self.title_accessor).resolve(record, quiet=True) if self.title_accessor else ""
        return render_badge(self.choices, stored, title=title or "")

    def value(self, record, bound_column):
        stored = self._stored(record, bound_column)
        return "" if stored in (None, "") else badge_label(self.choices, stored)
