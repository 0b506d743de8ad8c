from django.apps import AppConfig


class RoiConfig(AppConfig):
    name = "roi"
    verbose_name = "ROI: financial model, events, value engine"
