"""Platform operators' admin views of accounts: no secrets (password hashes, TOTP keys,
backup codes) are shown, and passwords are not set here (a reset link is:
`openiop staff_link USERNAME`)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import Http404, HttpRequest, HttpResponse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import Invitation, StaffProfile, User


class StaffProfileInline(admin.StackedInline):
    model = StaffProfile
    fk_name = "user"
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "first_name", "last_name", "role", "is_active")
    list_filter = ("role", "is_active")
    # The stock first fieldset shows the password hash: left out.
    fieldsets = (
        (None, {"fields": ("username",)}),
        *BaseUserAdmin.fieldsets[1:],
        ("OpenIOP", {"fields": ("role", "display_name")}),
    )
    inlines = [StaffProfileInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Staff are invited by their clinic (/accounts/staff/); operators by the console.
        return False

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = ""
                             ) -> HttpResponse:
        raise Http404("Passwords are set by the account holder through a one-time link.")


for model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(admin.ModelAdmin):
    """Which accounts have a confirmed authenticator; the key itself is never shown.
    Deleting a lost device makes its owner need a new set-up link."""

    list_display = ("user", "name", "confirmed")
    fields = ("user", "name", "confirmed")
    readonly_fields = ("user", "name", "confirmed")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Set-up links by account (the token itself is stored only as a hash)."""

    list_display = ("user", "purpose", "created_at", "expires_at", "used_at")
    fields = ("user", "purpose", "created_by", "created_at", "expires_at", "used_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
