"""Multi-factor authentication (TOTP, django-otp) for the members who can change or attest figures.

A member holding finance_admin, tenant_admin or auditor on any tenant, and every platform
staff user, must have a confirmed TOTP device and have entered a token in this session
before tenant pages, session API calls or admin open. API keys are not affected: a key is
already a second, revocable secret bound to one tenant and one role.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from governance import selectors
from governance.roles import Role

ELEVATED_ROLES = frozenset({Role.FINANCE_ADMIN.value, Role.TENANT_ADMIN.value, Role.AUDITOR.value})
DEVICE_NAME = "Authenticator app"
MFA_REQUIRED_MESSAGE = "Multi-factor authentication required: verify at /accounts/mfa/verify/."


def mfa_required(user: Any) -> bool:
    """Whether `user` must pass MFA: an elevated role on any tenant, or platform staff.

    Any tenant, not the one in the URL: one session serves every tenant the user belongs to.
    """
    if not getattr(user, "is_authenticated", False) or getattr(user, "pk", None) is None:
        return False
    if user.is_staff or user.is_superuser:
        return True
    return selectors.holds_role_on_any_tenant(user=user, roles_held=ELEVATED_ROLES)


def mfa_satisfied(request: HttpRequest) -> bool:
    """Whether this request may proceed: MFA not required for the user, or this session verified with a token."""
    user = request.user
    if not mfa_required(user):
        return True
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


def confirmed_device(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def mfa_redirect(request: HttpRequest) -> HttpResponseRedirect:
    """Send the user to enrol (no device yet) or to enter a token, coming back here afterwards."""
    target = "mfa-verify" if confirmed_device(request.user) else "mfa-setup"
    return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")


class TokenForm(forms.Form):
    token = forms.RegexField(regex=r"^\d{6}$", max_length=6, error_messages={"invalid": "Enter the 6-digit code."})


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("home")


def _verified_login(request: HttpRequest, device: TOTPDevice) -> None:
    """Mark this session verified with `device`, under a new session key.

    The key the session had before the token was typed (perhaps seen or planted while only
    the password was known) must not carry the verified session: rotate it, as Django does
    at login.
    """
    otp_login(request, device)
    request.session.cycle_key()


def manual_key(device: TOTPDevice) -> str:
    """The device's secret in base32, as authenticator apps take it when typed in."""
    return base64.b32encode(device.bin_key).decode().rstrip("=")


@login_required
@require_http_methods(["GET", "POST"])
def mfa_setup(request: HttpRequest) -> HttpResponse:
    """Enrol a TOTP device: show the otpauth URI and the key, confirm with a first token."""
    if confirmed_device(request.user):
        return redirect(f"{reverse('mfa-verify')}?{urlencode({'next': _next_url(request)})}")
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, confirmed=False, name=DEVICE_NAME)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            _verified_login(request, device)
            return redirect(_next_url(request))
        form.add_error("token", "That code is not valid; check the time on your device and try again.")
    context = {
        "form": form,
        "otpauth_uri": device.config_url,
        "manual_key": manual_key(device),
        "next": _next_url(request),
    }
    return render(request, "registration/mfa_setup.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def mfa_verify(request: HttpRequest) -> HttpResponse:
    """Ask for a token from the enrolled device; on success this session is verified."""
    device = confirmed_device(request.user)
    if device is None:
        return redirect(f"{reverse('mfa-setup')}?{urlencode({'next': _next_url(request)})}")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            _verified_login(request, device)
            return redirect(_next_url(request))
        form.add_error("token", "That code is not valid.")
    context = {"form": form, "next": _next_url(request)}
    return render(request, "registration/mfa_verify.html", context, status=400 if form.errors else 200)
