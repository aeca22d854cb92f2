from django.conf import settings
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from episodes.sitemaps import SITEMAPS, robots_txt

from . import views

# A database outage answers 503 + Retry-After instead of a bare 500 (companion/views.py).
handler500 = views.server_error

urlpatterns = [
    path(settings.ADMIN_PATH, admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("robots.txt", robots_txt, name="robots_txt"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("", include("episodes.urls")),
    path("", include("notes.urls")),
    path("", include("timeline.urls")),
    path("", include("alignment.urls")),
    path("", include("suggestions.urls")),
]
