from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from authlib_core.errors import FunctionLoadError
from authlib_core.functions import Kind, Visibility, load_functions

MakeApp = Callable[..., Path]

MY_DATA = """
    from authlib_core import query, mutation, internal_query

    @query
    def getMyData(ctx):
        return "data"

    @mutation
    def add(ctx, text: str):
        return text

    @internal_query
    def secret(ctx):
        return 1

    def helper():
        return 2
"""


def test_paths_are_module_paths_and_attribute_names(make_app: MakeApp) -> None:
    root = make_app(
        {
            "myData.py": MY_DATA,
            "admin/users.py": "from authlib_core import query\n@query\ndef list(ctx):\n    return []\n",
            "admin/deep/er.py": "from authlib_core import action\n@action\ndef go(ctx):\n    return 1\n",
        }
    )
    app = load_functions(root)
    assert sorted(app.registry) == [
        "admin/deep/er:go",
        "admin/users:list",
        "myData:add",
        "myData:getMyData",
        "myData:secret",
    ]
    secret = app.registry["myData:secret"].definition
    assert (secret.kind, secret.visibility) == (Kind.QUERY, Visibility.INTERNAL)
    assert app.registry["admin/deep/er:go"].definition.kind is Kind.ACTION
    assert app.schema is None


def test_a_package_init_defines_the_folder_module_path(make_app: MakeApp) -> None:
    root = make_app(
        {
            "__init__.py": "from authlib_core import query\n@query\ndef ignored(ctx):\n    return 0\n",
            "admin/__init__.py": "from authlib_core import query\n@query\ndef stats(ctx):\n    return 0\n",
        }
    )
    assert list(load_functions(root).registry) == ["admin:stats"]


def test_reserved_and_private_modules_are_not_function_modules(make_app: MakeApp) -> None:
    definition = "from authlib_core import query\n@query\ndef f(ctx):\n    return 0\n"
    root = make_app(
        {
            "http.py": definition + "from authlib_core import http_router\nhttp = http_router()\n",
            "crons.py": definition + "from authlib_core import cron_jobs\ncrons = cron_jobs()\n",
            "_helpers.py": definition,
            "_lib/tools.py": definition,
            "admin/_private.py": definition,
            "real.py": definition,
            "notes.txt": "not python",
        }
    )
    app = load_functions(root)
    assert list(app.registry) == ["real:f"]
    assert {p.relative_to(root).as_posix() for p in app.source_files} == {
        "http.py",
        "crons.py",
        "_helpers.py",
        "_lib/tools.py",
        "admin/_private.py",
        "real.py",
    }


def test_schema_py_provides_the_schema_and_no_functions(make_app: MakeApp) -> None:
    root = make_app(
        {
            "schema.py": (
                "from authlib_core import define_schema, define_table, query\n"
                "schema = define_schema({'t': define_table()})\n@query\ndef f(ctx):\n    return 0\n"
            ),
            "a.py": "from authlib_core import query\n@query\ndef f(ctx):\n    return 0\n",
        }
    )
    app = load_functions(root)
    assert app.schema is not None
    assert list(app.schema.tables) == ["t"]
    assert list(app.registry) == ["a:f"]


def test_schema_py_with_something_else_is_an_error(make_app: MakeApp) -> None:
    root = make_app({"schema.py": "schema = {'tables': 1}\n"})
    with pytest.raises(FunctionLoadError, match=r"`schema` is a dict, not a schema"):
        load_functions(root)


def test_schema_py_without_schema_is_an_error(make_app: MakeApp) -> None:
    root = make_app({"schema.py": "tables = {}\n"})
    with pytest.raises(FunctionLoadError, match=r"schema\.py: defines no `schema`"):
        load_functions(root)


def test_function_modules_may_import_each_other_without_registering_twice(make_app: MakeApp) -> None:
    root = make_app(
        {
            "__init__.py": "",
            "myData.py": MY_DATA,
            "other.py": """
                from functions.myData import getMyData
                from .myData import add as renamed
                from functions._shared import make_query

                made = make_query()
            """,
            "_shared.py": """
                from authlib_core import query

                def make_query():
                    return query(lambda ctx: "made")
            """,
        }
    )
    app = load_functions(root)
    assert sorted(app.registry) == ["myData:add", "myData:getMyData", "myData:secret", "other:made"]
    other = sys.modules["functions.other"]
    assert app.registry.path_of(other.getMyData) == "myData:getMyData"


