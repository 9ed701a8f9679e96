"""Console pages of credit lists, included under /console/lists/ (namespace "console:lists")."""

from django.urls import path

from pubcredit.lists import views

app_name = "lists"
urlpatterns = [
    path("", views.entry_list, name="entry_list"),
    path("identify/", views.identify, name="identify"),
    path("<int:pk>/", views.entry_detail, name="entry_detail"),
    path("<int:pk>/remove/", views.entry_remove, name="entry_remove"),
    path("<int:pk>/documents/<int:doc_pk>/", views.document_download, name="document_download"),
]
