"""Spreadsheet uploads are checked against limits before anything parses them.

The two hostile files measured on this product: a 1.5 kB .xlsx whose <dimension> claims
16,384 columns (2.7 GB in a web worker), and a 1 MB .xlsx whose shared strings hold one
1 GB string (2.2 GB in the CLI, MemoryError in a worker). Both are refused with a message
naming the limit, and a process importing either stays far below 300 MB.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
import zipfile

import pytest
from lxml.etree import XMLSyntaxError
from openpyxl.xml import LXML
from openpyxl.xml.functions import fromstring

from competency_app.accounts.models import Role
from competency_app.exports.imports import ROSTER_COLUMNS, ImportFileError, read_rows
from competency_app.exports.upload_limits import UploadLimits
from tests.conftest import csrf_from, sign_in
from tests.factories import PASSWORD, commit, make_user

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
BOOK_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
SST_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
PEAK_RSS_LIMIT_MB = 300


def _parts(sheet_xml: str, shared_strings: bool = False) -> dict[str, bytes]:
    sst_override = (
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SST_TYPE}"/>'
        if shared_strings
        else ""
    )
    sst_rel = (
        f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
        if shared_strings
        else ""
    )
    return {
        "[Content_Types].xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{CT}">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{BOOK_TYPE}"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{SHEET_TYPE}"/>'
            f"{sst_override}</Types>"
        ).encode(),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
            f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ).encode(),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" '
            f'xmlns:r="{REL}"><sheets><sheet name="Staff" sheetId="1" r:id="rId1"/>'
            "</sheets></workbook>"
        ).encode(),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
            f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
            f"{sst_rel}</Relationships>"
        ).encode(),
        "xl/worksheets/sheet1.xml": sheet_xml.encode(),
    }


def _zip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _sheet(rows: str, dimension: str = "A1:E2") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">'
        f'<dimension ref="{dimension}"/><sheetData>{rows}</sheetData></worksheet>'
    )


HEADER_ROW = (
    '<row r="1">'
    + "".join(
        f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{name}</t></is></c>'
        for i, name in enumerate(ROSTER_COLUMNS)
    )
    + "</row>"
)


def dimension_bomb() -> bytes:
    """About 1.5 kB: a header row, one cell on row 20,002, and a <dimension> claiming
    16,384 columns (a reader trusting it pads 20,000 rows to 16,384 cells each)."""
    last = '<row r="20002"><c r="A20002" t="inlineStr"><is><t>x</t></is></c></row>'
    return _zip(_parts(_sheet(HEADER_ROW + last, "A1:XFD20002")))


def shared_strings_bomb(size: int = 1024**3) -> bytes:
    """About 1 MB: the shared strings hold one string of `size` bytes (deflated)."""
    parts = _parts(_sheet('<row r="1"><c r="A1" t="s"><v>0</v></c></row>'), shared_strings=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            part.write(f'<sst xmlns="{MAIN}" count="1" uniqueCount="1"><si><t>'.encode())
            block = b"A" * (1024 * 1024)
            for _ in range(size // len(block)):
                part.write(block)
            part.write(b"</t></si></sst>")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def string_bomb() -> bytes:
    return shared_strings_bomb()


def _refusal(app, raw: bytes, name: str = "staff.xlsx", limits: UploadLimits | None = None):
    with app.app_context(), pytest.raises(ImportFileError) as refused:
        read_rows(raw, name, ROSTER_COLUMNS, limits)
    return str(refused.value)


def test_the_dimension_bomb_is_refused_naming_the_limit(app):
    raw = dimension_bomb()
    assert len(raw) < 2000
    assert _refusal(app, raw) == (
        "The sheet declares 16,384 columns (A1:XFD20002); the limit is 20 columns."
    )


def test_the_shared_string_bomb_is_refused_naming_the_limit(app, string_bomb):
    assert len(string_bomb) < 1.5 * 1024 * 1024
    assert _refusal(app, string_bomb) == (
        "The part xl/sharedStrings.xml unpacks to 1,024.0 MB; the limit is 100.0 MB."
    )
    # below the size limits, the ratio and the shared-strings limit still hold
    smaller = shared_strings_bomb(50 * 1024 * 1024)
    assert "is compressed" in _refusal(app, smaller) and "the limit is 100 to 1" in _refusal(
        app, smaller
    )
    assert (
        _refusal(app, smaller, limits=UploadLimits(max_compression_ratio=10_000))
        == "The shared strings unpack to 50.0 MB; the limit is 16.0 MB."
    )


@pytest.mark.parametrize("bomb", ["dimension", "strings"])
def test_peak_memory_importing_a_bomb_stays_under_300_mb(app, tmp_path, bomb, string_bomb):
    """The import runs in a fresh process (as a web worker would), capped at 1.5 GB of
    address space so that a regression fails here instead of exhausting the machine."""
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(dimension_bomb() if bomb == "dimension" else string_bomb)
    script = textwrap.dedent(
        f"""
        import json, resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (1536 * 1024 * 1024, 1536 * 1024 * 1024))
        from competency_app import create_app
        from competency_app.exports import imports
        app = create_app("testing", {{"SQLALCHEMY_DATABASE_URI": "sqlite://"}})
        raw = open({str(path)!r}, "rb").read()
        with app.app_context():
            try:
                imports.preview_file("roster", raw, "bomb.xlsx")
                outcome = "accepted"
            except imports.ImportFileError as error:
                outcome = str(error)
            except MemoryError:
                outcome = "MemoryError"
        # VmHWM is this process's own peak: ru_maxrss would include the parent's at fork
        with open("/proc/self/status") as status:
            peak = next(int(n.split()[1]) for n in status if n.startswith("VmHWM")) / 1024
        print(json.dumps({{"outcome": outcome, "peak_mb": peak}}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"\n{bomb} bomb: {result}")
    assert result["outcome"].startswith("The "), result
    assert result["peak_mb"] < PEAK_RSS_LIMIT_MB, result


def test_each_limit_is_named(app):
    small = UploadLimits(
        max_file_bytes=4000,
        max_zip_entries=6,
        max_rows=3,
        max_columns=6,
        max_cells_per_row=8,
    )
    assert _refusal(app, b"x" * 5000, "s.csv", small) == (
        "The file is 4.9 kB; the limit is 3.9 kB."
    )
    too_many = _parts(_sheet(HEADER_ROW))
    too_many.update({f"xl/extra{i}.bin": b"" for i in range(3)})
    assert "holds 8 parts; the limit is 6" in _refusal(app, _zip(too_many), limits=small)
    dtd = _parts(_sheet(HEADER_ROW))
    dtd["xl/worksheets/sheet1.xml"] = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
        + dtd["xl/worksheets/sheet1.xml"].split(b"?>", 1)[1]
    )
    assert "declares a DTD or entities" in _refusal(app, _zip(dtd))
    long_text = _sheet(HEADER_ROW + f'<row r="2"><c r="A2" t="inlineStr"><is><t>{"x" * 40000}')
    long_text += "</t></is></c></row>"
    assert "longer than 32,767 characters" in _refusal(app, _zip(_parts(long_text)))
    wide = '<row r="2">' + '<c t="inlineStr"><is><t>x</t></is></c>' * 9 + "</row>"
    assert "Row 2 has more than 8 cells" in _refusal(
        app, _zip(_parts(_sheet(HEADER_ROW + wide))), limits=small
    )
    assert "declares 9 rows (A1:E9); the limit is 3 rows" in _refusal(
        app, _zip(_parts(_sheet(HEADER_ROW, "A1:E9"))), limits=small
    )
    # past the row limit the reader stops and refuses, whatever the dimension says
    rows = "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>x</t></is></c></row>' for n in range(2, 9)
    )
    assert "more than 3 rows" in _refusal(
        app, _zip(_parts(_sheet(HEADER_ROW + rows, "A1:A1"))), limits=small
    )
    csv = "name,email,role\n" + "a,b@c.de,practitioner\n" * 5
    assert "more than 3 rows" in _refusal(app, csv.encode(), "s.csv", small)
    assert "not a readable .xlsx" in _refusal(app, b"PK\x03\x04 broken")


