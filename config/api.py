from ninja import NinjaAPI

api = NinjaAPI(title="ComplaintDesk API", version="1", urls_namespace="api")
