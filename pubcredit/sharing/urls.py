"""Console pages of 信息共享, mounted under /console/sharing/ (namespace "sharing")."""

from django.urls import path

from pubcredit.sharing import views

app_name = "sharing"
urlpatterns = [path("", views.statistics, name="statistics")]
