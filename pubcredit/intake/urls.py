"""Console pages of aggregation (归集), included under /console/intake/ (namespace
"console:intake")."""

from django.urls import path

from pubcredit.intake import views

app_name = "intake"
urlpatterns = [
    path("", views.submission_list, name="submission_list"),
    path("upload/", views.upload, name="upload"),
    path("upload/<str:token>/mapping/", views.mapping, name="mapping"),
    path("submissions/<int:pk>/", views.submission_detail, name="submission_detail"),
    path("submissions/<int:pk>/status/", views.submission_status, name="submission_status"),
    path("submissions/<int:pk>/errors/", views.submission_errors, name="submission_errors"),
    path("submissions/<int:pk>/errors.xlsx", views.errors_xlsx, name="errors_xlsx"),
    path("submissions/<int:pk>/errors.json", views.errors_json, name="errors_json"),
    path("reviews/", views.review_list, name="review_list"),
    path("reviews/<int:pk>/resolve/", views.review_resolve, name="review_resolve"),
    path("reviews/<int:pk>/new-subject/", views.review_new_subject, name="review_new_subject"),
]
