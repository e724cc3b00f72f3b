import django_filters


class MerchantFilterSet(django_filters.FilterSet):
    """A FilterSet that knows the current merchant, so choice filters offer only its own objects."""

    def __init__(self, *args, merchant=None, **kwargs):
        self.merchant = merchant
        super().__init__(*args, **kwargs)
