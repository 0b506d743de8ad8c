"""Webhook receivers, one per tool, the tenant named in the path (see roi.webhooks)."""

from django.urls import path

from roi.webhooks import views

urlpatterns = [
    path("alertmanager/<slug:slug>", views.AlertmanagerWebhookView.as_view(), name="webhook-alertmanager"),
    path("pagerduty/<slug:slug>", views.PagerDutyWebhookView.as_view(), name="webhook-pagerduty"),
    path("github/<slug:slug>", views.GitHubWebhookView.as_view(), name="webhook-github"),
]