def test_a_folder_without_init_loads_too(make_app: MakeApp) -> None:
    root = make_app({"myData.py": MY_DATA, "sub/x.py": "from functions.myData import getMyData as g\n"})
    app = load_functions(root)
    assert "myData:getMyData" in app.registry
    assert "sub/x:g" not in app.registry


def test_reload_sees_changed_code(make_app: MakeApp, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)  # as on a developer's machine: __pycache__ is written
    root = make_app({"a.py": "from authlib_core import query\n@query\ndef f(ctx):\n    return 'one'\n"})
    first = load_functions(root)
    assert first.registry["a:f"].definition(None) == "one"
    # Same size, same second: a timestamp-checked bytecode cache would serve the old code here.
    (root / "a.py").write_text("from authlib_core import query\n@query\ndef f(ctx):\n    return 'two'\n")
    (root / "b.py").write_text("from authlib_core import query\n@query\ndef g(ctx):\n    return 'new'\n")
    second = load_functions(root)
    assert second.registry["a:f"].definition(None) == "two"
    assert second.registry["b:g"].definition(None) == "new"
    (root / "b.py").unlink()
    assert "b:g" not in load_functions(root).registry


def test_a_failed_load_leaves_nothing_behind(make_app: MakeApp) -> None:
    root = make_app({"a.py": "raise RuntimeError('broken')\n"})
    with pytest.raises(FunctionLoadError):
        load_functions(root)
    assert "functions" not in sys.modules
    (root / "a.py").write_text("from authlib_core import query\n@query\ndef f(ctx):\n    return 1\n")
    assert list(load_functions(root).registry) == ["a:f"]


# -- load-time errors --------------------------------------------------------------------------------------------


def test_syntax_error_names_the_file_and_line(make_app: MakeApp) -> None:
    root = make_app({"broken.py": "x = 1\ndef oops(:\n    pass\n"})
    with pytest.raises(FunctionLoadError) as info:
        load_functions(root)
    message = info.value.message
    assert f"{root / 'broken.py'}:2" in message
    assert "SyntaxError" in message


def test_import_failure_names_the_file_the_exception_and_the_line(make_app: MakeApp) -> None:
    root = make_app({"a.py": "import os\n\nraise ValueError('bad config')\n"})
    with pytest.raises(FunctionLoadError) as info:
        load_functions(root)
    message = info.value.message
    assert str(root / "a.py") in message
    assert "ValueError: bad config" in message
    assert "line 3" in message


def test_missing_import_is_reported(make_app: MakeApp) -> None:
    root = make_app({"a.py": "import no_such_module_xyz\n"})
    with pytest.raises(FunctionLoadError, match="ModuleNotFoundError: No module named 'no_such_module_xyz'"):
        load_functions(root)


@pytest.mark.parametrize(
    ("name", "why"),
    [("café", "must start with an ASCII letter"), ("x" * 65, "65 characters"), ("__", "only of underscores")],
)
def test_invalid_function_names(make_app: MakeApp, name: str, why: str) -> None:
    root = make_app({"a.py": f"from authlib_core import query\n{name} = query(lambda ctx: 1)\n"})
    with pytest.raises(FunctionLoadError) as info:
        load_functions(root)
    assert str(root / "a.py") in info.value.message
    assert repr(name) in info.value.message
    assert why in info.value.message


@pytest.mark.parametrize("rel", ["my-data.py", "9lives.py", "bad-dir/x.py", "class.py"])
def test_invalid_module_path_segments(make_app: MakeApp, rel: str) -> None:
    root = make_app({rel: "from authlib_core import query\nf = query(lambda ctx: 1)\n"})
    with pytest.raises(FunctionLoadError, match="module path segment") as info:
        load_functions(root)
    assert str(root / rel) in info.value.message


