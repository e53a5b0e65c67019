"""``authlib-core codegen``: the generated ``api`` types type-check real client code with ``tsc --noEmit``.

The types are generated from the example app (functions/) by the real command line; a TypeScript file using the
published ``convex`` package's ``ConvexClient`` with them must compile, and one passing a wrong argument type or
reading a wrong result type must not. TypeScript is the npm package pinned in tests/clients.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import time
import uuid
from typing import TYPE_CHECKING

import pytest

from authlib_core.config import Settings
from authlib_core.dev.server import DevServer
from authlib_core.runtime import build_runtime
from tests.support.node_clients import CLIENTS, EXAMPLE_FUNCTIONS, ROOT, ensure_node_modules

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.node

GOOD = """
import { ConvexClient } from "convex/browser";
import { api } from "./_generated/api";
import type { Doc, Id } from "./_generated/dataModel";

declare const client: ConvexClient;
export async function main(): Promise<void> {
  const id: Id<"myData"> = await client.mutation(api.myData.add, { text: "hi" });
  await client.mutation(api.myData.remove, { id });
  client.onUpdate(api.myData.getMyData, {}, (notes) => notes);
  const note: Doc<"myData"> | null = null;
  void note;
}
"""

BAD = """
import { ConvexClient } from "convex/browser";
import { api } from "./_generated/api";

declare const client: ConvexClient;
export async function main(): Promise<void> {
  await client.mutation(api.myData.add, { text: 1 });
  const wrong: number = await client.mutation(api.myData.add, { text: "hi" });
  void wrong;
}
"""

TSCONFIG = {
    "compilerOptions": {
        "strict": True,
        "noEmit": True,
        "module": "esnext",
        "moduleResolution": "bundler",
        "target": "es2022",
        "skipLibCheck": True,
        "allowJs": True,
    },
    "include": ["*.ts", "_generated/*"],
}


@pytest.fixture
def project() -> Iterator[Path]:
    """A folder inside tests/clients (so that ``convex`` resolves from its node_modules) with generated types."""
    ensure_node_modules()
    folder = CLIENTS / f".codegen-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    try:
        (folder / "tsconfig.json").write_text(json.dumps(TSCONFIG))
        command = [sys.executable, "-m", "authlib_core", "codegen", "--functions", str(EXAMPLE_FUNCTIONS)]
        done = subprocess.run(
            [*command, "--out", str(folder / "_generated")], cwd=ROOT, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        assert "wrote 3 file(s)" in done.stdout
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _tsc(folder: Path) -> subprocess.CompletedProcess[str]:
    tsc = CLIENTS / "node_modules" / "typescript" / "bin" / "tsc"
    return subprocess.run(
        ["node", str(tsc), "-p", str(folder)], cwd=CLIENTS, capture_output=True, text=True, timeout=120, check=False
    )


def test_generated_api_types_check_real_client_code(project: Path) -> None:
    generated = (project / "_generated" / "api.d.ts").read_text()
    assert 'FunctionReference<"mutation", "public", { "text": string }, Id<"myData">>' in generated
    assert 'FunctionReference<"query", "public", any, any>' in generated  # no validators: any, as in Convex
    (project / "use.ts").write_text(GOOD)
    result = _tsc(project)
    assert result.returncode == 0, result.stdout + result.stderr


def test_generated_api_types_reject_wrong_arguments_and_results(project: Path) -> None:
    (project / "use.ts").write_text(BAD)
    result = _tsc(project)
    assert result.returncode != 0
    assert "use.ts(7," in result.stdout  # { text: 1 }: number is not string
    assert "use.ts(8," in result.stdout  # Id<"myData"> is not a number


def test_the_dev_server_regenerates_the_types_on_reload(tmp_path: Path) -> None:
    functions = tmp_path / "functions"
    functions.mkdir()
    (functions / "notes.py").write_text(
        "from authlib_core import query, v\n\n@query(args={'n': v.float64()})\ndef get(ctx, n):\n    return n\n"
    )
    out = tmp_path / "generated"
    settings = Settings(functions_dir=functions, sqlite_path=tmp_path / "db.sqlite3")
    server = DevServer(
        lambda: build_runtime(settings), functions, port=0, out=io.StringIO(), reload_interval=0.05, codegen_dir=out
    )
    server.start_background()
    try:
        assert '"get": FunctionReference<"query", "public", { "n": number }, any>' in (out / "api.d.ts").read_text()
        (functions / "notes.py").write_text(
            "from authlib_core import query, v\n\n@query(args={'s': v.string()}, returns=v.string())\n"
            "def get(ctx, s):\n    return s\n"
        )
        expected = '"get": FunctionReference<"query", "public", { "s": string }, string>'
        deadline = time.monotonic() + 10
        while expected not in (out / "api.d.ts").read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert expected in (out / "api.d.ts").read_text()
    finally:
        server.shutdown()


WEB = ROOT / "examples" / "web"


def _web_tsc(*extra: str) -> subprocess.CompletedProcess[str]:
    tsc = WEB / "node_modules" / "typescript" / "bin" / "tsc"
    return subprocess.run(
        ["node", str(tsc), "--noEmit", "-p", str(WEB), *extra],
        cwd=WEB,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture
def web_page() -> Path:
    """examples/web with its npm packages (what scripts/dev and scripts/test install) and freshly generated types
    in src/_generated (what ``scripts/dev``'s ``--codegen`` keeps up to date)."""
    if shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the example page's type check")
    built = subprocess.run(
        ["bash", "-c", 'source scripts/lib/web.sh && ensure_web_build "$0"', "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    command = [sys.executable, "-m", "authlib_core", "codegen", "--functions", str(EXAMPLE_FUNCTIONS)]
    done = subprocess.run(
        [*command, "--out", str(WEB / "src" / "_generated")], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return WEB


def test_the_example_page_type_checks_against_the_generated_api(web_page: Path) -> None:
    listed = _web_tsc("--listFilesOnly")
    files = {line.strip() for line in listed.stdout.splitlines()}
    live = web_page / "src" / "components" / "MyItems.tsx"
    assert {str(live), str(web_page / "src" / "_generated" / "api.d.ts")} <= files  # the real page, real types
    result = _web_tsc()
    assert result.returncode == 0, result.stdout + result.stderr

    # The same component with one wrong argument does not compile: the page is checked, not just parsed.
    broken = live.with_name(f"MyItemsBroken{uuid.uuid4().hex[:6]}.tsx")
    source = live.read_text()
    assert "await add({ text });" in source
    broken.write_text(source.replace("await add({ text });", "await add({ text: 1 });"))
    try:
        result = _web_tsc()
    finally:
        broken.unlink()
    assert result.returncode != 0
    assert f"{broken.name}(" in result.stdout
    assert "Type 'number' is not assignable to type 'string'" in result.stdout
