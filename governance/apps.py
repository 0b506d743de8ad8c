from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance: tenants, roles, keys"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from governance import audit, schema, session_limits  # noqa: F401  (schema registers the OpenAPI auth extension)

        user_logged_in.connect(audit.on_user_logged_in, dispatch_uid="governance-audit-login")
        user_login_failed.connect(audit.on_user_login_failed, dispatch_uid="governance-audit-login-failed")
        user_logged_in.connect(session_limits.on_user_logged_in, dispatch_uid="governance-session-limits-login")
