"""A staff user resets a forgotten password through a link mailed over real SMTP on loopback."""

import re

from django.test import Client


def test_password_reset_by_mail(cast, smtp_server):
    cast.agent.email = "agent@example.com"
    cast.agent.save(update_fields=["email"])
    client = Client()
    assert client.post("/staff/password/reset/", {"email": "agent@example.com"}).status_code == 302
    [message] = smtp_server.messages
    link = re.search(r"https?://[^/]+(/staff/password/reset/\S+/)", message.get_content()).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200
    done = client.post(
        form.request["PATH_INFO"], {"new_password1": "Neu-Passwort-2026!", "new_password2": "Neu-Passwort-2026!"}
    )
    assert done.status_code == 302
    assert Client().post("/staff/login/", {"username": "agent", "password": "Neu-Passwort-2026!"}).status_code == 302


def test_unknown_address_gets_the_same_answer_and_no_mail(cast, smtp_server):
    assert Client().post("/staff/password/reset/", {"email": "nobody@example.com"}).status_code == 302
    assert smtp_server.messages == []
