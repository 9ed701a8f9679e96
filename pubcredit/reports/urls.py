"""Console pages of credit reports, mounted under /console/reports/ (namespace "reports")."""

from django.urls import path

from pubcredit.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.window, name="window"),
    path("<str:number>.pdf", views.download, name="download"),
    path("batches/", views.batches, name="batches"),
    path("batches/<int:pk>/zip/", views.batch_zip, name="batch_zip"),
]
