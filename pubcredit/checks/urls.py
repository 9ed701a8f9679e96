"""Console pages of credit checks, included under /console/checks/ (namespace "console:checks")."""

from django.urls import path

from pubcredit.checks import views

app_name = "checks"
urlpatterns = [
    path("", views.window, name="window"),
    path("<int:pk>/", views.result, name="result"),
    path("<int:pk>/print/", views.print_sheet, name="print"),
    path("<int:pk>/feedback/", views.feedback, name="feedback"),
    path("batches/", views.batches, name="batches"),
    path("batches/<int:pk>/result/", views.batch_download, name="batch_download"),
    path("notifications/", views.notifications, name="notifications"),
    path("stats/", views.stats, name="stats"),
]
