"""The project's URLs plus one view that fails, to exercise the 500 page."""

from django.urls import path

from pubcredit.urls import urlpatterns as project_urlpatterns


def boom(request):
    raise RuntimeError("deliberate failure for the 500 page test")


urlpatterns = [path("boom/", boom), *project_urlpatterns]
