from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import User


@admin.register(User)
class ListenerAdmin(UserAdmin):
    list_display = ["username", "display_name", "email", "date_joined", "banned_at", "is_staff"]
    list_filter = [*UserAdmin.list_filter, "banned_at"]
    search_fields = ["username", "display_name", "email"]
    fieldsets = [*UserAdmin.fieldsets, ("Community", {"fields": ["display_name", "banned_at"]})]
