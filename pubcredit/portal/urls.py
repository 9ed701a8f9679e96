from django.urls import path

from pubcredit.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    # Sections still under construction; replace the view when the section is built.
    path("news/", views.section, {"section": "news"}, name="news"),
    path("policies/", views.section, {"section": "policies"}, name="policies"),
    path("disclosure/", views.section, {"section": "disclosure"}, name="disclosure"),
    path("measures/", views.section, {"section": "measures"}, name="measures"),
    path("services/", views.section, {"section": "services"}, name="services"),
]
