"""The language choice is saved on the account and follows the user to another browser."""

from django.test import Client


def test_switching_language_saves_it_and_a_new_browser_uses_it(personas, client_for):
    user = personas.sales1
    client = client_for(user)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.language == "en"
    other = Client()  # no language cookie
    other.force_login(user, backend="marketdesk.core.auth.UsernameOrMobileBackend")
    page = other.get("/")
    assert page.status_code == 200
    assert '<html lang="en">' in page.content.decode()


def test_an_unknown_language_is_ignored(personas, client_for):
    client = client_for(personas.sales1)
    client.post("/i18n/setlang/", {"language": "xx", "next": "/"})
    personas.sales1.refresh_from_db()
    assert personas.sales1.language == ""
