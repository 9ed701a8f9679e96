from django.urls import include, path

from pubcredit.console import subject_views, views

app_name = "console"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("subjects/", subject_views.subject_search, name="subject_search"),
    path("subjects/<int:pk>/", subject_views.subject_detail, name="subject_detail"),
    # Aggregation (归集): upload, mapping, submissions, review queue (pubcredit.intake.views).
    path("intake/", include("pubcredit.intake.urls")),
]
