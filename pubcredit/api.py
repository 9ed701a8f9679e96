"""The JSON API under /api/v1/ (django-ninja). Each app contributes a router from its api.py;
the error shape, its handlers and the health check come from `pubcredit.apibase` (shared with
the check server, `pubcredit.urls_checks`)."""

from pubcredit.accounts.api import ApiKeyAuth, SessionPrincipalAuth
from pubcredit.accounts.api import router as accounts_router
from pubcredit.apibase import make_api
from pubcredit.bulletins.reminder_api import router as reminders_router
from pubcredit.catalog.api import router as catalog_router
from pubcredit.checks.api import router as checks_router
from pubcredit.commitments.api import router as commitments_router
from pubcredit.financing.api import router as financing_router
from pubcredit.intake.api import router as intake_router
from pubcredit.lists.api import router as lists_router
from pubcredit.measures.api import router as measures_router
from pubcredit.portal.api import router as public_router
from pubcredit.publicity.api import router as publicity_router
from pubcredit.repair.api import objections_router, repairs_router
from pubcredit.reports.api import router as reports_router
from pubcredit.scoring.api import router as scoring_router
from pubcredit.sharing.api import router as sharing_router
from pubcredit.subjects.api import router as subjects_router

api = make_api(auth=[ApiKeyAuth(), SessionPrincipalAuth()])

api.add_router("/accounts", accounts_router)
api.add_router("/catalog", catalog_router)
api.add_router("/checks", checks_router)
api.add_router("/commitments", commitments_router)
api.add_router("/financing", financing_router)
# Aggregation: /api/v1/submissions… and /api/v1/records (paths fixed by the exchange contract).
api.add_router("", intake_router)
api.add_router("", publicity_router)
api.add_router("/lists", lists_router)
api.add_router("/measures", measures_router)
api.add_router("/public", public_router)
api.add_router("/reminders", reminders_router)
api.add_router("/reports", reports_router)
api.add_router("/repairs", repairs_router)
api.add_router("/objections", objections_router)
api.add_router("/scoring", scoring_router)
api.add_router("/sharing", sharing_router)
api.add_router("/subjects", subjects_router)
