from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from pubcredit.api import api

admin.site.site_header = "公共信用信息平台 管理后台"
admin.site.site_title = "公共信用信息平台"
admin.site.index_title = "平台管理"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    # Credit evaluation (信用评价明细): pubcredit.scoring.views, reached from checks and subjects.
    path("console/scoring/", include("pubcredit.scoring.urls")),
    # 分级分类监管 lists (pubcredit.scoring.supervision_views), in the console's navigation.
    path("console/supervision/", include("pubcredit.scoring.supervision_urls")),
    # Credit reports (信用报告): issue at the window, batches (pubcredit.reports.views).
    path("console/reports/", include("pubcredit.reports.urls")),
    # 信易贷 (pubcredit.financing.views): institutions' demands and profiles, the centre's reviews.
    path("console/financing/", include("pubcredit.financing.urls")),
    # 信息共享 statistics (pubcredit.sharing.views), in the console's navigation.
    path("console/sharing/", include("pubcredit.sharing.urls")),
    path("console/", include("pubcredit.console.urls")),
    # 信易贷 on the portal: products, statistics, the enterprise's own page.
    path("financing/", include("pubcredit.portal.financing_urls")),
    path("", include("pubcredit.portal.urls")),
]
