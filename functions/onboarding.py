"""A welcome email after sign-up, sent by a scheduled action.

``auth_config.py`` names ``onboarding:welcome`` as ``on_user_created``: it runs in the transaction that creates
the user, and schedules ``sendWelcome`` there — so the email job exists exactly when the account does, and the
email goes out (once) right after the sign-up commits. On the dev server the message is an ``.eml`` file in
``.authlib/mail`` with one console line; on AWS it goes through SES.
"""

from authlib_core import internal_action, internal_mutation, internal_query, v
from authlib_core.mail import send_email


@internal_mutation(args={"userId": v.id("users")})
def welcome(ctx, userId):
    """Schedule the welcome email (called with the new user's id while the sign-up commits)."""
    ctx.scheduler.run_after(0, sendWelcome, {"userId": userId})


@internal_query(args={"userId": v.id("users")})
def recipient(ctx, userId):
    """The new user's name and email (None if the account was deleted meanwhile)."""
    user = ctx.db.get(userId)
    return None if user is None else {"name": user["name"], "email": user["email"]}


@internal_action(args={"userId": v.id("users")})
def sendWelcome(ctx, userId):
    """Send the welcome email; a failure is recorded on the job (``ctx.db.system.get(job_id)``)."""
    user = ctx.run_query(recipient, {"userId": userId})
    if user is None:
        return
    name = user["name"] or "there"
    send_email(
        to=user["email"],
        subject="Welcome to myData",
        text=f"Hi {name},\n\nyour account is ready. Add your first note on the page you signed up on.",
    )
