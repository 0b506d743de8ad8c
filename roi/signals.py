"""Signals other apps listen to, so `roi` need not know them (dashboards re-evaluates alerts)."""

from django.dispatch import Signal

# Sent inside the ingesting transaction, after the batch's rollups are applied, with
# `tenant_id` and `kind`. Receivers defer real work to `transaction.on_commit`.
events_ingested = Signal()
