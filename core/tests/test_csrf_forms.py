"""CSRF on every form (issue 9 item 5).

- Every URL pattern of config/urls.py (pages, admin, consumer pages) refuses a POST without the CSRF
  token with 403, for a signed-in staff user who holds the CSRF cookie (what a forged cross-site form
  would send) and for a visitor without one. The exceptions are listed with their reason.
- The API takes its own session auth: every write operation, posted with the session cookie and no
  token, is refused 403 too (a bearer token is not sent by a browser on its own, so needs no check).
- Every `<form method="post">` in every template carries `{% csrf_token %}`, so the legitimate forms
  keep working; a POST with the token gets through (the 403s come from the missing token)."""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404

from accounts.choices import Role
from config.api import api
from conftest import Org, make_user

# URL patterns that take a POST without a CSRF token on purpose, each with the reason.
EXEMPT = {
    # RFC 8058 one-click unsubscribe: mail clients POST "List-Unsubscribe=One-Click" to the link in
    # the mail's header, without a page and so without a token; the signed token in the URL is the key.
    "notifications/unsubscribe/<str:token>/": "one-click unsubscribe (RFC 8058)",
}
# Templates whose POST form has no token, each with the reason (the view is in EXEMPT).
FORMS_WITHOUT_TOKEN = {"notifications/templates/notifications/unsubscribe.html": "one-click unsubscribe (RFC 8058)"}
# Converter → a value that fits it (the CSRF check runs before the view, so no row need exist).
SAMPLES = {
    "int": "1",
    "str": "TS20260101-000001",
    "slug": "x-1",
    "path": "a/b",
    "uuid": "0" * 8 + "-0000-0000-0000-" + "0" * 12,
}
TRACKING = "TS20260101-000001"


def url_patterns(patterns: list[Any] | None = None, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from url_patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def concrete(route: str) -> str:
    """A URL that the route matches: converters filled with fitting values, a regex's alternatives
    reduced to the first one."""
    url = re.sub(r"\(\?P<\w+>([^)]*)\)", lambda m: m.group(1).split("|")[0].replace(".*", "x") or "x", route)
    url = re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: SAMPLES[m.group(1) or "str"], url)
    return "/" + url.replace("^", "").replace("$", "")


def page_routes() -> list[tuple[str, str, URLPattern]]:
    """(route, url, pattern) of every non-API pattern, the URL checked to resolve to that pattern."""
    routes = []
    for route, pattern in url_patterns():
        if route.startswith("api/"):
            continue
        url = concrete(route)
        try:
            match = resolve(url)
        except Resolver404:
            raise AssertionError(f"no URL could be made for {route!r} (tried {url!r})") from None
        assert match.func == pattern.callback or match.route == route, (route, url, match.route)
        routes.append((route, url, pattern))
    return routes


def staff_client(org: Org) -> Client:
    user = make_user(
        "csrf_staff", (Role.SUPERVISOR, org.service), (Role.MANAGER, org.company), (Role.ADMIN, None), is_staff=True
    )
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/staff/")  # the CSRF cookie, as a victim's browser would hold it
    assert settings.CSRF_COOKIE_NAME in client.cookies
    return client


def test_every_page_refuses_a_post_without_the_csrf_token(org):
    staff = staff_client(org)
    visitor = Client(enforce_csrf_checks=True)
    routes = page_routes()
    assert len(routes) > 200, "the URL patterns were not all found"
    let_through = []
    for route, url, pattern in routes:
        if route in EXEMPT:
            assert getattr(pattern.callback, "csrf_exempt", False), f"{route} is listed as exempt but is not"
            continue
        for who, client in (("staff", staff), ("visitor", visitor)):
            response = client.post(url, {"text": "forged", "action": "withdraw"})
            if response.status_code != 403:
                let_through.append(f"{who} POST {url} ({route}): {response.status_code}")
    assert not let_through, "\n".join(let_through)


def test_no_page_is_exempt_from_csrf_without_a_listed_reason():
    exempt = {route for route, _url, pattern in page_routes() if getattr(pattern.callback, "csrf_exempt", False)}
    assert exempt == set(EXEMPT)


def api_writes() -> Iterator[tuple[str, str]]:
    schema = api.get_openapi_schema()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method != "get" and any("StaffSession" in s for s in operation.get("security") or []):
                yield method, re.sub(r"\{(\w+)\}", lambda m: TRACKING if m.group(1) == "tracking_no" else "1", path)


def test_every_api_write_by_session_refuses_a_post_without_the_csrf_token(org):
    staff = staff_client(org)
    writes = list(api_writes())
    assert len(writes) > 50
    let_through = []
    for method, path in writes:
        response = getattr(staff, method)(path, "{}", content_type="application/json")
        if response.status_code != 403:
            let_through.append(f"{method.upper()} {path}: {response.status_code}")
    assert not let_through, "\n".join(let_through)


def test_a_post_with_the_token_gets_through(org):
    """The control: the same client with the token is not refused, so the 403s above are CSRF's."""
    staff = staff_client(org)
    token = staff.cookies[settings.CSRF_COOKIE_NAME].value
    page = staff.post("/i18n/setlang/", {"language": "en", "next": "/staff/", "csrfmiddlewaretoken": token})
    assert page.status_code == 302
    write = staff.post(
        f"/api/v1/complaints/{TRACKING}/notes", "{}", content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert write.status_code not in (401, 403), write.content


def template_files() -> Iterator[Path]:
    roots = [Path(d) for engine in settings.TEMPLATES for d in engine.get("DIRS", [])]
    roots += [p for p in Path(settings.BASE_DIR).glob("*/templates") if p.is_dir()]
    for root in roots:
        yield from sorted(root.rglob("*.html"))


FORM = re.compile(r"<form\b(?P<attrs>[^>]*)>(?P<body>.*?)</form>", re.S | re.I)


def test_every_post_form_in_the_templates_carries_the_csrf_token():
    files = list(template_files())
    assert len(files) > 50
    missing = []
    forms = 0
    for path in files:
        text = path.read_text("utf-8")
        for form in FORM.finditer(text):
            if not re.search(r"method\s*=\s*[\"']?post", form["attrs"], re.I):
                continue
            forms += 1
            if (
                "{% csrf_token %}" not in form["body"]
                and str(path.relative_to(settings.BASE_DIR)) not in FORMS_WITHOUT_TOKEN
            ):
                line = text[: form.start()].count("\n") + 1
                missing.append(f"{path.relative_to(settings.BASE_DIR)}:{line}")
    assert forms > 50, forms
    assert not missing, "POST forms without {% csrf_token %}:\n" + "\n".join(missing)
