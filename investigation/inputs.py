"""Posted names → rows, for the API and the HTML forms alike; a refusal names the field."""

from django.utils.translation import gettext as _

from accounts.models import Department, User
from core.errors import ValidationError


def department_by_code(code: str | None, field: str = "department") -> Department | None:
    code = (code or "").strip()
    if not code:
        return None
    department = Department.objects.filter(code=code).first()
    if department is None:
        raise ValidationError(field, _("没有这个部门：%(code)s") % {"code": code[:40]})
    return department


def user_by_name(username: str | None, field: str = "assignee") -> User | None:
    username = (username or "").strip()
    if not username:
        return None
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise ValidationError(field, _("找不到在职员工：%(name)s") % {"name": username[:40]})
    return user
