"""Ledger chain heads anchored outside the database, in an append-only JSON-lines file.

The hash chain proves no record was edited in place, but someone with database access could
cut the tail or rebuild the whole chain with fresh hashes; a head written elsewhere catches
both. Heads are anchored at each good verification, on a schedule (every
LEDGER_ANCHOR_INTERVAL_SECONDS, `anchor_chain_head`) and whenever a report is made, so a tail
written after the last anchor is open to an unseen rewrite for at most one interval.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from governance.ledger import ChainBreak, chain_breaks
from governance.models import LedgerRecord
from governance.tenancy import current_tenant, tenant_scope

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Anchor:
    tenant: int
    sequence: int
    hash: str
    verified_at: str
    # True when only hashes and links since the previous anchor were checked (scheduled and
    # report anchors); incremental verification starts only after a fully verified head.
    links_only: bool = False


def anchor_path() -> Path:
    return Path(settings.LEDGER_ANCHOR_FILE)


def anchor_latest(*, tenant_id: int, verified: bool = False) -> Anchor | None:
    """The last head anchored for the tenant (`verified`: by a full verification), or None.

    Unreadable lines are skipped, not trusted.
    """
    path = anchor_path()
    if not path.exists():
        return None
    latest = None
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                entry = json.loads(line)
                links_only = entry.get("links_only") is True
                if entry["tenant"] == tenant_id and not (verified and links_only):
                    latest = Anchor(
                        entry["tenant"], int(entry["sequence"]), str(entry["hash"]), entry["verified_at"], links_only
                    )
            except (ValueError, KeyError, TypeError):
                continue
    return latest


def anchor_append(*, tenant_id: int, sequence: int, head_hash: str, links_only: bool = False) -> Anchor:
    """Append one head to the anchor file and fsync it before the verification answers."""
    anchor = Anchor(tenant_id, sequence, head_hash, timezone.now().isoformat(), links_only)
    entry = asdict(anchor)
    if not links_only:
        del entry["links_only"]  # a verification's line, as it has always been written
    line = (json.dumps(entry, sort_keys=True) + "\n").encode()
    path = anchor_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    # One write on an O_APPEND descriptor: concurrent verifiers never interleave a line.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
    return anchor


def anchor_breaks(records: list[LedgerRecord], anchor: Anchor | None) -> list[ChainBreak]:
    """How the chain contradicts the anchored head: a truncated tail or a rewritten record."""
    if anchor is None or anchor.sequence == 0:
        return []
    at_anchor = next((record for record in records if record.sequence == anchor.sequence), None)
    if at_anchor is None:
        last = records[-1].sequence if records else 0
        if last >= anchor.sequence:
            return []  # the record is missing from the middle: chain_breaks names it
        return [
            ChainBreak(
                0,
                last + 1,
                f"truncated: the chain ends at #{last} but #{anchor.sequence} was anchored "
                f"({anchor.hash[:16]}…, {anchor.verified_at})",
            )
        ]
    if at_anchor.hash != anchor.hash:
        return [
            ChainBreak(
                at_anchor.pk,
                at_anchor.sequence,
                f"rewritten: hash differs from the head anchored at #{anchor.sequence} "
                f"({anchor.hash[:16]}…, {anchor.verified_at})",
            )
        ]
    return []


def anchor_chain_head() -> Anchor | None:
    """Anchor the scope tenant's chain head, if the records since the last anchor link onto it.

    Run on a schedule and whenever a report is made, so the window in which a new tail can
    be rewritten or cut unseen is bounded by the interval, not by how often someone verifies.
    Only hashes and links since the last anchor are checked (cheap: an interval's records);
    recomputing results stays verification's job. A broken tail is never anchored (that
    would legitimise it): it is logged, and verification names it. Returns the new anchor,
    or None when there is nothing new to anchor or the tail is broken.
    """
    tenant = current_tenant()
    anchored = anchor_latest(tenant_id=tenant.pk)
    since = 1 if anchored is None else anchored.sequence
    records = list(LedgerRecord.objects.filter(sequence__gte=since).order_by("sequence"))
    if not records or (anchored is not None and records[-1].sequence == anchored.sequence):
        problems = anchor_breaks(records, anchored)
        if problems:
            logger.error("Ledger of tenant %s not anchored: %s", tenant.slug, problems[0].reason)
        return None
    if anchored is None:
        breaks = chain_breaks(records)
    else:
        breaks = anchor_breaks(records, anchored)
        if records[0].sequence != anchored.sequence:
            breaks.append(ChainBreak(0, anchored.sequence, f"the anchored record #{anchored.sequence} is missing"))
        breaks += chain_breaks(records[1:], previous_hash=anchored.hash, sequence=anchored.sequence + 1)
    if breaks:
        logger.error(
            "Ledger of tenant %s not anchored: record #%s %s", tenant.slug, breaks[0].sequence, breaks[0].reason
        )
        return None
    return anchor_append(
        tenant_id=tenant.pk, sequence=records[-1].sequence, head_hash=records[-1].hash, links_only=True
    )


def anchor_chain_head_on_commit() -> None:
    """`anchor_chain_head` for the scope tenant once the current transaction has committed.

    In a scope of its own: the RLS setting ends with the commit. Robust: a report that was
    made stays made if the anchor file cannot be written (the failure is logged, and the
    scheduled anchoring tries again).
    """
    tenant = current_tenant()

    def anchor() -> None:
        with tenant_scope(tenant):
            anchor_chain_head()

    transaction.on_commit(anchor, robust=True)
