"""Django admin for platform admins: tenants, members and roles, API keys.

Admin runs in `all_tenants_scope` (see governance.middleware) and reads tenant-owned rows
through the named `all_tenants` manager; only superusers get in.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from guardian.admin import GuardedModelAdmin
from guardian.forms import UserObjectPermissionsForm
from simple_history.admin import SimpleHistoryAdmin

from governance import selectors, services
from governance.models import ApiKey, LedgerRecord, Tenant
from governance.roles import Role, permission_codename
from governance.tenancy import tenant_scope


class NoRevertHistoryAdmin(SimpleHistoryAdmin):
    """History pages that show past versions and never write them back (SOX).

    SIMPLE_HISTORY_REVERT_DISABLED only hides the revert button: simple-history still saves
    a POST to a past version's form, so that form is refused outright; the history list
    still shows every version and what changed.
    """

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> HttpResponse:
        if self.revert_disabled(request):
            raise PermissionDenied("Reverting to a past version is disabled: history is append-only.")
        return super().history_form_view(request, object_id, version_id, extra_context)


class SuperuserOnlyAdmin(admin.ModelAdmin):
    """Tenancy-aware data is managed by platform admins only."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_active and request.user.is_superuser

    has_change_permission = has_view_permission
    has_add_permission = has_module_permission


class CommaSeparatedLabelsField(forms.CharField):
    """A list of labels typed as one line, "enterprise, mid-market"; the service checks the list."""

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(value) if isinstance(value, list) else value

    # Cleans to a list, not CharField's str: the model field stores a JSON list.
    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value)
        return [label.strip() for label in text.split(",")] if text else []


class TenantForm(forms.ModelForm):
    customer_segments = CommaSeparatedLabelsField(
        required=False,
        help_text="Comma-separated, e.g. “enterprise, mid-market”: distinct ignoring case, at most "
        f"{services.MAX_CUSTOMER_SEGMENTS} of at most {services.MAX_CUSTOMER_SEGMENT_LENGTH} characters each. "
        "Errors count items from 0.",
    )

    production_environments = CommaSeparatedLabelsField(
        required=False,
        help_text="Comma-separated deployment environment names counted as production for the DORA keys, "
        "besides those GitHub flags production (letter case ignored; empty: only those). Applies to "
        "deliveries from now on. Errors count items from 0.",
    )

    class Meta:
        model = Tenant
        fields = [
            "name",
            "slug",
            "currency",
            "locale",
            "fiscal_year_start_month",
            "time_zone",
            *services.BUSINESS_CONTEXT_FIELDS,
            "require_dual_approval",
            "production_environments",
        ]

    def clean_customer_segments(self) -> list[str]:
        try:
            return services.customer_segments_clean(segments=self.cleaned_data["customer_segments"])
        except ValidationError as refused:
            raise forms.ValidationError(refused.message_dict["customer_segments"]) from None

    def clean_production_environments(self) -> list[str]:
        try:
            return services.production_environments_clean(names=self.cleaned_data["production_environments"])
        except ValidationError as refused:
            raise forms.ValidationError(
                [
                    f"Item {field.rpartition('.')[2]}: {message}" if "." in field else message
                    for field, messages in refused.message_dict.items()
                    for message in messages
                ]
            ) from None

    def clean_require_dual_approval(self) -> bool:
        enabled = self.cleaned_data["require_dual_approval"]
        tenant = self.instance
        if tenant.pk is not None and not enabled and tenant.require_dual_approval:
            approvers = selectors.model_approvers(tenant=tenant)
            if len(approvers) > 1:
                raise forms.ValidationError(
                    f"{len(approvers)} members can approve model changes; only a tenant with a single "
                    "finance admin may run without a second approver."
                )
        return enabled


class MemberPermissionsForm(UserObjectPermissionsForm):
    """Guardian's page for one member's roles on a tenant, refusing to take away its last tenant admin."""

    def clean_permissions(self) -> list[str]:
        chosen = self.cleaned_data["permissions"]
        if permission_codename(Role.TENANT_ADMIN.value) not in chosen:
            try:
                # Guardian's form serves any model; TenantAdmin gives it a Tenant.
                tenant = cast(Tenant, self.obj)
                services.last_tenant_admin_refuse(tenant=tenant, user=self.user, field="permissions")
            except ValidationError as refused:
                raise forms.ValidationError(refused.message_dict["permissions"]) from None
        return chosen


