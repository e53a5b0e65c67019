"""Auth settings of the example app: a new account gets a welcome email (see onboarding.py)."""

#: Runs in the transaction that creates each user, with ``{"userId": ...}``.
on_user_created = "onboarding:welcome"
