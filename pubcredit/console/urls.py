from django.urls import path

from pubcredit.console import subject_views, views

app_name = "console"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("subjects/", subject_views.subject_search, name="subject_search"),
    path("subjects/<int:pk>/", subject_views.subject_detail, name="subject_detail"),
]
