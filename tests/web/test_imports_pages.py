"""The imports page end to end: an owner uploads a Plausible export (the body streamed to
the data dir), the server's job runner imports it while the JSON list reports progress,
the page lists its days and rows, the dashboard's query adds it, and delete removes it.
Bad uploads get a 4xx naming the problem and leave no file; a refused import's message
is shown in the reader's language."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from jetrack.config import Settings
from jetrack.imports.registry import IMPORTS_FOLDER
from tests.imports import plausible_export as export
from tests.web.test_goals_page import as_role, post
from tests.web.world import World

API = "/api/sites/acme.example/imports"
PAGE = "/sites/acme.example/imports"


def wait_until_over(client: TestClient) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        imports: list[dict[str, Any]] = client.get(API).json()["imports"]
        if imports and all(i["status"] in ("done", "failed") for i in imports):
            return imports
        time.sleep(0.2)
    raise AssertionError(f"the import did not finish in 60 s: {imports}")


def test_upload_import_list_query_delete(
    client: TestClient, world: World, settings: Settings, tmp_path: Path
) -> None:
    csrf = as_role(client, world, "owner")
    folder = settings.data_dir / IMPORTS_FOLDER
    data = export.write_export(tmp_path / "export.zip").read_bytes()
    headers = {"X-CSRF-Token": csrf}

    # Refusals first: each names what is wrong, and no file stays behind.
    no_token = client.post(f"{API}?kind=plausible&name=e.zip", content=data)
    assert no_token.status_code == 403
    bad_kind = client.post(f"{API}?kind=ga4&name=e.zip", content=data, headers=headers)
    assert bad_kind.status_code == 400 and "kind: one of plausible" in bad_kind.json()["error"]
    no_name = client.post(f"{API}?kind=plausible", content=data, headers=headers)
    assert no_name.status_code == 400 and no_name.json()["error"].startswith("name:")
    empty = client.post(f"{API}?kind=plausible&name=e.zip", content=b"", headers=headers)
    assert empty.status_code == 400 and empty.json()["error"].startswith("body: empty")
    huge = client.post(
        f"{API}?kind=plausible&name=e.zip",
        content=data,
        headers={**headers, "Content-Length": str(600 * 1024 * 1024)},
    )
    assert huge.status_code == 413
    assert not any(folder.iterdir()) if folder.exists() else True

    sent = client.post(f"{API}?kind=plausible&name=../../my%20export.zip", content=data,
                       headers=headers)  # fmt: skip
    assert sent.status_code == 201, sent.text
    assert sent.json()["bytes"] == len(data)
    (done,) = wait_until_over(client)
    assert done["status"] == "done", done["error"]
    assert (done["source"], done["percent"]) == ("my_export.zip", 100)
    assert (done["first_day"], done["last_day"]) == (str(export.FIRST), str(export.LAST))
    assert list(folder.iterdir()) == []  # the uploaded file is gone once imported

    page = client.get(PAGE)
    assert page.status_code == 200
    assert "Plausible (CSV export)" in page.text and str(export.FIRST) in page.text
    assert f"<span data-rows>{done['rows']}</span>" in page.text
    query = {"metrics": ["visitors"], "date_range": [str(export.FIRST), str(export.LAST)],
             "include": {"imports": True}}  # fmt: skip
    answer = client.post("/api/dashboard/acme.example/query", json=query, headers=headers)
    assert answer.json()["results"][0]["metrics"] == [export.VISITORS * export.DAYS]
    # The dashboard offers its Imported data switch only for a site with imports.
    assert '"imports": true' in client.get("/sites/acme.example").text

    # A guest editor may edit the site but not import into it.
    editor = as_role(client, world, "guest_editor")
    assert client.get(PAGE).status_code == 404
    as_role(client, world, "owner")
    deleted = post(client, f"{PAGE}/{done['id']}/delete", csrf)
    assert deleted.status_code == 303 and deleted.headers["location"].endswith("import-deleted")
    assert client.get(API).json() == {"imports": []}
    answer = client.post("/api/dashboard/acme.example/query", json=query, headers=headers)
    assert answer.json()["results"][0]["metrics"] == [0]
    assert answer.json()["meta"]["imports_skip_reason"] == "no_imported_data"
    assert '"imports": false' in client.get("/sites/acme.example").text
    assert post(client, f"{PAGE}/{done['id']}/delete", csrf).status_code == 404
    assert editor

    # A refused import's message, stored in English, is shown in the reader's language.
    notes = client.post(f"{API}?kind=plausible&name=notes.zip", content=b"hello", headers=headers)
    assert notes.status_code == 201, notes.text
    (failed,) = wait_until_over(client)
    assert failed["error"].startswith("no Plausible export file found"), failed
    german = {"Accept-Language": "de"}
    assert (
        client.get(API, headers=german)
        .json()["imports"][0]["error"]
        .startswith("Keine Plausible-Exportdatei gefunden")
    )
    assert "Keine Plausible-Exportdatei gefunden" in client.get(PAGE, headers=german).text