LAUGHS = (
    '<!DOCTYPE x [<!ENTITY l0 "lol">'
    + "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
    + "]>"
)
EXTERNAL = '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'


def _with_doctype(xml: bytes, doctype: str, reference: str = "") -> bytes:
    """The part with a DTD after its declaration and `reference` in its first text."""
    head, body = xml.split(b"?>", 1)
    if reference:
        body = body.replace(b"<t>", f"<t>{reference}".encode(), 1)
    return head + b"?>" + doctype.encode() + body


@pytest.mark.parametrize(
    ("part", "doctype", "reference"),
    [
        ("xl/workbook.xml", LAUGHS, ""),  # read by openpyxl's lxml parser
        ("xl/worksheets/sheet1.xml", LAUGHS, "&l9;"),
        ("xl/worksheets/sheet1.xml", EXTERNAL, "&e;"),
        ("[Content_Types].xml", '<!DOCTYPE x SYSTEM "http://example.invalid/x.dtd">', ""),
        ("xl/sharedStrings.xml", EXTERNAL, "&e;"),
    ],
)
def test_entity_expansion_and_external_entities_are_refused(app, part, doctype, reference):
    """A billion laughs or an external entity in any part is refused before openpyxl reads
    it, whichever XML library openpyxl uses (lxml, installed for the writer's speed)."""
    assert LXML  # the reader below runs with lxml present
    sheet = _sheet(HEADER_ROW + '<row r="2"><c r="A2" t="inlineStr"><is><t>x</t></is></c></row>')
    parts = _parts(sheet, shared_strings=True)
    parts["xl/sharedStrings.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}"><si><t>x</t></si></sst>'
    ).encode()
    parts[part] = _with_doctype(parts[part], doctype, reference)
    assert _refusal(app, _zip(parts)) == (
        f"The part {part} declares a DTD or entities; none are allowed."
    )


