from __future__ import annotations

from typing import Any

import pytest

from authlib_core.errors import FunctionNotFoundError
from authlib_core.functions import RegisteredFunction, Registry, internal_query, query


@query
def getMyData(ctx: Any) -> str:
    return "data"


@query
def default(ctx: Any) -> str:
    return "default"


@internal_query
def secret(ctx: Any) -> str:
    return "secret"


@query
def unregistered(ctx: Any) -> None:
    return None


REGISTRY = Registry(
    [
        RegisteredFunction("myData:getMyData", getMyData),
        RegisteredFunction("myData:default", default),
        RegisteredFunction("admin/users:secret", secret),
    ]
)


@pytest.mark.parametrize("path", ["myData:getMyData", "myData.js:getMyData"])
def test_lookup_accepts_convex_spellings(path: str) -> None:
    assert REGISTRY.lookup(path, public_only=True).definition is getMyData


@pytest.mark.parametrize("path", ["myData", "myData.js", "myData:default"])
def test_module_path_alone_means_default(path: str) -> None:
    assert REGISTRY.lookup(path, public_only=True).definition is default


def test_unknown_path_uses_convex_wording_and_a_hint() -> None:
    with pytest.raises(FunctionNotFoundError) as info:
        REGISTRY.lookup("myData:getMyDta", public_only=True)
    assert info.value.public_message == "Could not find public function for 'myData:getMyDta'."
    assert info.value.hint == (
        "Did you mean 'myData:getMyData'? Public functions in module 'myData': default, getMyData."
    )
    assert info.value.message == f"{info.value.public_message} {info.value.hint}"


def test_unknown_module_lists_the_modules() -> None:
    with pytest.raises(FunctionNotFoundError) as info:
        REGISTRY.lookup("myDta:getMyData", public_only=True)
    assert info.value.message == (
        "Could not find public function for 'myDta:getMyData'. Did you mean 'myData:getMyData'? "
        "The functions folder has no module 'myDta' (modules with public functions: myData)."
    )


def test_internal_functions_are_invisible_to_public_lookups() -> None:
    with pytest.raises(FunctionNotFoundError) as info:
        REGISTRY.lookup("admin/users:secret", public_only=True)
    assert info.value.message == (
        "Could not find public function for 'admin/users:secret'. "
        "The functions folder has no module 'admin/users' (modules with public functions: myData)."
    )
    with pytest.raises(FunctionNotFoundError) as info:
        REGISTRY.lookup("admin/users:secrt", public_only=False)
    assert info.value.message == (
        "Could not find function for 'admin/users:secrt'. Did you mean 'admin/users:secret'? "
        "Functions in module 'admin/users': secret."
    )
    assert REGISTRY.lookup("admin/users:secret", public_only=False).definition is secret


def test_path_of_and_resolve_accept_definitions() -> None:
    assert REGISTRY.path_of(getMyData) == "myData:getMyData"
    assert REGISTRY.resolve(secret, public_only=False).path == "admin/users:secret"
    assert REGISTRY.resolve("myData.js:getMyData", public_only=True).definition is getMyData
    with pytest.raises(FunctionNotFoundError, match="`unregistered` is not registered"):
        REGISTRY.path_of(unregistered)


def test_registry_is_an_immutable_sorted_mapping() -> None:
    assert list(REGISTRY) == ["admin/users:secret", "myData:default", "myData:getMyData"]
    assert len(REGISTRY) == 3
    with pytest.raises(TypeError):
        REGISTRY["x:y"] = REGISTRY["myData:default"]  # type: ignore[index]


def test_duplicate_paths_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        Registry([RegisteredFunction("a:b", getMyData), RegisteredFunction("a:b", secret)])


def test_not_found_errors_survive_pickle_with_their_hint() -> None:
    import pickle

    with pytest.raises(FunctionNotFoundError) as info:
        REGISTRY.lookup("myData:getMyDta", public_only=True)
    clone = pickle.loads(pickle.dumps(info.value))
    assert (clone.message, clone.public_message, clone.hint) == (
        info.value.message,
        info.value.public_message,
        info.value.hint,
    )
