"""Console pages of the commitments app, included under /console/commitments/ (namespace "console:commitments")."""

from django.urls import path

from pubcredit.commitments import views

app_name = "commitments"
urlpatterns = [
    path("", views.commitment_list, name="list"),
    path("<int:pk>/", views.commitment_detail, name="detail"),
    path("<int:pk>/assess/", views.commitment_assess, name="assess"),
    path("<int:pk>/letter/", views.commitment_letter, name="letter"),
    path("requests/<int:pk>/", views.request_detail, name="request"),
    path("requests/<int:pk>/decide/", views.request_decide, name="request_decide"),
]
