from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import JsonResponse


def json_response(data: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(
        data, status=status, safe=False, encoder=DjangoJSONEncoder, json_dumps_params={"ensure_ascii": False}
    )
