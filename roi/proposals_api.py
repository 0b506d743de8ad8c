"""API of change proposals: list them, approve or reject one (segregation of duties).

`PUT config/financial-model`, `PUT config/business-kpis` and `POST config/revenue-model`
answer 202 with a proposal when the tenant requires dual approval (roi.api).
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from governance import roles
from governance.api import TENANT_PARAMETER, TenantAPIView, actor_of, query_of
from governance.schema import ErrorEnvelopeSerializer
from roi import proposals
from roi.engine import EngineInputError
from roi.models import ChangeProposal, ProposalStatus


class ProposalSerializer(serializers.ModelSerializer):
    proposed_by = serializers.CharField(source="proposed_by_label")
    decided_by = serializers.CharField(source="decided_by_label")

    class Meta:
        model = ChangeProposal
        fields = [
            "id",
            "target",
            "status",
            "payload",
            "effective_from",
            "change_reason",
            "base_version",
            "proposed_at",
            "proposed_by",
            "decided_at",
            "decided_by",
            "decision_note",
            "applied_version",
        ]


def proposal_response(proposal: ChangeProposal, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(ProposalSerializer(proposal).data, status=status_code)


class DecisionSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class RejectionSerializer(serializers.Serializer):
    """A rejection says why: `proposals.change_reject` refuses a blank note."""

    note = serializers.RegexField(r"\S", max_length=2000, help_text="Why the change is turned down.")


class ProposalFilters(serializers.Serializer):
    status = serializers.ChoiceField(choices=ProposalStatus.choices, required=False)


class ProposalListView(TenantAPIView):
    """The tenant's proposed model and KPI changes, newest first."""

    allowed_roles = {"GET": roles.MANAGE_MODEL | roles.AUDIT}
    serializer_class = ProposalSerializer

    @extend_schema(
        responses=ProposalSerializer(many=True),
        parameters=[TENANT_PARAMETER, ProposalFilters],
    )
    def get(self, request: Request) -> Response:
        filters = ProposalFilters(data=query_of(request))
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(proposals.proposals_list(**filters.validated_data))
        return self.get_paginated_response(ProposalSerializer(page, many=True).data)


PROPOSAL_PARAMETER = OpenApiParameter("proposal_id", int, OpenApiParameter.PATH)


class ProposalDecisionView(TenantAPIView):
    """Approve or reject one pending proposal; its proposer may not approve it."""

    allowed_roles = {"POST": roles.MANAGE_MODEL}
    decision: str = ""

    def decide(self, request: Request, proposal_id: int) -> Response:
        body = (RejectionSerializer if self.decision == "reject" else DecisionSerializer)(data=request.data)
        body.is_valid(raise_exception=True)
        # A proposal of another tenant is a 404 like a missing one (the query is scoped).
        proposal = get_object_or_404(ChangeProposal.objects, pk=proposal_id)
        decide: Any = proposals.change_approve if self.decision == "approve" else proposals.change_reject
        try:
            decided = decide(proposal_id=proposal.pk, actor=actor_of(request), note=body.validated_data["note"])
        except proposals.ProposalRefused as refused:
            if refused.status == status.HTTP_403_FORBIDDEN:  # self-approval, or no person behind the approver
                raise exceptions.PermissionDenied(refused.message) from None
            raise Conflict(refused.message) from None
        except EngineInputError as error:
            raise exceptions.ValidationError(error.errors) from None
        return proposal_response(decided)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The proposal cannot be decided in its present state."
    default_code = "conflict"


def decision_view(decision: str) -> type[ProposalDecisionView]:
    """The approve or reject view, documented under its own name."""
    description = {
        "approve": "Apply the proposal as a new version, with you as approver. 403 to its proposer (by any "
        "credential: their session, their key, a key their key made), to a session that has not passed MFA "
        "and to a key no person answers for; "
        "409 when it is no longer pending or the model moved on since it was made.",
        "reject": "Turn the proposal down (`note` required); its proposer doing so withdraws it.",
    }[decision]

    @extend_schema(
        operation_id=f"proposal_{decision}",
        request=RejectionSerializer if decision == "reject" else DecisionSerializer,
        responses={
            200: ProposalSerializer,
            409: OpenApiResponse(
                ErrorEnvelopeSerializer,
                description="Already decided, or the model or KPIs moved on since it was proposed.",
            ),
        },
        parameters=[TENANT_PARAMETER, PROPOSAL_PARAMETER],
        description=description,
    )
    def post(self: ProposalDecisionView, request: Request, proposal_id: int) -> Response:
        return self.decide(request, proposal_id)

    return type(
        f"Proposal{decision.title()}View",
        (ProposalDecisionView,),
        {"decision": decision, "post": post, "__doc__": description},
    )


ProposalApproveView = decision_view("approve")
ProposalRejectView = decision_view("reject")
