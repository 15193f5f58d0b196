"""Imports that accept what HR has (issue 29 item 5): the practitioner role by the framework's
own word (`keyworker`, any case, or its role label) with `practitioner` kept, and CSV files as
Excel saves them: UTF-8, UTF-8 with a byte-order mark, and Windows-1252 ("CSV (Comma
delimited)"), the preview saying which it read."""

from __future__ import annotations

import io
import re

import pytest

from competency_app.accounts import services as accounts
from competency_app.accounts.models import Role
from competency_app.exports import imports
from competency_app.framework.services import current_words
from tests.conftest import csrf_from, sign_in
from tests.exports.test_workbooks import validated_team  # noqa: F401 - a fixture
from tests.factories import PASSWORD

HEADER = "name,email,role,team,supervisor\n"


def _preview(client, content: bytes, filename: str = "staff.csv"):
    token = csrf_from(client.get("/admin/imports").get_data(as_text=True))
    response = client.post(
        "/admin/imports/preview",
        data={"csrf_token": token, "kind": "roster", "file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )
    return token, response


def _apply(client, token: str, response) -> None:
    pending = re.search(r'name="token" value="([^"]+)"', response.get_data(as_text=True))
    assert pending, response.get_data(as_text=True)
    done = client.post("/admin/imports/apply", data={"csrf_token": token, "token": pending[1]})
    assert done.status_code == 200


@pytest.mark.parametrize(
    "role", ["keyworker", "Keyworker", "KEYWORKER", "Keyworker (practitioner)", "practitioner"]
)
def test_the_practitioner_role_by_the_pages_word(app, client, validated_team, role):  # noqa: F811
    with app.app_context():
        assert current_words().practitioner == "keyworker"  # the keyworking file's word
    sign_in(client, "hana.hr@example.nhs.uk", PASSWORD)
    row = f"Ana Able,ana@example.nhs.uk,{role},north,\n"
    token, response = _preview(client, (HEADER + row).encode())
    assert response.status_code == 200, response.get_data(as_text=True)
    _apply(client, token, response)
    with app.app_context():
        assert accounts.user_by_email("ana@example.nhs.uk").role_set == {Role.PRACTITIONER}


def test_an_unknown_role_lists_the_words_the_pages_use(app, client, validated_team):  # noqa: F811
    sign_in(client, "hana.hr@example.nhs.uk", PASSWORD)
    _token, response = _preview(
        client, (HEADER + "Ana,ana@example.nhs.uk,wizard,north,\n").encode()
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Row 2, column role: use one or more of: keyworker" in html


@pytest.mark.parametrize(
    ("encode", "said"),
    [
        (lambda text: text.encode("cp1252"), "Windows-1252"),
        (lambda text: text.encode("utf-8"), "read as UTF-8"),
        (lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"), "byte-order mark"),
    ],
)
def test_csv_as_excel_saves_it(app, client, validated_team, encode, said):  # noqa: F811
    sign_in(client, "hana.hr@example.nhs.uk", PASSWORD)
    content = encode(HEADER + "Zoë Brontë,zoe.bronte@example.nhs.uk,keyworker,north,\n")
    token, response = _preview(client, content)
    assert response.status_code == 200, response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    assert said in html
    _apply(client, token, response)
    with app.app_context():
        assert accounts.user_by_email("zoe.bronte@example.nhs.uk").name == "Zoë Brontë"


def test_decode_csv_prefers_utf8_and_refuses_what_is_neither():
    assert imports.decode_csv("Zoë".encode()) == ("Zoë", "utf-8")
    assert imports.decode_csv(b"\xef\xbb\xbfZo\xc3\xab") == ("Zoë", "utf-8-sig")
    assert imports.decode_csv(b"Zo\xeb") == ("Zoë", "cp1252")
    with pytest.raises(imports.ImportFileError, match="neither UTF-8 nor Windows-1252"):
        imports.decode_csv(b"Zo\x81")  # a byte Windows-1252 leaves undefined
