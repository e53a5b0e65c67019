"""The dev server's static folder (``--static``) over real sockets: only files inside it, no dotfiles, an answer
for every path (a NUL byte, a name too long, a file that cannot be read), ``nosniff`` on every answer."""

from __future__ import annotations

import json
import pathlib

import pytest

from tests.http.test_dev_baton import whole
from tests.http.test_dev_server import _dev_server, functions_dir, http  # noqa: F401 (fixture)

INDEX = b"<!doctype html><title>app</title>"
SECRET = b"SECRET=outside the static folder"


@pytest.fixture
def dev(functions_dir, tmp_path):  # noqa: F811 (the fixture imported above)
    (tmp_path / "outside.txt").write_bytes(SECRET)
    yield from _dev_server(functions_dir, tmp_path)


def answer(server, target, method="GET"):
    """Status, headers (lower-cased names) and body of one request sent as is."""
    raw = whole(server, method, target)
    assert raw, f"{method} {target}: the connection closed without an answer"
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def test_a_directory_index_symlinked_outside_the_folder_is_not_served(dev, tmp_path):
    sub = dev.static.root / "sub"
    sub.mkdir()
    (sub / "index.html").symlink_to(tmp_path / "outside.txt")
    (dev.static.root / "assets" / "link.txt").symlink_to(tmp_path / "outside.txt")
    for target in ("/sub/", "/sub", "/assets/link.txt"):
        status, _, body = answer(dev, target)
        assert (status, body) == (200, INDEX), target  # the client-side route, never the outside file


def test_an_index_html_symlinked_outside_the_folder_is_no_fallback(dev, tmp_path):
    index = dev.static.root / "index.html"
    index.unlink()
    index.symlink_to(tmp_path / "outside.txt")
    for target in ("/", "/notes/42", "/index.html"):
        status, _, body = answer(dev, target)
        assert (status, body) == (404, b"Not Found"), target


def test_a_nul_byte_is_a_bad_request_and_a_name_too_long_or_a_symlink_loop_a_client_route(dev):
    status, headers, body = answer(dev, "/a%00b")
    assert (status, headers["content-type"]) == (400, "application/json")
    assert json.loads(body) == {
        "code": "BadRequest",
        "message": "The path holds a NUL byte (%00), which no file name can contain; remove it from the URL",
    }
    (dev.static.root / "loop").symlink_to(dev.static.root / "loop")
    for target in ("/" + "a" * 300, "/assets/" + "b" * 300 + "/c.js", "/reset/" + "t" * 4000, "/loop", "/loop/x"):
        status, _, body = answer(dev, target)
        assert (status, body) == (200, INDEX), target[:20]
    assert answer(dev, "/assets/app.js")[2] == b"console.log('hi')"  # the server still answers


def test_a_file_that_cannot_be_read_gets_an_answer(dev, monkeypatch):
    locked = dev.static.root / "assets" / "locked.js"
    locked.write_text("x")
    read_bytes = pathlib.Path.read_bytes

    def refuse(path):  # as a file the server's user may not read (the tests may run as root, who reads all)
        if path.name == "locked.js":
            raise PermissionError(13, "Permission denied", str(path))
        return read_bytes(path)

    monkeypatch.setattr(pathlib.Path, "read_bytes", refuse)
    status, _, body = answer(dev, "/assets/locked.js")
    assert status == 500
    assert json.loads(body) == {
        "code": "InternalServerError",
        "message": "The file for /assets/locked.js could not be read (Permission denied); check its permissions",
    }


@pytest.mark.parametrize(
    "target", ["/.env", "/%2Eenv", "/.git/config", "/assets/.secret.js", "/assets/../.env", "/./index.html", "/.git/"]
)
def test_dotfiles_and_dot_directories_are_not_served(dev, target):
    root = dev.static.root
    (root / ".env").write_text("SECRET=1")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]")
    (root / ".git" / "index.html").write_text("git")
    (root / "assets" / ".secret.js").write_text("secret")
    status, headers, body = answer(dev, target)
    assert (status, body) == (404, b"Not Found")
    assert headers["x-content-type-options"] == "nosniff"


def test_well_known_files_are_served_and_a_link_into_a_dot_directory_is_not(dev):
    root = dev.static.root
    (root / ".well-known").mkdir()
    (root / ".well-known" / "security.txt").write_text("Contact: mailto:security@example.com")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]")
    (root / "config").symlink_to(root / ".git" / "config")
    assert answer(dev, "/.well-known/security.txt")[::2] == (200, b"Contact: mailto:security@example.com")
    assert answer(dev, "/config")[::2] == (404, b"Not Found")


def test_static_answers_say_nosniff(dev):
    for target, status in (("/", 200), ("/assets/app.js", 200), ("/notes/42", 200), ("/a%00b", 400)):
        got, headers, _ = answer(dev, target)
        assert (got, headers["x-content-type-options"]) == (status, "nosniff"), target
    got, headers, body = answer(dev, "/assets/app.js", method="HEAD")
    assert (got, headers["x-content-type-options"], body) == (200, "nosniff", b"")
    assert headers["content-length"] == str(len("console.log('hi')"))
