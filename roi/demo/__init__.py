"""The demo tenant: `events` generates its two years of operations (pure, no database);
`seed` creates the tenant and its users and feeds it those events once, as the
`seed_demo` command (roi/management/commands/seed_demo.py) does."""

from roi.demo.events import DEMO_MONTHS, Span, demo_events, demo_span
from roi.demo.seed import DemoSeed, demo_data_seed, demo_tenant_ensure

__all__ = ["DEMO_MONTHS", "DemoSeed", "Span", "demo_data_seed", "demo_events", "demo_span", "demo_tenant_ensure"]
