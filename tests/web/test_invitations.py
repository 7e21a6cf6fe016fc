"""Invitations by email: team members and site guests, accepted from the mailed link."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.web.conftest import PASSWORD, Inbox, csrf_of, log_in, sign_up_verified


def _team_id(client: TestClient) -> str:
    import re

    found = re.search(r'href="/teams/(\d+)"', client.get("/teams").text)
    assert found is not None
    return found.group(1)


@pytest.mark.slow
def test_invite_new_person_to_team_signs_up_from_the_mail(client: TestClient, inbox: Inbox) -> None:
    sign_up_verified(client, inbox, "ada@example.com", "Ada")
    client.post(
        "/sites/new",
        data={"domain": "example.com", "timezone": "UTC", "csrf_token": csrf_of(client)},
    )
    team = _team_id(client)
    bad = client.post(
        f"/teams/{team}/invitations",
        data={"email": "bob@", "role": "viewer", "csrf_token": csrf_of(client)},
    )
    assert bad.status_code == 400 and "must be an email address" in bad.text
    sent = client.post(
        f"/teams/{team}/invitations",
        data={"email": "bob@example.com", "role": "admin", "csrf_token": csrf_of(client)},
    )
    assert sent.status_code == 303
    mail = inbox.last_to("bob@example.com")
    assert mail["Subject"] == "You are invited to Jetrack"
    assert '"Ada" invited you' in inbox.text(mail) and "as admin" in inbox.text(mail)
    # No account at that address: the mail is in the inviter's language (their page's).
    client.post(
        f"/teams/{team}/invitations",
        data={"email": "eve@example.com", "role": "viewer", "csrf_token": csrf_of(client)},
        headers={"Accept-Language": "fr-FR"},
    )
    french = inbox.last_to("eve@example.com")
    assert french["Subject"] == "Vous êtes invité sur Jetrack"
    assert "vous a invité dans l'équipe" in inbox.text(french)
    assert '<html lang="fr">' in inbox.html(french)
    path = inbox.link("bob@example.com", "/invitations/")
    bob = TestClient(client.app, follow_redirects=False)
    page = bob.get(path)
    assert page.status_code == 200 and "Create an account" in page.text
    token = path.rsplit("/", 1)[1]
    wrong = bob.post(
        "/signup",
        data={
            "name": "Bob",
            "email": "mallory@example.com",
            "password": PASSWORD,
            "age": "1",
            "invitation": token,
        },
    )
    assert wrong.status_code == 400 and "the invitation was sent to" in wrong.text
    joined = bob.post(
        "/signup",
        data={
            "name": "Bob",
            "email": "bob@example.com",
            "password": PASSWORD,
            "age": "1",
            "invitation": token,
        },
    )
    assert joined.status_code == 303 and joined.headers["location"] == "/sites?notice=joined"
    assert [s["domain"] for s in bob.get("/api/sites").json()["sites"]] == ["example.com"]
    assert bob.get("/sites/example.com/settings").status_code == 200  # admin
    assert bob.get("/sites/example.com/delete").status_code == 404  # owners only
    # The link is spent.
    again = TestClient(client.app, follow_redirects=False).get(path)
    assert again.status_code == 400 and "already accepted" in again.text


def test_invite_existing_account_as_site_guest_and_revoke(client: TestClient, inbox: Inbox) -> None:
    sign_up_verified(client, inbox, "ada@example.com", "Ada")
    client.post(
        "/sites/new",
        data={"domain": "example.com", "timezone": "UTC", "csrf_token": csrf_of(client)},
    )
    bob = TestClient(client.app, follow_redirects=False)
    sign_up_verified(bob, inbox, "bob@example.com", "Bob")
    assert bob.get("/sites/example.com/settings").status_code == 404
    bob.post("/account/language", data={"language": "de", "csrf_token": csrf_of(bob)})
    client.post(
        "/sites/example.com/guests",
        data={"email": "bob@example.com", "role": "viewer", "csrf_token": csrf_of(client)},
        headers={"Accept-Language": "fr"},
    )
    # Bob's account chose German: his invitation is in German, whatever Ada's page is in.
    german = inbox.last_to("bob@example.com")
    assert german["Subject"] == "Sie sind zu Jetrack eingeladen"
    text = inbox.text(german)
    assert (
        '"Ada" hat Sie zur Website "example[.]com" auf Jetrack eingeladen, als Gast-Betrachter.'
        in text
    )
    assert "Die Einladung läuft in 7 Tagen ab." in text and "Einladung annehmen" in inbox.html(
        german
    )
    path = inbox.link("bob@example.com", "/invitations/")
    # Someone else signed in cannot take it.
    carol = TestClient(client.app, follow_redirects=False)
    sign_up_verified(carol, inbox, "carol@example.com", "Carol")
    taken = carol.post(path + "/accept", data={"csrf_token": csrf_of(carol)})
    assert taken.status_code == 400 and "another email address" in taken.text
    assert bob.post(path + "/accept", data={"csrf_token": csrf_of(bob)}).status_code == 303
    assert [s["domain"] for s in bob.get("/api/sites").json()["sites"]] == ["example.com"]
    assert bob.get("/sites/example.com/settings").status_code == 404  # guest viewer: stats only
    access = client.get("/sites/example.com/access").text
    assert "bob@example.com" in access
    import re

    guest_id = re.search(r"/guests/(\d+)/remove", access)
    assert guest_id is not None
    client.post(
        f"/sites/example.com/guests/{guest_id.group(1)}/remove",
        data={"csrf_token": csrf_of(client)},
    )
    assert bob.get("/api/sites").json()["sites"] == []


def test_last_owner_cannot_leave_and_admin_cannot_touch_owners(
    client: TestClient, inbox: Inbox
) -> None:
    sign_up_verified(client, inbox, "ada@example.com", "Ada")
    team = _team_id(client)
    client.post(
        f"/teams/{team}/invitations",
        data={"email": "bob@example.com", "role": "admin", "csrf_token": csrf_of(client)},
    )
    bob = TestClient(client.app, follow_redirects=False)
    token = inbox.link("bob@example.com", "/invitations/").rsplit("/", 1)[1]
    bob.post(
        "/signup",
        data={
            "name": "Bob",
            "email": "bob@example.com",
            "password": PASSWORD,
            "age": "1",
            "invitation": token,
        },
    )
    import re

    ada_id = re.search(r"/members/(\d+)/role", client.get(f"/teams/{team}").text)
    assert ada_id is not None
    demote = client.post(
        f"/teams/{team}/members/{ada_id.group(1)}/role",
        data={"role": "viewer", "csrf_token": csrf_of(client)},
    )
    assert demote.status_code == 400 and "at least one owner" in demote.text
    by_admin = bob.post(
        f"/teams/{team}/members/{ada_id.group(1)}/remove", data={"csrf_token": csrf_of(bob)}
    )
    assert by_admin.status_code == 400 and "only an owner" in by_admin.text
    promote = bob.post(
        f"/teams/{team}/invitations",
        data={"email": "eve@example.com", "role": "owner", "csrf_token": csrf_of(bob)},
    )
    assert promote.status_code == 400 and "only an owner" in promote.text
    assert log_in is not None


def test_an_invitation_token_tells_nothing_about_other_addresses(
    client: TestClient, inbox: Inbox
) -> None:
    sign_up_verified(client, inbox, "ada@example.com", "Ada")
    sent = client.post(
        f"/teams/{_team_id(client)}/invitations",
        data={"email": "bob@example.com", "role": "viewer", "csrf_token": csrf_of(client)},
    )
    assert sent.status_code == 303
    token = inbox.link("bob@example.com", "/invitations/").rsplit("/", 1)[1]
    mallory = TestClient(client.app, follow_redirects=False)
    answers = []
    for email in ("ada@example.com", "nobody@example.com"):  # an account, and none
        answer = mallory.post(
            "/signup",
            data={
                "name": "M",
                "email": email,
                "password": PASSWORD,
                "age": "1",
                "invitation": token,
            },
        )
        answers.append((answer.status_code, answer.text.replace(email, "EMAIL")))
    assert answers[0] == answers[1]
    assert answers[0][0] == 400 and "the invitation was sent to" in answers[0][1]
    assert len(inbox.to("ada@example.com")) == 1  # no "account exists" mail either
