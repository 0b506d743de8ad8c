from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance: tenants, roles, keys"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_login_failed
        from django.core import checks
        from django.db.models.signals import post_migrate

        from governance import audit, rls, schema, session_limits  # noqa: F401  (schema registers the OpenAPI auth extension)

        # Every `migrate` leaves the database's copy of DATABASE_RLS_KEY equal to the setting.
        post_migrate.connect(rls.rls_key_sync_after_migrate, sender=self, dispatch_uid="governance-rls-key-sync")
        checks.register(rls.check_rls_key, checks.Tags.database)
        user_logged_in.connect(audit.on_user_logged_in, dispatch_uid="governance-audit-login")
        user_login_failed.connect(audit.on_user_login_failed, dispatch_uid="governance-audit-login-failed")
        user_logged_in.connect(session_limits.on_user_logged_in, dispatch_uid="governance-session-limits-login")
