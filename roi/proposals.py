"""Segregation of duties for the financial model and KPIs: propose, then a second person approves.

With the tenant's `require_dual_approval` on, a change is stored as a `ChangeProposal`
(validated as a direct change would be) and takes effect only when another finance admin
approves it; the proposer may withdraw it, anyone else with the role may reject it. Each
step is audited and in the proposal's history, and the version it makes names the proposal.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from governance.audit import audit_record
from governance.ledger import Actor, json_ready
from governance.models import AuditKind
from governance.tenancy import current_tenant
from roi import selectors, services
from roi.engine import EngineInputError
from roi.models import BusinessKpis, ChangeProposal, FinancialModel, ProposalStatus, ProposalTarget


class ProposalRefused(Exception):
    """A decision that cannot be taken; `status` is the HTTP answer it maps to."""

    status = 409

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SelfApprovalRefused(ProposalRefused):
    status = 403


class ApprovalNeedsHuman(ProposalRefused):
    """Approving is a person's act: a session that passed MFA, or a key a person answers for."""

    status = 403


class StaleProposal(ProposalRefused):
    pass


def dual_approval_required() -> bool:
    """Whether the scope tenant's model and KPI changes need a second approver.

    Only when the tenant asks for it and has a second person to give it: with fewer than two
    members who may approve, a proposal could never be approved, and the tenant would be
    left without a model. Such a tenant's changes take effect at once (each version still
    records who, when and why), and the audit page says the control is not yet in force;
    it is from the moment a second approver joins.
    """
    from governance.selectors import model_approvers

    tenant = current_tenant()
    return bool(tenant.require_dual_approval) and len(model_approvers(tenant=tenant)) > 1


def _config_current(config_name: str, *, lock: bool = False) -> FinancialModel | BusinessKpis | None:
    model = BusinessKpis if config_name == "business_kpis" else FinancialModel
    rows = model.objects.select_for_update() if lock else model.objects.all()
    return rows.first()


def _human_of(actor: Actor) -> int | None:
    """The id of the person behind an actor: the signed-in user, or the person a key answers to.

    A key's `root_user` is the person at the root of its chain of creation, so a key minted
    by a key, at any depth, is still that person's (governance.services.api_key_create).
    """
    if actor.user is not None:
        return actor.user.pk
    if actor.api_key is not None:
        return actor.api_key.root_user_id
    return None


def _identities(actor: Actor) -> set[str]:
    """Who stands behind an actor: the key, if any, and the person it answers to.

    Proposer and approver are compared by person: a key of the proposer's chain cannot
    approve their proposal, nor the proposer approve what a key of theirs proposed.
    """
    found = set()
    human = _human_of(actor)
    if human is not None:
        found.add(f"user:{human}")
    if actor.api_key is not None:
        found.add(f"key:{actor.api_key.pk}")
    return found


def _require_human_approver(actor: Actor) -> None:
    """Refuse an approval no accountable person stands behind.

    A signed-in member must have passed MFA in this session (django-otp marks the request's
    user verified); a key must answer to a person who is still an active member allowed to
    change the model. A key made by the system, or by a person since gone, cannot approve.
    """
    from governance.roles import MANAGE_MODEL
    from governance.selectors import roles_for_user

    if actor.user is not None:
        is_verified = getattr(actor.user, "is_verified", None)
        if not (callable(is_verified) and is_verified()):
            raise ApprovalNeedsHuman(
                "Approving a change needs a session that has passed multi-factor authentication: "
                "verify at /accounts/mfa/verify/ and try again."
            )
        return
    human = None if actor.api_key is None else actor.api_key.root_user
    if human is None:
        raise ApprovalNeedsHuman(
            "Approving a change is a person's act: this key answers to no person "
            "(made by the system, or by a key made before keys recorded their owner). "
            "Approve from a signed-in session, or with a key a finance admin made."
        )
    if not human.is_active or not roles_for_user(user=human, tenant=current_tenant()) & MANAGE_MODEL:
        raise ApprovalNeedsHuman(
            f"This key answers to {human.get_username()}, who may no longer approve model changes "
            "of this tenant: approve from a signed-in session of a finance admin."
        )


