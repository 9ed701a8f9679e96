from django.urls import include, path

from pubcredit.portal import report_pages, verify_pages, views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("subjects/<str:ref>/", views.subject, name="subject"),
    # 信用报告: an organisation's public credit report as a PDF (portal.report_pages).
    path("subjects/<str:ref>/report/", report_pages.subject_report, name="subject_report"),
    # 信用公示: the 双公示 lists (行政许可, 行政处罚) and one record of them.
    path("disclosure/", views.publicity, name="disclosure"),
    path("disclosure/records/<int:pk>/", views.record, name="record"),
    path("news/", views.news_section, {"section": "news"}, name="news"),
    path("notices/", views.news_section, {"section": "notices"}, name="notices"),
    path("policies/", views.news_section, {"section": "policies"}, name="policies"),
    path("articles/<int:pk>/", views.article, name="article"),
    # 信用服务: credit commitments (信用承诺), credit repair (信用修复) and objections (异议).
    path("commitments/", include("pubcredit.portal.commitment_urls")),
    path("repair/", include("pubcredit.portal.repair_urls")),
    # 联合奖惩: the red and black lists in force and the catalogue of measures.
    path("measures/", views.joint_overview, name="measures"),
    path("measures/lists/<str:code>/", views.list_entries, name="list_entries"),
    path("measures/catalogue/", views.measure_catalogue, name="measure_catalogue"),
    path("services/", views.credit_services, name="services"),
    # 报告核验: /verify/<number> is printed (and QR-coded) on every credit report: no slash.
    path("verify/", verify_pages.index, name="verify_index"),
    path("verify/<str:number>", verify_pages.report, name="verify"),
    path("verify/<str:number>/", verify_pages.slashed, name="verify_slashed"),
    path("statistics/", views.public_statistics, name="statistics"),
]
