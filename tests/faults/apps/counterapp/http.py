"""HTTP actions over the counter: what tests/faults/test_http_actions.py drives through storage faults."""

from authlib_core import Response, get_auth_user_id, http_action, http_router


@http_action
def increment(ctx, request):
    """``counter:increment`` for the ``name`` of the JSON body, from an HTTP action."""
    return Response({"value": ctx.run_mutation("counter:increment", {"name": request.json()["name"]})})


@http_action
def increment_mine(ctx, request):
    """The same for signed-in callers: the session is read when the action asks who is calling."""
    if get_auth_user_id(ctx) is None:
        return Response({"code": "UNAUTHENTICATED", "message": "sign in first"}, status=401)
    return Response({"value": ctx.run_mutation("counter:increment", {"name": request.json()["name"]})})


http = http_router()
http.route(path="/hooks/increment", method="POST", handler=increment)
http.route(path="/hooks/mine", method="POST", handler=increment_mine)