def _proposer(proposal: ChangeProposal) -> Actor:
    return Actor(label=proposal.proposed_by_label, user=proposal.proposed_by, api_key=proposal.proposed_by_key)


def _validate(config_name: str, payload: Mapping[str, Any]) -> None:
    current = _config_current(config_name)
    if config_name == "business_kpis":
        services.business_kpis_validated(current=current, sections=payload)  # type: ignore[arg-type]
    else:
        services.financial_model_validated(current=current, groups=payload)  # type: ignore[arg-type]


def change_propose(
    *,
    actor: Actor,
    target: str,
    payload: Mapping[str, Any],
    change_reason: str,
    effective_from: datetime | None = None,
) -> ChangeProposal:
    """Record a pending change of the scope tenant's model or KPIs, validated as a direct change is.

    A key no person answers for cannot propose (ApprovalNeedsHuman): segregation of duties
    keeps a proposal from its proposer's approval, which needs to know who the proposer is.
    Otherwise a person could propose through such a key and approve in their own session.
    """
    if actor.api_key is not None and actor.api_key.root_user_id is None:
        raise ApprovalNeedsHuman(
            "This key answers to no person (made by the system, or by a key made before keys recorded "
            "their owner), so the change could not be kept from its proposer's approval: propose from a "
            "signed-in session, or with a key a member made."
        )
    if target not in ProposalTarget.values:
        raise EngineInputError("target", f"must be one of {', '.join(ProposalTarget.values)}")
    services.change_reason_require(change_reason)
    # Stored as JSON: fractional numbers arrive as Decimal (governance.parsers) and are kept
    # as exact numeric strings, which the engine reads as it reads numbers.
    proposal = ChangeProposal(tenant=current_tenant(), target=target, payload=json_ready(dict(payload)))
    with transaction.atomic():
        _validate(proposal.config_name, payload)
        current = _config_current(proposal.config_name)
        proposal.effective_from = effective_from
        proposal.change_reason = change_reason.strip()
        proposal.base_version = None if current is None else current.version
        proposal.proposed_by = actor.user
        proposal.proposed_by_key = actor.api_key
        proposal.proposed_by_label = actor.label[:200]
        proposal._change_reason = f"proposed by {actor.label}"  # type: ignore[attr-defined]
        proposal.save()
        audit_record(
            kind=AuditKind.CHANGE_PROPOSED,
            actor=actor.label,
            detail={"proposal": proposal.pk, "target": target, "base_version": proposal.base_version},
        )
    return proposal


def _decide(proposal: ChangeProposal, *, status: str, actor: Actor, note: str) -> None:
    proposal.status = status
    proposal.decided_at = timezone.now()
    proposal.decided_by = actor.user
    proposal.decided_by_key = actor.api_key
    proposal.decided_by_label = actor.label[:200]
    proposal.decision_note = note.strip()
    proposal._change_reason = f"{status} by {actor.label}"  # type: ignore[attr-defined]
    proposal.save()


def _locked_pending(proposal_id: int) -> ChangeProposal:
    # No select_related: PostgreSQL refuses FOR UPDATE across nullable outer joins.
    proposal = ChangeProposal.objects.select_for_update().get(pk=proposal_id)
    if proposal.status != ProposalStatus.PENDING:
        raise ProposalRefused(f"Proposal #{proposal.pk} is already {proposal.status}; only a pending one is decided.")
    return proposal


