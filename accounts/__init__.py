"""
Listeners' accounts: a custom user model, sign-up, throttled login, rate limits.

Public surface: User (accounts.models); rate_limit (accounts.ratelimit); the
decorators other apps' views use, login_to_write and staff_required, and the
readable refusal they answer with (accounts.decorators).
"""
