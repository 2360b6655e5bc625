"""The retention app (稳商): move-out risk models, their scores and retention visits."""

from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "retention"
    verbose_name = "稳商 · Retention"
