"""URLs of the reporting reminders' console page, included under /console/reminders/."""

from django.urls import path

from pubcredit.bulletins import reminder_views

app_name = "reminders"
urlpatterns = [
    path("", reminder_views.reminder_list, name="list"),
]
