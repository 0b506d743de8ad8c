"""Segregation of duties: a model or KPI change is proposed by one finance admin, approved by another."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from rest_framework.test import APIClient

from governance.audit import audit_events
from governance.ledger import Actor
from governance.models import ApiKey, AuditKind
from governance.services import (
    BUSINESS_CONTEXT_FIELDS,
    api_key_create,
    membership_set_role,
    tenant_dual_approval_set,
)
from governance.tenancy import HistoryBypassRefused, tenant_scope
from roi import selectors
from roi.models import ChangeProposal, FinancialModel
from tests.conftest import _member

pytestmark = pytest.mark.django_db

MODEL = "/api/v1/config/financial-model"
PROPOSALS = "/api/v1/config/proposals"
RAISE_ERROR_COST = {"cost_model": {"cost_per_error": 250}, "change_reason": "Support costs rose"}


@pytest.fixture
def dora(acme):
    """A second finance admin of acme, so alice's proposals have someone to approve them."""
    return _member("dora", acme, "finance_admin")


@pytest.fixture
def dual(acme, acme_model, alice, dora):
    """acme as the product ships it, dual approval on (the test cast starts with it off), with
    the two members who may approve that it needs to be in force."""
    tenant_dual_approval_set(tenant=acme, enabled=True, actor="test")
    return acme


@pytest.fixture
def dual_alone(acme, acme_model, alice):
    """Dual approval on, but alice the only member who may approve: nobody could approve her proposals."""
    tenant_dual_approval_set(tenant=acme, enabled=True, actor="test")
    return acme


def session(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def key_client(tenant, role: str, created_by=None) -> tuple[APIClient, ApiKey]:
    with tenant_scope(tenant):
        issued = api_key_create(name=f"{role} key", role=role, created_by=created_by)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.raw_key}")
    return client, issued.api_key


def model_version(tenant) -> int:
    with tenant_scope(tenant):
        return FinancialModel.objects.get().version


def audit_kinds(tenant) -> list[tuple[str, str]]:
    with tenant_scope(tenant):
        return [(e.kind, e.actor) for e in audit_events().order_by("occurred_at", "id") if e.kind.startswith("change")]


def test_with_dual_approval_a_change_is_a_pending_proposal_and_nothing_changes(dual, alice):
    response = session(alice).put(MODEL, RAISE_ERROR_COST, format="json")

    assert response.status_code == 202, response.json()
    body = response.json()
    assert (body["status"], body["target"], body["base_version"]) == ("pending", "financial_model", 1)
    assert body["proposed_by"] == "user:alice" and body["change_reason"] == "Support costs rose"
    assert model_version(dual) == 1
    assert session(alice).get(MODEL).json()["cost_model"]["cost_per_error"] == "200"


def test_another_finance_admin_approves_and_both_steps_are_in_history_and_audit(dual, alice, dora):
    proposal_id = session(alice).put(MODEL, RAISE_ERROR_COST, format="json").json()["id"]

    response = session(dora).post(f"{PROPOSALS}/{proposal_id}/approve", {"note": "matches the invoices"}, format="json")

    assert response.status_code == 200, response.json()
    decided = response.json()
    assert (decided["status"], decided["decided_by"], decided["applied_version"]) == ("approved", "user:dora", 2)
    model = session(alice).get(MODEL).json()
    assert model["version"] == 2 and model["cost_model"]["cost_per_error"] == "250"
    assert (model["changed_by"], model["proposed_by"], model["proposal"]) == ("dora", "user:alice", proposal_id)
    assert model["change_reason"] == "Support costs rose"
    with tenant_scope(dual):
        version = selectors.financial_model_version(2)
        assert version.changed_by.username == "dora" and version.approved_proposal_id == proposal_id
        steps = ChangeProposal.history.filter(id=proposal_id).order_by("history_id")
        assert [(row.status, row.history_change_reason) for row in steps] == [
            ("pending", "proposed by user:alice"),
            ("approved", "approved by user:dora"),
        ]
    assert audit_kinds(dual) == [("change_proposed", "user:alice"), ("change_approved", "user:dora")]


