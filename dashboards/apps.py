from typing import Any

from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "dashboards"
    verbose_name = "Dashboards"

    def ready(self) -> None:
        from dashboards.escalations import escalation_secret_reencrypt
        from governance.secrets import OTHER_REENCRYPTIONS
        from roi.signals import events_ingested

        events_ingested.connect(evaluate_alerts_after_ingestion, dispatch_uid="dashboards-alerts-after-ingestion")
        if escalation_secret_reencrypt not in OTHER_REENCRYPTIONS:
            OTHER_REENCRYPTIONS.append(escalation_secret_reencrypt)


def evaluate_alerts_after_ingestion(sender: Any, *, tenant_id: int, **kwargs: Any) -> None:
    from dashboards.tasks import alerts_evaluate_after_ingestion

    alerts_evaluate_after_ingestion(tenant_id=tenant_id)
