"""Every kind of page in a real browser: no CSP violation, no console error, nothing broken."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = [
    "/",
    "/episodes/138-the-great-purges/",
    "/episodes/138-the-great-purges/?t=600",
    "/episodes/138-the-great-purges/notes/",
    "/glossary/",
    "/glossary/?q=trial",
    "/glossary/nkvd/",
    "/people/",
    "/people/nikolai-yezhov/",
    "/sources/",
    "/sources/khlevniuk-stalin-new-biography/",
    "/search/?q=Ezhov",
    "/search/?q=purged&group=moments",
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password_reset/",
]


def test_every_page_loads_under_the_csp_without_errors(site, page):
    violations = []
    page.expose_function("reportViolation", lambda text: violations.append(text))
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', "
        "e => window.reportViolation(e.violatedDirective + ' ' + e.blockedURI))"
    )
    for url in PAGES:
        response = page.goto(site + url)
        assert response.status == 200, url
        page.wait_for_load_state("networkidle")
        assert page.locator("main h1").count() >= 1, url
    assert violations == []