def test_a_finance_admin_cannot_approve_their_own_proposal(dual, alice, dora):
    proposal_id = session(alice).put(MODEL, RAISE_ERROR_COST, format="json").json()["id"]

    response = session(alice).post(f"{PROPOSALS}/{proposal_id}/approve", {}, format="json")

    assert response.status_code == 403
    assert "another finance admin must approve" in response.json()["errors"]["detail"][0]
    assert model_version(dual) == 1
    assert session(dora).get(PROPOSALS).json()["results"][0]["status"] == "pending"


def test_an_api_key_cannot_approve_its_own_proposal_but_another_persons_key_can(dual, alice, dora):
    proposer, proposer_key = key_client(dual, "finance_admin", created_by=alice)
    other, other_key = key_client(dual, "finance_admin", created_by=dora)
    created = proposer.post(
        "/api/v1/config/revenue-model",
        {"annual_recurring_revenue": 60000000, "change_reason": "New deals"},
        format="json",
    )
    assert created.status_code == 202, created.json()
    assert created.json()["proposed_by"] == f"api-key:{proposer_key.prefix}:{proposer_key.name}"

    refused = proposer.post(f"{PROPOSALS}/{created.json()['id']}/approve", {}, format="json")
    approved = other.post(f"{PROPOSALS}/{created.json()['id']}/approve", {}, format="json")

    assert refused.status_code == 403
    assert approved.status_code == 200, approved.json()
    model = other.get(MODEL).json()
    assert model["revenue_model"]["annual_recurring_revenue"] == "60000000"
    assert model["changed_by"] == f"api-key:{other_key.prefix}"


def test_a_key_created_by_the_proposer_cannot_approve_for_them(dual, tara):
    proposal_id = session(tara).put(MODEL, RAISE_ERROR_COST, format="json").json()["id"]
    taras_key, _ = key_client(dual, "finance_admin", created_by=tara)

    response = taras_key.post(f"{PROPOSALS}/{proposal_id}/approve", {}, format="json")

    assert response.status_code == 403
    assert model_version(dual) == 1


# --- Keys cannot launder who proposed ----------------------------------------------------

KEYS = "/api/v1/keys"


def key_made_by(client: APIClient, role: str = "finance_admin") -> tuple[APIClient, str]:
    """A key made through the API by whoever `client` is (a session or a key), and its prefix."""
    made = client.post(KEYS, {"name": f"made {role}", "role": role}, format="json")
    assert made.status_code == 201, made.json()
    minted = APIClient()
    minted.credentials(HTTP_AUTHORIZATION=f"Bearer {made.json()['key']}")
    return minted, made.json()["prefix"]


def test_a_key_minted_by_a_key_answers_to_the_person_at_the_root_of_the_chain(dual, tara):
    first, first_prefix = key_made_by(session(tara), "tenant_admin")
    second, second_prefix = key_made_by(first, "tenant_admin")
    _, third_prefix = key_made_by(second)

    listed = {k["prefix"]: k for k in session(tara).get(KEYS).json()["results"]}

    assert (listed[first_prefix]["created_by"], listed[first_prefix]["root_user"]) == ("tara", "tara")
    assert listed[second_prefix]["created_by_key"] == first_prefix and listed[second_prefix]["root_user"] == "tara"
    assert listed[third_prefix]["created_by_key"] == second_prefix and listed[third_prefix]["root_user"] == "tara"
    assert listed[third_prefix]["created_by"] is None


def test_a_tenant_admin_cannot_approve_what_a_key_minted_by_their_key_proposed(dual, tara, dora):
    # given: tara's key makes a finance_admin key, which proposes
    taras_key, _ = key_made_by(session(tara), "tenant_admin")
    laundered, _ = key_made_by(taras_key)
    proposal_id = laundered.put(MODEL, RAISE_ERROR_COST, format="json").json()["id"]

    # when: tara approves, by session, by her key, by the key itself, by a fresh key of the chain
    for approver in (session(tara), taras_key, laundered, key_made_by(taras_key)[0]):
        refused = approver.post(f"{PROPOSALS}/{proposal_id}/approve", {}, format="json")
        # then
        assert refused.status_code == 403, refused.json()
        assert "another finance admin must approve" in refused.json()["errors"]["detail"][0]
    assert model_version(dual) == 1
    assert session(dora).post(f"{PROPOSALS}/{proposal_id}/approve", {}, format="json").status_code == 200


