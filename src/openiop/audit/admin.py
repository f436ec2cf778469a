from django.contrib import admin

from .models import AccessEvent


@admin.register(AccessEvent)
class AccessEventAdmin(admin.ModelAdmin):
    """Read-only: events are append-only."""

    list_display = ("seq", "occurred_at", "actor_label", "action", "object_type", "participant")
    list_filter = ("action", "object_type")
    search_fields = ("actor_label", "object_id")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
