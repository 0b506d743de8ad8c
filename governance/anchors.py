"""Ledger chain heads anchored outside the database, in an append-only JSON-lines file.

The hash chain proves no record was edited in place, but someone with database access could
cut the tail or rebuild the whole chain with fresh hashes; a head written elsewhere at each
good verification catches both.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from governance.ledger import ChainBreak
from governance.models import LedgerRecord


@dataclass(frozen=True)
class Anchor:
    tenant: int
    sequence: int
    hash: str
    verified_at: str


def anchor_path() -> Path:
    return Path(settings.LEDGER_ANCHOR_FILE)


def anchor_latest(*, tenant_id: int) -> Anchor | None:
    """The last head anchored for the tenant, or None; unreadable lines are skipped, not trusted."""
    path = anchor_path()
    if not path.exists():
        return None
    latest = None
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                entry = json.loads(line)
                if entry["tenant"] == tenant_id:
                    latest = Anchor(entry["tenant"], int(entry["sequence"]), str(entry["hash"]), entry["verified_at"])
            except (ValueError, KeyError, TypeError):
                continue
    return latest


def anchor_append(*, tenant_id: int, sequence: int, head_hash: str) -> Anchor:
    """Append one head to the anchor file and fsync it before the verification answers."""
    anchor = Anchor(tenant_id, sequence, head_hash, timezone.now().isoformat())
    line = (json.dumps(asdict(anchor), sort_keys=True) + "\n").encode()
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
