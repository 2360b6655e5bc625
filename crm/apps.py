from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "楼宇招商 · CRM"
