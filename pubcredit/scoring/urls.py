"""Console pages of credit evaluation, included under /console/scoring/ (namespace "scoring")."""

from django.urls import path

from pubcredit.scoring import views

app_name = "scoring"
urlpatterns = [
    path("subjects/<int:subject_id>/", views.explain, name="explain"),
]
