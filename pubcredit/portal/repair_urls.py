"""The repair app's public pages, served by the portal (namespace "portal:repair")."""

from django.urls import path

from pubcredit.portal import repair_pages as views

app_name = "repair"
urlpatterns = [
    path("", views.index, name="index"),
    path("records/<int:record_id>/apply/", views.apply, name="apply"),
    path("records/<int:record_id>/objection/", views.objection, name="objection"),
    path("submitted/<str:code>/", views.submitted, name="submitted"),
    path("progress/", views.progress, name="progress"),
    path("progress/<str:code>/letter.pdf", views.letter, name="letter"),
    path("progress/<str:code>/withdraw/", views.withdraw, name="withdraw"),
    path("training/", views.training, name="training"),
    path("training/certificate/", views.certificate, name="certificate"),
]
