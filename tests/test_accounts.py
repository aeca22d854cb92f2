"""Signing up, logging in and out, and passwords: accessible pages, hostile input refused."""

import re

import pytest
from django.core import mail
from django.test import Client

from accounts.models import User
from tests.factories import make_user

pytestmark = pytest.mark.django_db

SIGNUP = "/accounts/signup/"
LOGIN = "/accounts/login/"
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def fast_and_unlimited(settings):
    """Fast password hashing; counters in the database, rolled back with each test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.RATE_LIMIT_USE_CACHE = False


def signup_data(**overrides):
    data = {"username": "ann", "display_name": "Ann of Leeds", "email": "ann@example.com",
            "password1": PASSWORD, "password2": PASSWORD, "website": ""}
    data.update(overrides)
    return data


# Sign-up

def test_signup_page_labels_every_field(client):
    html = client.get(SIGNUP).content.decode()
    for name in ["username", "display_name", "email", "password1", "password2"]:
        assert f'<label for="id_{name}">' in html
    assert 'aria-describedby="id_display_name_helptext"' in html
    assert '<form class="account-form" method="post" action="/accounts/signup/">' in html


def test_the_honeypot_is_hidden_from_people(client):
    html = client.get(SIGNUP).content.decode()
    honeypot = re.search(r'<div class="honeypot" aria-hidden="true">.*?</div>', html, re.S).group()
    assert 'name="website"' in honeypot
    assert 'tabindex="-1"' in honeypot and 'autocomplete="off"' in honeypot
    assert html.count('name="website"') == 1


def test_signup_creates_the_account_signs_in_and_welcomes(client):
    response = client.post(SIGNUP, signup_data(), follow=True)
    user = User.objects.get(username="ann")
    assert user.display_name == "Ann of Leeds" and user.check_password(PASSWORD)
    assert int(client.session["_auth_user_id"]) == user.pk
    html = response.content.decode()
    assert "Welcome, Ann of Leeds." in html
    assert '<a class="account-name" href="/accounts/password_change/"' in html


def test_signup_returns_to_a_local_next_page(client):
    response = client.post(SIGNUP + "?next=/glossary/", signup_data())
    assert response["Location"] == "/glossary/"


def test_signup_never_redirects_off_site(client):
    for target in ["https://evil.example/", "//evil.example/", "javascript:alert(1)"]:
        User.objects.all().delete()
        client.logout()
        response = client.post(SIGNUP + "?next=" + target, signup_data())
        assert response.status_code == 302 and response["Location"] == "/"


def test_a_bot_filling_the_honeypot_is_refused(client):
    response = client.post(SIGNUP, signup_data(website="https://cheap-watches.example"))
    assert response.status_code == 200
    assert "Please leave this field empty." in response.content.decode()
    assert not User.objects.exists()


def test_a_huge_username_is_refused_politely(client):
    response = client.post(SIGNUP, signup_data(username="a" * 10_000, display_name="b" * 10_000))
    assert response.status_code == 200
    html = response.content.decode()
    assert "at most 150 characters" in html and "at most 50 characters" in html
    assert 'role="alert"' in html and 'aria-invalid="true"' in html
    assert not User.objects.exists()


def test_a_script_in_the_display_name_is_shown_as_text(client):
    client.post(SIGNUP, signup_data(display_name='<script>alert("x")</script>'))
    html = client.get("/").content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_direction_overrides_and_invisible_characters_are_refused_in_display_names(client):
    for name in ["Ann\u202eevil", "Ann\u2066evil\u2069", "A\u200bnn", "\ufeffAnn", "An\u200dn"]:
        response = client.post(SIGNUP, signup_data(display_name=name))
        assert 'id="id_display_name_error"' in response.content.decode()
        assert "Remove the invisible character U+" in response.content.decode()
    assert not User.objects.exists()


def test_control_characters_are_removed_from_display_names(client):
    client.post(SIGNUP, signup_data(display_name="Ann\x00 of\x0b\x0cLeeds\x7f\x85\ntoo"))
    assert User.objects.get().display_name == "Ann ofLeeds too"


def test_display_names_have_their_spaces_collapsed(client):
    client.post(SIGNUP, signup_data(display_name="  Ann    of  Leeds "))
    assert User.objects.get().display_name == "Ann of Leeds"


def test_mismatched_passwords_are_reported_on_the_field(client):
    html = client.post(SIGNUP, signup_data(password2="something else")).content.decode()
    assert 'id="id_password2_error"' in html and "didn’t match" in html
    assert not User.objects.exists()


def test_signed_in_visitors_are_sent_home_from_signup(client):
    client.force_login(make_user())
    assert client.get(SIGNUP)["Location"] == "/"


def test_signup_and_login_need_the_csrf_token():
    csrf_client = Client(enforce_csrf_checks=True)
    assert csrf_client.post(SIGNUP, signup_data()).status_code == 403
    make_user("bob", password=PASSWORD)
    assert csrf_client.post(LOGIN, {"username": "bob", "password": PASSWORD}).status_code == 403
    assert "_auth_user_id" not in csrf_client.session
    assert not User.objects.filter(username="ann").exists()


def test_the_forms_carry_the_csrf_token(client):
    for url in [SIGNUP, LOGIN, "/accounts/password_reset/"]:
        assert 'name="csrfmiddlewaretoken"' in client.get(url).content.decode()


# Logging in and out

def test_login_rotates_the_session_key(client):
    make_user("bob", password=PASSWORD)
    client.get(LOGIN)
    session = client.session
    session["before"] = True
    session.save()
    before = session.session_key
    response = client.post(LOGIN, {"username": "bob", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session.session_key != before


def test_a_wrong_password_is_reported_as_an_alert(client):
    make_user("bob", password=PASSWORD)
    html = client.post(LOGIN, {"username": "bob", "password": "nope"}).content.decode()
    assert 'role="alert"' in html and "Please enter a correct username and password" in html


def test_login_returns_to_the_next_page(client):
    make_user("bob", password=PASSWORD)
    html = client.get(LOGIN + "?next=/glossary/").content.decode()
    assert '<input type="hidden" name="next" value="/glossary/">' in html
    response = client.post(LOGIN, {"username": "bob", "password": PASSWORD, "next": "/glossary/"})
    assert response["Location"] == "/glossary/"


def test_header_offers_log_in_and_sign_up_when_signed_out(client):
    html = client.get("/glossary/").content.decode()
    assert '<a href="/accounts/login/?next=/glossary/">Log in</a>' in html
    assert '<a href="/accounts/signup/?next=/glossary/">Sign up</a>' in html
    assert "Log out" not in html


def test_header_shows_the_name_and_a_post_logout_form_when_signed_in(client):
    client.force_login(make_user("bob", display_name="Bob B."))
    html = client.get("/").content.decode()
    assert ">Bob B.</a>" in html
    form = re.search(r'<form class="logout-form" method="post" action="/accounts/logout/">.*?</form>', html, re.S)
    assert 'name="csrfmiddlewaretoken"' in form.group() and ">Log out</button>" in form.group()
    assert "Log in</a>" not in html


def test_logout_is_post_only(client):
    client.force_login(make_user())
    assert client.get("/accounts/logout/").status_code == 405
    assert "_auth_user_id" in client.session
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert "_auth_user_id" not in client.session


# Passwords

def test_password_change_needs_login_and_works(client):
    assert client.get("/accounts/password_change/")["Location"].startswith("/accounts/login/")
    client.force_login(make_user("bob", password=PASSWORD))
    html = client.get("/accounts/password_change/").content.decode()
    assert 'class="site-header"' in html and '<label for="id_old_password">' in html
    response = client.post("/accounts/password_change/", {
        "old_password": PASSWORD, "new_password1": "a brand new passphrase", "new_password2": "a brand new passphrase",
    }, follow=True)
    assert "<h1>Password changed</h1>" in response.content.decode()
    assert User.objects.get(username="bob").check_password("a brand new passphrase")


def test_password_reset_emails_a_link_that_sets_a_new_password(client):
    make_user("bob", email="bob@example.com", display_name="Bob B.")
    response = client.post("/accounts/password_reset/", {"email": "bob@example.com"}, follow=True)
    assert "<h1>Check your email</h1>" in response.content.decode()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "Reset your Companion password" and "Hello Bob B.," in message.body
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", message.body).group(1)
    response = client.get(link, follow=True)
    assert "<h1>Choose a new password</h1>" in response.content.decode()
    response = client.post(response.redirect_chain[-1][0], {
        "new_password1": "a brand new passphrase", "new_password2": "a brand new passphrase",
    }, follow=True)
    assert "<h1>Password set</h1>" in response.content.decode()
    assert User.objects.get(username="bob").check_password("a brand new passphrase")


def test_a_used_or_forged_reset_link_says_so(client):
    html = client.get("/accounts/reset/MQ/set-password/", follow=True).content.decode()
    assert "<h1>This link no longer works</h1>" in html


def test_password_reset_for_an_unknown_address_reveals_nothing(client):
    response = client.post("/accounts/password_reset/", {"email": "nobody@example.com"}, follow=True)
    assert "<h1>Check your email</h1>" in response.content.decode()
    assert mail.outbox == []