def change_approve(*, proposal_id: int, actor: Actor, note: str = "") -> ChangeProposal:
    """Approve a pending proposal of someone else and apply it as a new version.

    Refused to its proposer, whatever the credential: session, their key, or a key their
    key made (SelfApprovalRefused); to an approver no person stands behind (ApprovalNeedsHuman:
    no MFA in the session, a key of the system); and when the model or KPIs moved on since
    it was made (StaleProposal: the approver would sign off figures they never saw).
    """
    with transaction.atomic():
        proposal = _locked_pending(proposal_id)
        _require_human_approver(actor)
        if _identities(actor) & _identities(_proposer(proposal)):
            raise SelfApprovalRefused(
                "You proposed this change (yourself or through a key you answer for): "
                "another finance admin must approve it."
            )
        current = _config_current(proposal.config_name, lock=True)
        version_now = None if current is None else current.version
        if version_now != proposal.base_version:
            raise StaleProposal(
                f"The {proposal.get_target_display().lower()} moved on since this proposal "
                f"(proposed against v{proposal.base_version}, now v{version_now}): reject it and propose again."
            )
        if proposal.config_name == "business_kpis":
            version = services.business_kpis_update(
                sections=proposal.payload,
                actor=actor,
                change_reason=proposal.change_reason,
                effective_from=proposal.effective_from,
                proposal=proposal,
            ).version
        else:
            version = services.financial_model_update(
                groups=proposal.payload,
                actor=actor,
                change_reason=proposal.change_reason,
                effective_from=proposal.effective_from,
                proposal=proposal,
            ).version
        proposal.applied_version = version
        _decide(proposal, status=ProposalStatus.APPROVED, actor=actor, note=note)
        superseded = _supersede_others(proposal, actor=actor)
        audit_record(
            kind=AuditKind.CHANGE_APPROVED,
            actor=actor.label,
            detail={
                "proposal": proposal.pk,
                "target": proposal.target,
                "proposed_by": proposal.proposed_by_label,
                "version": version,
                "superseded": superseded,
            },
        )
    return proposal


def _supersede_others(approved: ChangeProposal, *, actor: Actor) -> list[int]:
    """Pending proposals against the version just replaced can no longer be approved: say so."""
    targets = (
        [ProposalTarget.BUSINESS_KPIS]
        if approved.config_name == "business_kpis"
        else [ProposalTarget.FINANCIAL_MODEL, ProposalTarget.REVENUE_MODEL]
    )
    ids = []
    for other in ChangeProposal.objects.select_for_update().filter(status=ProposalStatus.PENDING, target__in=targets):
        _decide(other, status=ProposalStatus.SUPERSEDED, actor=actor, note=f"superseded by proposal #{approved.pk}")
        ids.append(other.pk)
    return ids


def change_reject(*, proposal_id: int, actor: Actor, note: str) -> ChangeProposal:
    """Reject a pending proposal (or withdraw it, when its proposer does); the note says why."""
    if not isinstance(note, str) or not note.strip():
        raise EngineInputError("note", "is required: say why the change is turned down")
    with transaction.atomic():
        proposal = _locked_pending(proposal_id)
        own = bool(_identities(actor) & _identities(_proposer(proposal)))
        _decide(proposal, status=ProposalStatus.WITHDRAWN if own else ProposalStatus.REJECTED, actor=actor, note=note)
        audit_record(
            kind=AuditKind.CHANGE_REJECTED,
            actor=actor.label,
            detail={"proposal": proposal.pk, "target": proposal.target, "status": proposal.status, "note": note},
        )
    return proposal


def proposals_list(*, status: str | None = None) -> QuerySet[ChangeProposal]:
    """The scope tenant's proposals, newest first."""
    rows = ChangeProposal.objects.select_related("proposed_by", "proposed_by_key", "decided_by", "decided_by_key")
    return rows.filter(status=status) if status else rows


def proposal_diff(proposal: ChangeProposal) -> list[dict[str, Any]]:
    """Field by field, what the proposal would change in the version in force now."""
    current = _config_current(proposal.config_name)
    sections = selectors.KPI_SECTIONS if proposal.config_name == "business_kpis" else selectors.MODEL_SECTIONS
    now: dict[str, Any] = {}
    after: dict[str, Any] = {}
    try:
        if proposal.config_name == "business_kpis":
            proposed = services.business_kpis_validated(current=current, sections=proposal.payload)  # type: ignore[arg-type]
        else:
            proposed = services.financial_model_validated(current=current, groups=proposal.payload)  # type: ignore[arg-type]
    except EngineInputError as error:
        return [{"field": name, "old": None, "new": "; ".join(messages)} for name, messages in error.errors.items()]
    for section in sections:
        selectors.flatten_into(section, None if current is None else getattr(current, section), now)
        selectors.flatten_into(section, proposed.get(section), after)
    return [
        {"field": name, "old": now.get(name), "new": after.get(name)}
        for name in sorted(set(now) | set(after))
        if now.get(name) != after.get(name)
    ]
