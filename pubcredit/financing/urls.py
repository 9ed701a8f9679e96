"""信易贷 console pages (namespace "financing"), mounted at /console/financing/."""

from django.urls import path

from pubcredit.financing import views

app_name = "financing"
urlpatterns = [
    path("demands/", views.demands, name="demands"),
    path("demands/<int:pk>/", views.demand, name="demand"),
    path("bindings/", views.bindings, name="bindings"),
    path("statistics/", views.statistics, name="statistics"),
]
