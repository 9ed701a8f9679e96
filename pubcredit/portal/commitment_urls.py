"""The commitments app's public pages, served by the portal (namespace "portal:commitments")."""

from django.urls import path
from django.views.generic import RedirectView

from pubcredit.portal import commitment_pages as portal_views

app_name = "commitments"
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="portal:commitments:sign"), name="index"),
    path("sign/", portal_views.sign, name="sign"),
    path("submitted/<str:token>/", portal_views.submitted, name="submitted"),
    path("signed/<str:token>/", portal_views.signed, name="signed"),
    path("letters/<str:token>/", portal_views.letter, name="letter"),
]
