"""Console pages of the repair app, included under /console/repair/ (namespace "console:repair")."""

from django.urls import path

from pubcredit.repair import views

app_name = "repair"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("applications/<int:pk>/", views.application_detail, name="application"),
    path("applications/<int:pk>/letter.pdf", views.application_letter, name="application_letter"),
    path("objections/<int:pk>/", views.objection_detail, name="objection"),
    path("objections/<int:pk>/letter.pdf", views.objection_letter, name="objection_letter"),
    path("materials/<int:pk>/", views.material, name="material"),
    path("records/<int:record_id>/notice.pdf", views.notice, name="notice"),
    path("training/", views.training, name="training"),
    path("training/<int:pk>/", views.session_detail, name="session"),
    path("training/registrations/<int:pk>/certificate.pdf", views.certificate, name="certificate"),
    path("stats/", views.stats, name="stats"),
]
