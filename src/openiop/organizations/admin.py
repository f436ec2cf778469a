from django.contrib import admin

from .models import Organization, Room, Site


class SiteInline(admin.TabularInline):
    model = Site
    extra = 0


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "time_zone", "is_part2_program", "part2_notice")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [SiteInline]


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ("name", "site", "capacity", "is_active")
    list_filter = ("site",)
