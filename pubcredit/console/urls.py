from django.urls import path

from pubcredit.console import views

app_name = "console"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
