"""Page-number pagination: `count`, `next`, `previous`, `results`; the client may ask up to 200 a page."""

from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination

from crm.api.exceptions import InvalidPage


class PageNumber(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound as error:
            raise InvalidPage("页码超出范围 / no such page") from error