def test_openpyxls_own_parser_neither_expands_nor_fetches_entities():
    """Behind the check, openpyxl's lxml parser refuses a billion laughs and leaves an
    external entity unresolved."""
    with pytest.raises(XMLSyntaxError, match="amplification"):
        fromstring(f'<?xml version="1.0"?>{LAUGHS}<x>&l9;</x>'.encode())
    parsed = fromstring(f'<?xml version="1.0"?>{EXTERNAL}<x>&e;</x>'.encode())
    assert parsed.text is None and "root:" not in str(list(parsed))


def test_a_bomb_upload_gets_a_clear_page_and_exit_2(app, client, runner, tmp_path):
    with app.app_context():
        make_user("hana.hr", Role.HR)
        commit()
    sign_in(client, "hana.hr@example.nhs.uk", PASSWORD)
    token = csrf_from(client.get("/admin/imports").get_data(as_text=True))
    for kind in ("roster", "completions"):
        response = client.post(
            "/admin/imports/preview",
            data={
                "csrf_token": token,
                "kind": kind,
                "file": (io.BytesIO(dimension_bomb()), "bomb.xlsx"),
            },
            content_type="multipart/form-data",
        )
        assert response.status_code == 400
        assert "bomb.xlsx: The sheet declares 16,384 columns" in response.get_data(as_text=True)
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(dimension_bomb())
    result = runner.invoke(args=["import-staff", str(path)])
    assert result.exit_code == 2
    assert "The sheet declares 16,384 columns (A1:XFD20002); the limit is 20" in result.output


def test_candidate_import_uses_the_same_bounded_reader(app, client, framework):
    from datetime import date, timedelta

    from competency_app.recruitment.services import create_vacancy
    from tests.factories import make_team

    with app.app_context():
        north = make_team("north")
        recruiter = make_user("rae.recruit", Role.RECRUITER, team=north)
        panel = [
            make_user("amy.panel", Role.SUPERVISOR, team=north),
            make_user("bob.panel", Role.MANAGER, team=north),
        ]
        vacancy = create_vacancy(
            north,
            "Keyworker",
            date.today() + timedelta(days=14),
            panel,
            panel,
            panel[1],
            recruiter,
        )
        commit()
        vacancy_id = vacancy.id
    sign_in(client, "rae.recruit@example.nhs.uk", PASSWORD)
    token = csrf_from(client.get(f"/recruitment/{vacancy_id}").get_data(as_text=True))
    response = client.post(
        f"/recruitment/{vacancy_id}/candidates/import",
        data={"csrf_token": token, "file": (io.BytesIO(dimension_bomb()), "people.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "The sheet declares 16,384 columns" in response.get_data(as_text=True)
