from ninja import NinjaAPI

from casework.api import router as casework_router
from complaints.api import router as staff_router
from complaints.api_duplicates import router as duplicates_router
from core.api_errors import install
from dossier.api import router as dossier_router
from evidence.api import public_router as evidence_public_router
from evidence.api import router as evidence_router
from intake.api import router as public_router
from intake.webhooks import router as webhook_router
from intelligence.api import router as intelligence_router
from investigation.api import router as investigation_router
from resolutions.api import router as remedies_router

api = NinjaAPI(
    title="ComplaintDesk API",
    version="1",
    description="Complaint handling by the ISO 10002 process. Public intake and the consumer's own case; "
    "staff endpoints with token (Authorization: Bearer) or session auth.",
    urls_namespace="api",
)
install(api)
api.add_router("/", public_router)
api.add_router("/", staff_router)
api.add_router("/", duplicates_router)
api.add_router("/", evidence_router)
api.add_router("/", evidence_public_router)
api.add_router("/", remedies_router)
api.add_router("/", webhook_router)
api.add_router("/", intelligence_router)
api.add_router("/", "intelligence.api_trends.router")
api.add_router("/", casework_router)
api.add_router("/", investigation_router)
api.add_router("/", dossier_router)
# --- issue 6 apps (each app edits only its own line) ---
api.add_router("/", "notifications.api.router")
api.add_router("/", "feedback.api.router")
api.add_router("/", "customers.api.router")
api.add_router("/", "privacy.api.router")
# --- end issue 6 apps ---
# --- issue 8 apps (each app edits only its own line) ---
api.add_router("/", "analytics.api.router")
api.add_router("/", "reports.api.router")
api.add_router("/", "improvement.api.router")
api.add_router("/", "risk.api.router")
# --- end issue 8 apps ---
