"""Webhook receivers, one per tool, the tenant named in the path (see roi.webhooks)."""

from django.urls import path

from roi import webhooks

urlpatterns = [
    path("alertmanager/<slug:slug>", webhooks.AlertmanagerWebhookView.as_view(), name="webhook-alertmanager"),
    path("pagerduty/<slug:slug>", webhooks.PagerDutyWebhookView.as_view(), name="webhook-pagerduty"),
    path("github/<slug:slug>", webhooks.GitHubWebhookView.as_view(), name="webhook-github"),
]
