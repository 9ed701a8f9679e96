"""Console pages of the aggregation bulletins (归集情况通报), included under /console/bulletins/
(namespace "console:bulletins")."""

from django.urls import path

from pubcredit.bulletins import views

app_name = "bulletins"
urlpatterns = [
    path("", views.bulletin_list, name="list"),
    path("issue/", views.bulletin_issue, name="issue"),
    path("<int:pk>/", views.bulletin_detail, name="detail"),
    path("<int:pk>/bulletin.pdf", views.bulletin_pdf, name="pdf"),
    path("<int:pk>/bulletin.xlsx", views.bulletin_xlsx, name="xlsx"),
    path("<int:pk>/departments/<str:code>/", views.bulletin_department, name="department"),
    # Live: composed now from today's statistics (实时数据,未发布).
    path("live/", views.live, name="live_current"),
    path("live/<str:period>/", views.live, name="live"),
    path(
        "live/<str:period>/departments/<str:code>/",
        views.live_department,
        name="live_department",
    ),
    # The rows behind a figure (数据下钻); ?category=CODE, ?bulletin=PK (compare with its figure).
    path("rows/<str:period>/<str:code>/<str:figure>/", views.rows, name="rows"),
    path("rows/<str:period>/<str:code>/<str:figure>.csv", views.rows_csv, name="rows_csv"),
]
