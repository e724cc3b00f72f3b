from rest_framework.pagination import CursorPagination


class ApiCursorPagination(CursorPagination):
    """Cursor pagination on the primary key: stable while rows are added, and each page is one index
    range scan however deep the client goes (an offset would count every row before it)."""

    ordering = "-pk"
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 100