def test_two_files_with_one_module_path(make_app: MakeApp) -> None:
    root = make_app({"a.py": "", "a/__init__.py": ""})
    with pytest.raises(FunctionLoadError) as info:
        load_functions(root)
    assert str(root / "a.py") in info.value.message
    assert str(root / "a" / "__init__.py") in info.value.message
    assert "module path 'a'" in info.value.message


def test_a_module_beside_a_folder_of_the_same_name(make_app: MakeApp) -> None:
    root = make_app({"a.py": "", "a/b.py": ""})
    with pytest.raises(FunctionLoadError, match="hides the folder"):
        load_functions(root)


def test_args_mismatch_names_the_file_and_function(make_app: MakeApp) -> None:
    root = make_app(
        {
            "a.py": """
                from authlib_core import mutation
                from authlib_core.values import v

                @mutation(args={"text": v.string()})
                def add(ctx, txt):
                    return txt
            """
        }
    )
    with pytest.raises(FunctionLoadError) as info:
        load_functions(root)
    assert str(root / "a.py") in info.value.message
    assert "function `add`" in info.value.message
    assert "`txt`" in info.value.message


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(FunctionLoadError, match="does not exist"):
        load_functions(tmp_path / "nope")


def test_a_package_name_taken_by_another_module_is_refused(make_app: MakeApp) -> None:
    root = make_app({"a.py": ""})
    with pytest.raises(FunctionLoadError, match="'json' is already taken"):
        load_functions(root, package_name="json")
    assert sys.modules["json"].__name__ == "json"


def test_package_name_can_be_chosen(make_app: MakeApp) -> None:
    root = make_app({"a.py": "from authlib_core import query\n@query\ndef f(ctx):\n    return __name__\n"})
    app = load_functions(root, package_name="my_app_fns")
    try:
        assert app.registry["a:f"].definition(None) == "my_app_fns.a"
    finally:
        for name in [n for n in sys.modules if n.split(".")[0] == "my_app_fns"]:
            del sys.modules[name]


def test_auth_config_turns_delete_user_on_and_names_its_hook(make_app: MakeApp) -> None:
    root = make_app({"myData.py": MY_DATA, "auth_config.py": "delete_user = True\non_user_deleted = 'myData:add'\n"})
    app = load_functions(root)
    assert (app.delete_user, app.on_user_deleted, app.on_user_created) == (True, "myData:add", None)
    assert load_functions(make_app({"myData.py": MY_DATA}, name="plain")).delete_user is False


def test_auth_config_sends_deletion_links_and_schedules_an_action_after(make_app: MakeApp) -> None:
    bye = "from authlib_core import internal_action\n\n@internal_action\ndef bye(ctx, userId: str):\n    return None\n"
    config = "delete_user = True\ndelete_user_verification = True\nafter_user_deleted = 'farewell:bye'\n"
    app = load_functions(make_app({"farewell.py": bye, "auth_config.py": config}))
    assert (app.delete_user, app.delete_user_verification, app.after_user_deleted) == (True, True, "farewell:bye")
    plain = load_functions(make_app({"myData.py": MY_DATA}, name="plain"))
    assert (plain.delete_user_verification, plain.after_user_deleted) == (False, None)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("delete_user = 'yes'\n", "delete_user must be True (serve POST /api/auth/delete-user) or False, got str"),
        (
            "on_user_deleted = 'myData:getMyData'\n",
            "on_user_deleted names myData:getMyData, a query; it must be a "
            "mutation (it runs in the transaction that deletes the user)",
        ),
        ("on_user_deleted = 3\n", "on_user_deleted must be a mutation or its 'module:function' path, got int"),
        (
            "delete_user_verification = 1\n",
            "delete_user_verification must be True (POST /api/auth/delete-user mails a confirmation link) or False, "
            "got int",
        ),
        (
            "after_user_deleted = 'myData:getMyData'\n",
            "after_user_deleted names myData:getMyData, a query; it must be a mutation or an action",
        ),
        ("after_user_deleted = 'myData:nope'\n", "after_user_deleted: "),
    ],
)
def test_auth_config_delete_user_mistakes_are_named(make_app: MakeApp, config: str, message: str) -> None:
    root = make_app({"myData.py": MY_DATA, "auth_config.py": config})
    with pytest.raises(FunctionLoadError) as caught:
        load_functions(root)
    assert message in caught.value.message
