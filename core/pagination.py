from django.core.paginator import Paginator


class KnownCountPaginator(Paginator):
    """A paginator told the row count by a query the page runs anyway (e.g. the header counts),
    so it does not run a second COUNT over the same rows."""

    def __init__(self, object_list, per_page, *, count=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        if count is not None:
            self.count = count  # overrides the cached_property for this instance
