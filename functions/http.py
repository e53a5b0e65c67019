"""The example app's HTTP actions (docs/http-actions.md): a signed webhook that adds a note to a user's notes.

``POST /webhooks/notes`` with a JSON body ``{"id": "evt_1", "email": "ada@example.com", "text": "..."}`` and the
header ``X-Webhook-Signature: sha256=<hex HMAC-SHA256 of the raw body>``, keyed with ``WEBHOOK_SECRET`` (the
sender and this app share it; locally ``WEBHOOK_SECRET=... authlib-core dev``, deployed
``authlib-core env set WEBHOOK_SECRET --parameter /my-app/prod/env``, docs/deploy.md). The signature is checked
over the raw bytes, in constant time, before anything is parsed; a sender that retries the same event id gets the
first delivery's answer, and no second note.

    $ body='{"id":"evt_1","email":"ada@example.com","text":"Hello from the CRM"}'
    $ sig=$(printf %s "$body" | openssl dgst -sha256 -hmac "$WEBHOOK_SECRET" -hex | cut -d' ' -f2)
    $ curl -s localhost:3210/webhooks/notes -H "X-Webhook-Signature: sha256=$sig" -d "$body"
    {"noteId":"...","duplicate":false}
"""

import hashlib
import hmac
import os

from authlib_core import Response, http_action, http_router

SIGNATURE_HEADER = "X-Webhook-Signature"


def signature_of(body: bytes, secret: str) -> str:
    """The header value a sender computes: ``sha256=`` and the hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def error(status, code, message):
    """An error in the API's shape: ``{"code", "message"}``."""
    return Response({"code": code, "message": message}, status=status)


@http_action
def notes_webhook(ctx, request):
    """Verify the signature, then add the note once per event id."""
    secret = os.environ.get("WEBHOOK_SECRET", "")
    if not secret:
        return error(503, "WebhookNotConfigured", "This server has no WEBHOOK_SECRET; webhooks are off.")
    presented = request.headers.get(SIGNATURE_HEADER, "")
    if not hmac.compare_digest(presented.encode("utf-8"), signature_of(request.body, secret).encode("utf-8")):
        return error(401, "InvalidSignature", f"{SIGNATURE_HEADER} is not the HMAC-SHA256 of the body.")
    event = request.json()  # not JSON: 400 BadRequestBody
    fields = ("id", "email", "text")
    if not isinstance(event, dict) or not all(isinstance(event.get(field), str) for field in fields):
        return error(400, "InvalidEvent", "Expected a JSON object with string fields id, email and text.")
    result = ctx.run_mutation(
        "webhooks:addNote", {"eventId": event["id"], "email": event["email"], "text": event["text"]}
    )
    if result is None:
        return error(404, "UnknownUser", "No user has that email.")
    return Response(result)


http = http_router()
http.route(path="/webhooks/notes", method="POST", handler=notes_webhook)
