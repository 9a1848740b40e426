from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import JsonResponse


def json_response(data: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(
        data, status=status, safe=False, encoder=DjangoJSONEncoder, json_dumps_params={"ensure_ascii": False}
    )


def server_error(request: Any) -> Any:
    """Django's handler500: the API answers in its own JSON shape (core/api_errors), also for an error
    raised before a view ran (middleware, a database gone mid-request); pages keep Django's page. A
    database that went away is 503 with Retry-After, as the API's own handler answers it."""
    import sys

    from django.db import InterfaceError, OperationalError
    from django.utils.translation import gettext as _
    from django.views.defaults import server_error as page

    if not request.path.startswith("/api/"):
        return page(request)
    error = sys.exc_info()[1]
    if isinstance(error, OperationalError | InterfaceError):
        response = JsonResponse({"error": "unavailable", "message": _("服务暂时不可用，请稍后重试。")}, status=503)
        response["Retry-After"] = "5"
        return response
    return JsonResponse({"error": "server_error", "message": _("服务器内部错误。")}, status=500)
