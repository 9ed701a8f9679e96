"""信易贷 portal pages (namespace "financing_portal"), mounted at /financing/."""

from django.urls import path

from pubcredit.portal import financing_pages

app_name = "financing_portal"
urlpatterns = [
    path("", financing_pages.products, name="products"),
    path("enterprise/", financing_pages.enterprise, name="enterprise"),
]
