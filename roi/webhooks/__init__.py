"""Webhook receivers: Prometheus Alertmanager, PagerDuty (v3) and GitHub deployments.

`payloads` reads each tool's payload into events (the `Reader` and one reader per tool),
`senders` checks who is sending (an API key or an HMAC signature, for the tenant in the
path), `storage` stores the events through `events_ingest` (serializing and not reopening
incidents), and `views` holds the DRF views that tie the three together, routed by
`roi.webhook_urls`.
"""