def test_a_key_chain_of_the_proposer_cannot_approve_their_session_proposal(dual, tara, dora):
    proposal_id = session(tara).put(MODEL, RAISE_ERROR_COST, format="json").json()["id"]
    chain = key_made_by(key_made_by(key_made_by(session(tara), "tenant_admin")[0], "tenant_admin")[0])[0]

    refused = chain.post(f"{PROPOSALS}/{proposal_id}/approve", {}, format="json")

    assert refused.status_code == 403
    assert model_version(dual) == 1
    # The same chain, rooted in another person, may approve.
    doras_key = key_made_by(key_made_by(session(_member("tess", dual, "tenant_admin")), "tenant_admin")[0])[0]
    assert doras_key.post(f"{PROPOSALS}/{proposal_id}/approve", {}, format="json").status_code == 200


def test_a_key_no_person_answers_for_cannot_approve(dual, alice):
    proposal_id = session(alice).put(MODEL, RAISE_ERROR_COST, format="json").json()["id"]
    system_key, _ = key_client(dual, "finance_admin")  # as `manage.py create_api_key` makes it
    minted_by_it, _ = key_made_by(key_client(dual, "tenant_admin")[0])

    for approver in (system_key, minted_by_it):
        refused = approver.post(f"{PROPOSALS}/{proposal_id}/approve", {}, format="json")
        assert refused.status_code == 403
        assert "answers to no person" in refused.json()["errors"]["detail"][0]
    assert model_version(dual) == 1


def test_a_key_no_person_answers_for_cannot_propose_so_nobody_launders_through_it(dual, tara):
    # given: a tenant admin key from `manage.py create_api_key`, and a finance_admin key it makes
    system_admin_key, _ = key_client(dual, "tenant_admin")
    minted, _ = key_made_by(system_admin_key)

    # when: either proposes
    for proposer in (system_admin_key, minted):
        refused = proposer.put(MODEL, RAISE_ERROR_COST, format="json")
        # then: refused, so tara cannot propose through it and approve in her own session
        assert refused.status_code == 403, refused.json()
        assert "answers to no person" in refused.json()["errors"]["detail"][0]
    with tenant_scope(dual):
        assert not ChangeProposal.objects.exists()
    assert model_version(dual) == 1


def test_a_key_whose_person_left_the_tenant_cannot_approve(dual, alice, dora):
    proposal_id = session(alice).put(MODEL, RAISE_ERROR_COST, format="json").json()["id"]
    doras_key, _ = key_client(dual, "finance_admin", created_by=dora)
    membership_set_role(tenant=dual, user=dora, role=None)

    refused = doras_key.post(f"{PROPOSALS}/{proposal_id}/approve", {}, format="json")

    assert refused.status_code == 403 and "may no longer approve" in refused.json()["errors"]["detail"][0]
    assert model_version(dual) == 1


def test_a_key_of_another_tenants_person_cannot_approve(dual, alice, globex, gus):
    # gus's chain lives in globex: the proposal is a 404 there, whatever his keys do
    proposal_id = session(alice).put(MODEL, RAISE_ERROR_COST, format="json").json()["id"]
    guss_key, _ = key_client(globex, "finance_admin", created_by=gus)

    assert guss_key.post(f"{PROPOSALS}/{proposal_id}/approve", {}, format="json").status_code == 404
    assert model_version(dual) == 1


def test_the_service_refuses_a_signed_in_approver_without_mfa(dual, alice, dora):
    from roi import proposals

    proposal_id = session(alice).put(MODEL, RAISE_ERROR_COST, format="json").json()["id"]

    with tenant_scope(dual), pytest.raises(proposals.ApprovalNeedsHuman, match="multi-factor"):
        proposals.change_approve(proposal_id=proposal_id, actor=Actor.of_user(dora))
    with tenant_scope(dual), pytest.raises(proposals.ApprovalNeedsHuman):
        proposals.change_approve(proposal_id=proposal_id, actor=Actor.system("test"))
    assert model_version(dual) == 1


