// What the address bar says when the page opens after an auth redirect, read once and then removed
// from the URL (a reload must not repeat it, and a token must not linger in the history):
//   /?view=reset&token=...   the password-reset link (GET /api/auth/reset-password/:token) succeeded
//   /?view=reset&error=...   ... or the link was used up or expired (INVALID_TOKEN)
//   /?verified=1             the verification link (GET /api/auth/verify-email) succeeded
//   /?error=...              a link or a "Sign in with ..." came back with an error code
const params = new URLSearchParams(window.location.search);

export const landing = {
  view: params.get("view"),
  token: params.get("token"),
  error: params.get("error"),
  verified: params.get("verified") === "1",
};

if ([...params.keys()].some((key) => ["view", "token", "error", "verified"].includes(key))) {
  window.history.replaceState(null, "", window.location.pathname);
}

// The codes the server puts in ?error=: upper case from emailed links, lower case from social
// sign-in callbacks (Better Auth's convention). Unknown codes are shown as they are.
const MESSAGES = {
  INVALID_TOKEN: "This link is invalid, used or expired. Ask for a new one.",
  TOKEN_EXPIRED: "This link has expired. Ask for a new one.",
  access_denied: "Sign-in was cancelled at the provider.",
  account_not_linked:
    "An account with this email already exists. Sign in with your password, verify your email, then try again.",
  email_not_found: "The provider did not share an email address.",
  email_not_verified: "Verify your email address before signing in.",
  state_mismatch: "The sign-in expired or was started in another browser. Try again.",
  state_not_found: "The sign-in could not be matched to this browser. Try again.",
  invalid_code: "The provider did not accept the sign-in. Try again.",
  unable_to_get_user_info: "The provider's answer could not be verified. Try again.",
  email_does_not_match: "That provider account uses another email address.",
  account_already_linked_to_different_user: "That provider account belongs to another user.",
  unable_to_link_account: "The provider account could not be linked.",
};

export function describeLandingError(code) {
  if (!code) return null;
  return `${MESSAGES[code] ?? "Something went wrong."} (${code})`;
}
