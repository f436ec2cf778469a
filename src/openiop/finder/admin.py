from __future__ import annotations

from django.contrib import admin

from .models import ContactRequest, ImportRun, Listing


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    list_display = ("name", "source", "city", "state", "zip_code", "openings", "is_active")
    list_filter = ("source", "focus", "is_active", "state")
    search_fields = ("name", "organization_name", "city", "zip_code", "source_key")
    readonly_fields = ("code", "tags", "content_hash", "created_at", "updated_at")


@admin.register(ContactRequest)
class ContactRequestAdmin(admin.ModelAdmin):
    list_display = ("code", "program", "status", "created_at")
    list_filter = ("status",)
    readonly_fields = ("consent_text", "consented_at", "created_at")


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ("filename", "source_name", "created", "updated", "unchanged", "rejected",
                    "created_at")
