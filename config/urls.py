"""URL map: admin, and the apps' own routes as they arrive."""

from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "楼宇经济招商管理 · Building Economy CRM"
admin.site.site_title = "楼宇经济招商管理"
admin.site.index_title = "区楼宇办 · District office"

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