@admin.register(Tenant)
class TenantAdmin(GuardedModelAdmin, SuperuserOnlyAdmin):  # type: ignore[misc]  # guardian types change_form_template as str, Django's stubs as ClassVar
    """Tenants; the "Object permissions" page edits members' roles (guardian permissions)."""

    form = TenantForm

    def get_obj_perms_manage_user_form(self, request: HttpRequest) -> type[MemberPermissionsForm]:
        return MemberPermissionsForm

    list_display = [
        "name",
        "slug",
        "currency",
        "fiscal_year_start_month",
        "time_zone",
        "industry",
        "reporting_frequency",
        "require_dual_approval",
        "members",
    ]
    search_fields = ["name", "slug"]
    # The page shows TenantForm's fields, then these.
    readonly_fields = ["created_at", "member_roles"]

    # Deleting a tenant would orphan its ledger; it is never done through the app.
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Members")
    def members(self, tenant: Tenant) -> int:
        return len(selectors.members_of(tenant=tenant))

    @admin.display(description="Members and roles")
    def member_roles(self, tenant: Tenant) -> str:
        if tenant.pk is None:
            return "—"
        members = selectors.members_of(tenant=tenant)
        if not members:
            return "No members yet. Use “Object permissions” above to grant a role."
        return "; ".join(f"{user.get_username()}: {', '.join(sorted(held))}" for user, held in members)

    def save_model(self, request: HttpRequest, obj: Tenant, form: Any, change: bool) -> None:
        obj.full_clean()
        switched = change and "require_dual_approval" in form.changed_data
        if switched:
            # The switch goes through its service, which checks the rule again and audits it.
            obj.require_dual_approval = not obj.require_dual_approval
        # So does a change of business context, which is audited field by field.
        context = {
            name: getattr(obj, name)
            for name in services.BUSINESS_CONTEXT_FIELDS
            if change and name in form.changed_data
        }
        for name in context:
            setattr(obj, name, form.initial[name])
        # And the production environments, audited as the settings API audits them.
        environments = change and "production_environments" in form.changed_data
        if environments:
            obj.production_environments = form.initial["production_environments"]
        super().save_model(request, obj, form, change)
        actor = f"admin:{request.user.get_username()}"
        if context:
            services.tenant_business_context_set(tenant=obj, actor=actor, changes=context)
        if environments:
            services.tenant_production_environments_set(
                tenant=obj, actor=actor, names=form.cleaned_data["production_environments"]
            )
        if switched:
            services.tenant_dual_approval_set(
                tenant=obj, enabled=form.cleaned_data["require_dual_approval"], actor=actor
            )


class ApiKeyAddForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["tenant", "name", "role", "expires_at"]

    def validate_unique(self) -> None:
        # The key hash is random and unique in the database; the default check would query
        # through the tenant-scoped manager outside any tenant.
        pass


@admin.register(ApiKey)
class ApiKeyAdmin(NoRevertHistoryAdmin, SuperuserOnlyAdmin):
    list_display = ["name", "tenant", "role", "prefix", "created_at", "expires_at", "revoked_at"]
    list_filter = ["role", "tenant"]
    search_fields = ["name", "prefix", "tenant__slug"]
    readonly_fields = ["tenant", "prefix", "created_at", "created_by", "created_by_key", "root_user", "revoked_at"]
    actions = ["revoke"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiKey]:
        return ApiKey.all_tenants.select_related("tenant", "created_by", "created_by_key", "root_user")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = ApiKeyAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return ["prefix", "created_at", "created_by", "created_by_key", "root_user", "revoked_at"]
        return [*self.readonly_fields, "role"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None:
            return ("tenant", "name", "role", "expires_at")
        return (
            "tenant",
            "name",
            "role",
            "prefix",
            "created_at",
            "created_by",
            "created_by_key",
            "root_user",
            "expires_at",
            "revoked_at",
        )

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            with tenant_scope(obj.tenant):
                obj.save()
            return
        with tenant_scope(form.cleaned_data["tenant"]):
            issued = services.api_key_create(
                name=form.cleaned_data["name"],
                role=form.cleaned_data["role"],
                expires_at=form.cleaned_data.get("expires_at"),
                created_by=cast(User, request.user),  # the admin serves signed-in staff only
            )
        obj.pk = issued.api_key.pk
        messages.warning(
            request,
            f"New key for {issued.api_key.tenant.slug} ({issued.api_key.role}): {issued.raw_key} — "
            "copy it now; it is stored only as a hash and will not be shown again.",
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoke instead: a key's history must stay

    @admin.action(description="Revoke selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for api_key in queryset.select_related("tenant"):
            with tenant_scope(api_key.tenant):
                services.api_key_revoke(api_key=api_key, actor=f"admin:{request.user.get_username()}")
        self.message_user(request, f"Revoked {queryset.count()} key(s).")


def _orphaning_message(user: Any) -> str | None:
    alone = selectors.tenants_user_alone_administers(user=user)
    if not alone:
        return None
    return (
        f"{user.get_username()} is the last tenant admin of {', '.join(t.slug for t in alone)}: "
        "make another member tenant admin there first."
    )


class MemberUserChangeForm(UserChangeForm):
    def clean_is_active(self) -> bool:
        is_active = self.cleaned_data["is_active"]
        if not is_active and self.instance.pk is not None and self.instance.is_active:
            message = _orphaning_message(self.instance)
            if message:
                raise forms.ValidationError(f"Cannot deactivate: {message}")
        return is_active


class MemberUserAdmin(UserAdmin):
    """Django's user admin, refusing to deactivate or delete a tenant's last tenant admin."""

    form = MemberUserChangeForm

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple[Any, Any, Any, list[Any]]:
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # Listed as protected, the admin shows why and deletes nothing (single and bulk delete).
        refusals = [message for message in map(_orphaning_message, objs) if message]
        return deleted, counts, perms_needed, [*protected, *refusals]


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), MemberUserAdmin)

admin.site.site_header = "BizValue platform admin"
admin.site.site_title = "BizValue admin"


class ReadOnlyTenantAdmin(SuperuserOnlyAdmin):
    """Append-only or service-written records: admins read them, never edit them here."""

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return self.model.all_tenants.select_related("tenant")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LedgerRecord)
class LedgerRecordAdmin(ReadOnlyTenantAdmin):
    list_display = [
        "sequence",
        "tenant",
        "method",
        "method_version",
        "model_version",
        "actor",
        "created_at",
        "short_hash",
    ]
    list_filter = ["method", "tenant"]
    search_fields = ["hash", "actor", "tenant__slug"]

    @admin.display(description="hash")
    def short_hash(self, record: LedgerRecord) -> str:
        return record.hash[:16] + "…"
