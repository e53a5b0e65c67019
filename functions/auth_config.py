"""Auth settings of the example app: a new account gets a welcome email (see onboarding.py); users may delete
their account, and their notes go with it."""

#: Runs in the transaction that creates each user, with ``{"userId": ...}``.
on_user_created = "onboarding:welcome"

#: Serve ``POST /api/auth/delete-user`` (off unless set, as in Better Auth).
delete_user = True

#: Runs in the transaction that deletes a user, with ``{"userId": ...}``: the notes go with the account.
on_user_deleted = "myData:removeAllForUser"