def test_a_session_without_mfa_cannot_approve_on_the_api_or_the_page(client, dual, alice, dora):
    from tests.conftest import plain_login

    proposal_id = session(alice).put(MODEL, RAISE_ERROR_COST, format="json").json()["id"]
    plain_login(client, dora)

    api = client.post(f"{PROPOSALS}/{proposal_id}/approve", {}, content_type="application/json")
    page = client.post(f"/t/{dual.slug}/model/", {"proposal": proposal_id, "action": "approve"})

    assert api.status_code == 403 and page.status_code == 302  # to the MFA form
    assert model_version(dual) == 1


def test_the_django_admin_cannot_decide_a_proposal(root_client, dual, alice):
    proposal_id = session(alice).put(MODEL, RAISE_ERROR_COST, format="json").json()["id"]
    url = f"/admin/roi/changeproposal/{proposal_id}/change/"

    response = root_client.post(url, {"status": "approved", "decided_by_label": "root"})

    assert response.status_code == 403
    with tenant_scope(dual):
        assert ChangeProposal.objects.get().status == "pending"


def test_a_key_a_platform_admin_made_answers_to_them_and_cannot_approve_unless_a_member(root_client, dual, alice):
    proposal_id = session(alice).put(MODEL, RAISE_ERROR_COST, format="json").json()["id"]
    root_client.post(
        "/admin/governance/apikey/add/", {"tenant": dual.pk, "name": "root's key", "role": "finance_admin"}
    )
    from governance.models import ApiKey

    with tenant_scope(dual):
        made = ApiKey.objects.get(name="root's key")
    assert made.root_user.username == "root"
    # The admin shows the raw key once, in a message; the service is what the key would reach.
    from roi import proposals

    with tenant_scope(dual), pytest.raises(proposals.ApprovalNeedsHuman, match="may no longer approve"):
        proposals.change_approve(proposal_id=proposal_id, actor=Actor.of_key(made))
    assert model_version(dual) == 1


def test_a_stale_proposal_is_refused_with_409(dual, alice, dora):
    proposal_id = session(alice).put(MODEL, RAISE_ERROR_COST, format="json").json()["id"]
    with tenant_scope(dual):  # the model moves on under the proposal (e.g. while dual approval was off)
        from roi.services import financial_model_update

        financial_model_update(
            actor=Actor.system("test"), groups={"cost_model": {"cost_per_error": 210}}, change_reason="direct"
        )

    response = session(dora).post(f"{PROPOSALS}/{proposal_id}/approve", {}, format="json")

    assert response.status_code == 409
    assert "moved on" in response.json()["errors"]["detail"][0]
    assert model_version(dual) == 2


def test_approving_one_proposal_supersedes_the_others_on_the_same_model(dual, alice, dora):
    first = session(alice).put(MODEL, RAISE_ERROR_COST, format="json").json()["id"]
    second = session(alice).put(
        MODEL, {"cost_model": {"cost_per_error": 300}, "change_reason": "or more"}, format="json"
    )
    second_id = second.json()["id"]

    assert session(dora).post(f"{PROPOSALS}/{first}/approve", {}, format="json").status_code == 200
    late = session(dora).post(f"{PROPOSALS}/{second_id}/approve", {}, format="json")

    assert late.status_code == 409
    listed = {p["id"]: p for p in session(dora).get(PROPOSALS, {"status": "superseded"}).json()["results"]}
    assert listed[second_id]["decision_note"] == f"superseded by proposal #{first}"


