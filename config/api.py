from ninja import NinjaAPI

from complaints.api import router as staff_router
from core.api_errors import install
from intake.api import router as public_router

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
