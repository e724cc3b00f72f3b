import django_filters
from django import forms
from django.core.validators import MaxLengthValidator

# Nobody searches with more than this; a 60,000-character `q` made SQLite fail the LIKE ("pattern too
# complex", a 500) and PostgreSQL scan a trigram index for nothing. Refused with the form's message.
MAX_SEARCH_CHARS = 200


class MerchantFilterSet(django_filters.FilterSet):
    """A FilterSet that knows the current merchant, so choice filters offer only its own objects.

    Every free-text filter (the `q` search and the like) is capped at MAX_SEARCH_CHARS."""

    def __init__(self, *args, merchant=None, **kwargs):
        self.merchant = merchant
        super().__init__(*args, **kwargs)

    def get_form_class(self):
        form_class = super().get_form_class()
        for field in form_class.base_fields.values():
            if isinstance(field, forms.CharField) and field.max_length is None:
                field.max_length = MAX_SEARCH_CHARS
                field.validators.append(MaxLengthValidator(MAX_SEARCH_CHARS))
                field.widget.attrs.setdefault("maxlength", str(MAX_SEARCH_CHARS))
        return form_class