def test_a_rejected_proposal_changes_nothing_and_needs_a_reason(dual, alice, dora):
    proposal_id = session(alice).put(MODEL, RAISE_ERROR_COST, format="json").json()["id"]

    no_reason = session(dora).post(f"{PROPOSALS}/{proposal_id}/reject", {}, format="json")
    rejected = session(dora).post(f"{PROPOSALS}/{proposal_id}/reject", {"note": "no invoice"}, format="json")
    again = session(dora).post(f"{PROPOSALS}/{proposal_id}/approve", {}, format="json")

    assert no_reason.status_code == 400 and list(no_reason.json()["errors"]) == ["note"]
    assert rejected.status_code == 200
    assert (rejected.json()["status"], rejected.json()["decision_note"]) == ("rejected", "no invoice")
    assert again.status_code == 409
    assert model_version(dual) == 1
    assert audit_kinds(dual) == [("change_proposed", "user:alice"), ("change_rejected", "user:dora")]


def test_the_proposer_rejecting_withdraws(dual, alice):
    proposal_id = session(alice).put(MODEL, RAISE_ERROR_COST, format="json").json()["id"]

    response = session(alice).post(f"{PROPOSALS}/{proposal_id}/reject", {"note": "wrong figure"}, format="json")

    assert response.json()["status"] == "withdrawn"


