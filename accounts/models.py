"""Listeners' accounts: Django's user with a public display name and a ban."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone


class User(AbstractUser):
    display_name = models.CharField(
        max_length=50, blank=True, help_text="Shown beside your notes instead of your username."
    )
    banned_at = models.DateTimeField(null=True, blank=True)

    @property
    def public_name(self):
        return self.display_name or self.username

    def is_banned(self):
        return self.banned_at is not None

    def ban(self):
        self.banned_at = timezone.now()
        self.save(update_fields=["banned_at"])

    def unban(self):
        self.banned_at = None
        self.save(update_fields=["banned_at"])


class RateCounter(models.Model):
    """One window of one rate limit, counted in the database so every worker shares it."""

    key = models.CharField(max_length=200, unique=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.key}: {self.count}"
