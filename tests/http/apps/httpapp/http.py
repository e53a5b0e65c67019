"""HTTP actions exercising every part of the request and response (tests/http/test_http_actions.py)."""

from authlib_core import ConvexError, Response, http_action, http_router


@http_action
def echo(ctx, request):
    return Response(
        {
            "method": request.method,
            "url": request.url,
            "path": request.path,
            "query": dict(request.query),
            "tags": request.query_all("tag"),
            "contentType": request.headers.get("Content-Type"),
            "custom": request.headers.get("x-custom"),
            "cookie": request.headers.get("cookie"),
            "length": len(request.body),
        }
    )


@http_action
def parse(ctx, request):
    return Response({"got": request.json()})


@http_action
def text(ctx, request):
    return Response(request.text()[::-1])


@http_action
def binary(ctx, request):
    return Response(bytes(range(256)) + request.body, headers={"Content-Type": "application/x-test"})


@http_action
def made(ctx, request):
    return Response(
        "made",
        status=201,
        headers=[("X-One", "1"), ("x-one", "2"), ("Set-Cookie", "a=1; Path=/"), ("Set-Cookie", "b=2; Path=/")],
    )


@http_action
def empty(ctx, request):
    return Response(status=204)


@http_action
def whoami(ctx, request):
    identity = ctx.auth.get_user_identity()
    return Response({"subject": None if identity is None else identity.subject})


@http_action
def count_notes(ctx, request):
    ctx.run_mutation("notes:add", {"text": request.text()})
    return Response({"count": ctx.run_query("notes:count", {})})


@http_action
def boom(ctx, request):
    raise RuntimeError("secret internal detail in /srv/app/private.py")


@http_action
def deliberate(ctx, request):
    raise ConvexError({"code": "NOPE"})


@http_action
def header_from_query(ctx, request):
    return Response("x", headers={"X-Next": request.query.get("v", "")})


@http_action
def status_from_query(ctx, request):
    return Response("x", status=int(request.query.get("code", "200")))


@http_action
def not_a_response(ctx, request):
    return {"plain": "dict"}


@http_action
def big(ctx, request):
    return Response("x" * int(request.query["n"]))


@http_action
def own_cors(ctx, request):
    return Response("ok", headers={"Access-Control-Allow-Origin": "*", "X-Kept": "yes"})


@http_action
def options(ctx, request):
    return Response(status=204, headers={"Allow": "GET, OPTIONS"})


@http_action
def files(ctx, request):
    return Response({"route": "files", "path": request.path})


@http_action
def deep_files(ctx, request):
    return Response({"route": "deep", "path": request.path})


@http_action
def catch_all(ctx, request):
    return Response({"route": "catch-all", "path": request.path})


http = http_router()
http.route(path="/echo", method="GET", handler=echo)
http.route(path="/echo", method="POST", handler=echo)
http.route(path="/parse", method="POST", handler=parse)
http.route(path="/text", method="POST", handler=text)
http.route(path="/binary", method="POST", handler=binary)
http.route(path="/made", method="GET", handler=made)
http.route(path="/empty", method="DELETE", handler=empty)
http.route(path="/whoami", method="GET", handler=whoami)
http.route(path="/whoami", method="POST", handler=whoami)
http.route(path="/count", method="PUT", handler=count_notes)
http.route(path="/boom", method="GET", handler=boom)
http.route(path="/deliberate", method="GET", handler=deliberate)
http.route(path="/header", method="GET", handler=header_from_query)
http.route(path="/status", method="GET", handler=status_from_query)
http.route(path="/not-a-response", method="GET", handler=not_a_response)
http.route(path="/big", method="GET", handler=big)
http.route(path="/own-cors", method="GET", handler=own_cors)
http.route(path="/echo", method="OPTIONS", handler=options)
http.route(path_prefix="/files/", method="GET", handler=files)
http.route(path_prefix="/files/deep/", method="GET", handler=deep_files)
http.route(path_prefix="/", method="PATCH", handler=catch_all)