@pytest.mark.parametrize(
    ("path", "method", "body", "field"),
    [
        (MODEL, "put", {"cost_model": {"engineer_hourly_rate": -1}}, "cost_model.engineer_hourly_rate"),
        (MODEL, "put", {"cost_model": {"espresso_budget": 5}}, "cost_model.espresso_budget"),
        (
            "/api/v1/config/revenue-model",
            "post",
            {"annual_recurring_revenue": "NaN"},
            "revenue_model.annual_recurring_revenue",
        ),
        ("/api/v1/config/business-kpis", "put", {"alerts": {"roi_targte": 1}}, "alerts.roi_targte"),
        (MODEL, "put", {"cost_model": {"cost_per_error": 1}, "change_reason": " "}, "change_reason"),
    ],
)
def test_a_bad_proposal_is_a_400_naming_the_field_and_is_not_stored(dual, alice, path, method, body, field):
    body = {"change_reason": "typo", **body}
    response = getattr(session(alice), method)(path, body, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()
    with tenant_scope(dual):
        assert not ChangeProposal.objects.exists()


def test_kpi_changes_go_through_approval_too(dual, alice, dora):
    with tenant_scope(dual):
        from roi.services import business_kpis_update

        business_kpis_update(actor=Actor.system("test"), sections={}, change_reason="defaults")
    proposed = session(alice).put(
        "/api/v1/config/business-kpis", {"alerts": {"roi_target": 250}, "change_reason": "bar"}, format="json"
    )
    assert proposed.status_code == 202 and proposed.json()["target"] == "business_kpis"

    session(dora).post(f"{PROPOSALS}/{proposed.json()['id']}/approve", {}, format="json")

    kpis = session(alice).get("/api/v1/config/business-kpis").json()
    assert (kpis["version"], kpis["alerts"]["roi_target"], kpis["proposed_by"]) == (2, "250", "user:alice")


def test_viewers_and_analysts_neither_propose_nor_approve(dual, alice, bob, api_as):
    proposal_id = session(alice).put(MODEL, RAISE_ERROR_COST, format="json").json()["id"]

    for client in (session(bob), api_as(dual, "analyst")):
        assert client.put(MODEL, RAISE_ERROR_COST, format="json").status_code == 403
        assert client.post(f"{PROPOSALS}/{proposal_id}/approve", {}, format="json").status_code == 403
    assert model_version(dual) == 1


def test_another_tenant_cannot_see_or_decide_a_proposal(dual, alice, globex, api_as):
    proposal_id = session(alice).put(MODEL, RAISE_ERROR_COST, format="json").json()["id"]
    globex_finance = api_as(globex, "finance_admin")

    assert globex_finance.post(f"{PROPOSALS}/{proposal_id}/approve", {}, format="json").status_code == 404
    assert globex_finance.post(f"{PROPOSALS}/{proposal_id}/reject", {"note": "x"}, format="json").status_code == 404
    assert globex_finance.get(PROPOSALS).json()["results"] == []
    assert model_version(dual) == 1


# --- The off switch ---------------------------------------------------------------------


def test_with_a_single_approver_changes_apply_at_once_until_a_second_one_joins(dual_alone, alice, api_as):
    # Nobody could approve alice's proposal, so her change is the new version at once.
    assert session(alice).put(MODEL, RAISE_ERROR_COST, format="json").status_code == 200
    assert model_version(dual_alone) == 2
    audit_page = session(_member("ada", dual_alone, "auditor")).get(f"/t/{dual_alone.slug}/audit/")
    assert "Not yet in force" in audit_page.content.decode()

    _member("dora", dual_alone, "finance_admin")
    response = session(alice).put(MODEL, {**RAISE_ERROR_COST, "change_reason": "Again"}, format="json")

    assert response.status_code == 202, response.json()
    assert model_version(dual_alone) == 2
    audit_page = session(_member("ada2", dual_alone, "auditor")).get(f"/t/{dual_alone.slug}/audit/")
    assert "Not yet in force" not in audit_page.content.decode()


def test_a_tenant_with_one_finance_admin_may_turn_it_off_and_changes_apply_at_once(dual_alone, alice, api_as, carol):
    dual = dual_alone
    admin_key = api_as(dual, "tenant_admin")

    response = admin_key.put("/api/v1/tenant/settings", {"require_dual_approval": False}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["require_dual_approval"] is False
    assert response.json()["changed_by"].startswith("api-key:")
    assert session(alice).put(MODEL, RAISE_ERROR_COST, format="json").status_code == 200
    assert model_version(dual) == 2
    with tenant_scope(dual):
        switched = audit_events(kind=AuditKind.DUAL_APPROVAL_CHANGED).first()
    assert switched.detail == {"require_dual_approval": False, "approvers": ["alice"]}


def test_a_tenant_with_two_approvers_cannot_turn_it_off(dual, alice, dora, api_as):
    response = api_as(dual, "tenant_admin").put(
        "/api/v1/tenant/settings", {"require_dual_approval": False}, format="json"
    )

    assert response.status_code == 400
    assert "alice, dora" in response.json()["errors"]["require_dual_approval"][0]
    assert session(alice).put(MODEL, RAISE_ERROR_COST, format="json").status_code == 202


def test_the_audit_page_says_whether_dual_approval_is_on_and_who_switched_it(client, acme, alice, carol):
    client.force_login(carol)
    off = client.get(f"/t/{acme.slug}/audit/").content.decode()
    assert "Dual approval is OFF" in off and "since the tenant was created" in off

    tenant_dual_approval_set(tenant=acme, enabled=True, actor="user:tara")
    on = client.get(f"/t/{acme.slug}/audit/").content.decode()
    assert "Dual approval is ON" in on and "switched on by user:tara" in on
    assert "Members who may approve model changes: alice." in on


def test_the_audit_page_warns_when_it_is_off_with_several_approvers(client, acme, alice, dora, carol):
    client.force_login(carol)
    page = client.get(f"/t/{acme.slug}/audit/").content.decode()
    assert "Dual approval is OFF" in page and "dual approval should be switched back on" in page


# --- Pages ------------------------------------------------------------------------------


def test_the_model_page_shows_a_pending_proposal_with_its_diff_and_the_right_buttons(client, dual, alice, dora):
    session(alice).put(MODEL, RAISE_ERROR_COST, format="json")

    client.force_login(dora)
    for_dora = client.get(f"/t/{dual.slug}/model/").content.decode()
    client.force_login(alice)
    for_alice = client.get(f"/t/{dual.slug}/model/").content.decode()

    assert "Pending proposals" in for_dora and "cost_model.cost_per_error" in for_dora
    assert "<td>200</td><td>250</td>" in for_dora.replace("\n", "")
    assert 'value="approve"' in for_dora
    assert 'value="approve"' not in for_alice and "Withdraw my proposal" in for_alice


def test_approving_on_the_page_applies_and_self_approval_is_refused(client, dual, alice, dora):
    proposal_id = session(alice).put(MODEL, RAISE_ERROR_COST, format="json").json()["id"]
    url = f"/t/{dual.slug}/model/"

    client.force_login(alice)
    refused = client.post(url, {"proposal": proposal_id, "action": "approve"})
    client.force_login(dora)
    approved = client.post(url, {"proposal": proposal_id, "action": "approve", "note": "ok"})

    assert refused.status_code == 403 and "another finance admin must approve" in refused.content.decode()
    assert approved.status_code == 302
    assert model_version(dual) == 2
    history = client.get(url).content.decode()
    assert "Proposed by user:alice" in history and f"(proposal #{proposal_id}), approved by dora" in history


def test_the_edit_page_makes_a_proposal_when_dual_approval_is_on(client, dual, alice):
    client.force_login(alice)
    form = client.get(f"/t/{dual.slug}/model/edit/").content.decode()
    assert "Propose this change" in form

    data = {"revenue_model.annual_recurring_revenue": "58000000", "change_reason": "Q3 bookings"}
    response = client.post(f"/t/{dual.slug}/model/edit/", data)

    assert response.status_code == 302
    assert model_version(dual) == 1
    with tenant_scope(dual):
        proposal = ChangeProposal.objects.get()
    assert (proposal.status, proposal.proposed_by, proposal.change_reason) == ("pending", alice, "Q3 bookings")


def test_a_viewer_cannot_decide_on_the_page(client, dual, alice, bob):
    proposal_id = session(alice).put(MODEL, RAISE_ERROR_COST, format="json").json()["id"]
    client.force_login(bob)
    assert client.post(f"/t/{dual.slug}/model/", {"proposal": proposal_id, "action": "approve"}).status_code == 403


# --- Admin ------------------------------------------------------------------------------


def admin_form(tenant, require_dual_approval: bool) -> dict[str, object]:
    data = {"name": tenant.name, "slug": tenant.slug, "currency": tenant.currency, "time_zone": tenant.time_zone}
    data["fiscal_year_start_month"] = tenant.fiscal_year_start_month
    data["locale"] = tenant.locale
    data.update({name: getattr(tenant, name) for name in BUSINESS_CONTEXT_FIELDS})
    if require_dual_approval:
        data["require_dual_approval"] = "on"
    return data


# Transactional: admin reads through the platform role's connection, which sees committed rows.
@pytest.mark.django_db(transaction=True)
def test_a_platform_admin_switch_is_checked_and_audited(client, django_user_model, dual, alice, dora):
    root = django_user_model.objects.create_superuser("root", "root@example.invalid", "root-long-password")
    client.force_login(root)
    url = f"/admin/governance/tenant/{dual.pk}/change/"

    refused = client.post(url, admin_form(dual, False))
    assert refused.status_code == 200 and "only a tenant with a single" in refused.content.decode()

    membership_set_role(tenant=dual, user=dora, role=None)  # dora leaves: alice is the only approver
    assert client.post(url, admin_form(dual, False)).status_code == 302
    dual.refresh_from_db()
    assert dual.require_dual_approval is False
    with tenant_scope(dual):
        assert audit_events(kind=AuditKind.DUAL_APPROVAL_CHANGED).first().actor == "admin:root"


# --- History that cannot be dodged --------------------------------------------------------


def test_a_proposals_history_cannot_be_bypassed_or_rewritten(dual, alice):
    from roi.proposals import change_propose

    with tenant_scope(dual):
        change_propose(actor=Actor.of_user(alice), target="financial_model", payload={}, change_reason="same")
        with pytest.raises(HistoryBypassRefused, match=r"ChangeProposal\.update\(\) is refused"):
            ChangeProposal.objects.all().update(status="approved")
        for statement in (
            "UPDATE roi_historicalchangeproposal SET status = 'approved'",
            "DELETE FROM roi_historicalchangeproposal",
        ):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement)
        assert [row.status for row in ChangeProposal.history.all()] == ["pending"]


def test_a_new_tenant_requires_dual_approval_unless_created_for_a_single_approver(db):
    from django.core.management import call_command

    from governance.models import Tenant

    call_command("create_tenant", "initech", "--name", "Initech")
    call_command("create_tenant", "soloco", "--name", "Solo Co", "--single-approver")

    assert Tenant.objects.get(slug="initech").require_dual_approval is True
    assert Tenant.objects.get(slug="soloco").require_dual_approval is False
