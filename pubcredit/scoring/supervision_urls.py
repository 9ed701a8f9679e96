"""Console pages of 分级分类监管, mounted under /console/supervision/ (namespace "supervision")."""

from django.urls import path

from pubcredit.scoring import supervision_views

app_name = "supervision"
urlpatterns = [
    path("", supervision_views.supervision_list, name="list"),
    path("download.xlsx", supervision_views.supervision_download, name="download"),
]
