"""URL map: admin, the REST API under /api/v1/ with its OpenAPI schema and docs, and the apps' routes.

/healthz and /readyz are not routes: ops.probes.HealthProbeMiddleware answers them before everything else.
"""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

admin.site.site_header = "楼宇经济招商管理 · Building Economy CRM"
admin.site.site_title = "楼宇经济招商管理"
admin.site.index_title = "区楼宇办 · District office"

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/schema/", SpectacularAPIView.as_view(api_version="v1"), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: the CSP allows no inline script.
    path("api/v1/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("crm.api.urls")),
    path("", include("crm.web.urls")),
]

# A path under /api/ that no route matches answers JSON like every other API error; the pages'
# refusals and errors are pages with the navigation, in the user's language.
handler403 = "crm.web.errors.forbidden"
handler404 = "crm.web.errors.not_found_page"
handler500 = "crm.web.errors.server_error"
