from django.urls import include, path

from pubcredit.console import subject_views, views
from pubcredit.portal import console_views as news_views

app_name = "console"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    # 信用大数据可视化: the control room's big screen and the figures it refreshes every minute.
    path("screen/", views.screen, name="screen"),
    path("screen/data.json", views.screen_data, name="screen_data"),
    path("subjects/", subject_views.subject_search, name="subject_search"),
    path("subjects/<int:pk>/", subject_views.subject_detail, name="subject_detail"),
    # Aggregation (归集): upload, mapping, submissions, review queue (pubcredit.intake.views).
    path("intake/", include("pubcredit.intake.urls")),
    # Credit checks (信用核查): window, results, batches, notifications, statistics.
    path("checks/", include("pubcredit.checks.urls")),
    path("lists/", include("pubcredit.lists.urls")),
    # Reporting reminders (报送提醒) of the bulletins: pubcredit.bulletins.reminder_views.
    path("reminders/", include("pubcredit.bulletins.reminder_urls")),
    # Credit commitments (信用承诺): register, fulfilment assessment.
    path("commitments/", include("pubcredit.commitments.urls")),
    # Credit repair (信用修复), objections (异议) and repair training: queues, decisions, statistics.
    path("repair/", include("pubcredit.repair.urls")),
    # Aggregation bulletins (归集情况通报): issued and live, the rows behind every figure.
    path("bulletins/", include("pubcredit.bulletins.urls")),
    # Portal news (信用动态, 政策法规, 通知公告): pubcredit.portal.console_views.
    path("news/", news_views.news_list, name="news_list"),
    path("news/new/", news_views.news_create, name="news_create"),
    path("news/<int:pk>/", news_views.news_edit, name="news_edit"),
    path("news/<int:pk>/publish/", news_views.news_publish, name="news_publish"),
    path("news/<int:pk>/withdraw/", news_views.news_withdraw, name="news_withdraw"),
]
