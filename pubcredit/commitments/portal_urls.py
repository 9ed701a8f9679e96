"""Public pages of the commitments app, included under the portal (namespace "portal:commitments")."""

from django.urls import path
from django.views.generic import RedirectView

from pubcredit.commitments import portal_views

app_name = "commitments"
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="portal:commitments:sign"), name="index"),
    path("sign/", portal_views.sign, name="sign"),
    path("signed/<str:token>/", portal_views.signed, name="signed"),
    path("letters/<str:token>/", portal_views.letter, name="letter"),
]
