// The published better-auth client against the dev server's emailed-link flows: send-verification-email +
// verify-email, request-password-reset + the reset link + reset-password, change-email, delete-user by link. Links are read from the
// .eml files the dev server writes into its mail folder, as a developer would open them.
// Usage: AUTH_BASE_URL=http://127.0.0.1:PORT MAIL_DIR=/path/.authlib/mail node better-auth-email-flows.mjs
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { makeAuthClient } from "./auth-client.mjs";
import { check, fail, must } from "./checks.mjs";

const ORIGIN = process.env.AUTH_BASE_URL;
const MAIL_DIR = process.env.MAIL_DIR;
if (!ORIGIN || !MAIL_DIR) throw new Error("AUTH_BASE_URL and MAIL_DIR are required");

function mails() {
  let names = [];
  try { names = readdirSync(MAIL_DIR).filter((n) => n.endsWith(".eml")).sort(); } catch { /* no mail yet */ }
  return names.map((n) => readFileSync(join(MAIL_DIR, n), "latin1"));
}
/** The link of the newest message to `to` that has one (from its plain-text part, which holds the URL on a line of
 * its own); messages without a link (the example app's welcome) are skipped. */
function lastLink(to) {
  const mine = mails().filter((m) => new RegExp(`^To: ${to.replace(/[.+]/g, "\\$&")}\\r?$`, "mi").test(m))
    .filter((m) => /https?:\/\//.test(m.replace(/=\r?\n/g, "")));
  if (!mine.length) fail("mail to " + to, mails().length);
  const unfolded = mine[mine.length - 1].replace(/=\r?\n/g, "").replace(/=3D/g, "=");
  const found = unfolded.match(/https?:\/\/[^\s"<>]+/);
  if (!found) fail("link in mail to " + to, unfolded.slice(0, 400));
  return new URL(found[0].replace(/&amp;/g, "&"));
}

const { client, fetch: jarFetch } = makeAuthClient(ORIGIN);
const email = `flows-${Date.now()}@example.com`;
const password = "correct horse battery";
const newPassword = "an entirely new passphrase";

must(await client.signUp.email({ name: "Flows", email, password }), "sign-up");
check((await client.getSession()).data.user.emailVerified === false, "unverified at first", null);

// Email verification
must(await client.sendVerificationEmail({ email, callbackURL: "/verified" }), "send-verification-email");
const verifyLink = lastLink(email);
check(verifyLink.pathname === "/api/auth/verify-email" && verifyLink.searchParams.get("callbackURL") === "/verified",
  "verification link", verifyLink.href);
const verified = must(await client.verifyEmail({ query: { token: verifyLink.searchParams.get("token") } }), "verify-email");
check(verified.status === true && verified.user === null, "verify-email body", verified);
check((await client.getSession()).data.user.emailVerified === true, "verified", null);
const replayed = await client.verifyEmail({ query: { token: verifyLink.searchParams.get("token") } });
check(replayed.error?.status === 401 && replayed.error?.code === "INVALID_TOKEN", "verification link used up", replayed.error);
const again = await client.sendVerificationEmail({ email });
check(again.error?.code === "EMAIL_ALREADY_VERIFIED", "already verified", again.error);

// Password reset
const { client: stranger } = makeAuthClient(ORIGIN);
const known = must(await stranger.requestPasswordReset({ email, redirectTo: "/reset" }), "request-password-reset");
const unknown = must(await stranger.requestPasswordReset({ email: "nobody-" + email }), "request-password-reset unknown");
check(JSON.stringify(known) === JSON.stringify(unknown) && known.status === true, "same answer for unknown", [known, unknown]);
const resetLink = lastLink(email);
check(resetLink.pathname.startsWith("/api/auth/reset-password/"), "reset link", resetLink.href);
const landed = await jarFetch(resetLink.href, { redirect: "manual" });
const location = landed.headers.get("location") || "";
check(landed.status === 302 && location.startsWith("/reset?token="), "reset link redirects with the token", location);
const token = new URLSearchParams(location.split("?")[1]).get("token");
must(await stranger.resetPassword({ newPassword, token }), "reset-password");
check((await client.getSession()).data === null, "reset revoked the sessions", null);
const replay = await stranger.resetPassword({ newPassword: "yet another passphrase", token });
check(replay.error?.status === 400 && replay.error?.code === "INVALID_TOKEN", "reset token used up", replay.error);
const old = await client.signIn.email({ email, password });
check(old.error?.status === 401, "old password refused", old.error);
must(await client.signIn.email({ email, password: newPassword }), "sign-in with the new password");

// Change email: confirmed from the current address
const newEmail = "moved-" + email;
must(await client.changeEmail({ newEmail }), "change-email");
check((await client.getSession()).data.user.email === email, "unchanged until confirmed", null);
const confirmLink = lastLink(email);
must(await client.verifyEmail({ query: { token: confirmLink.searchParams.get("token") } }), "confirm change-email");
check((await client.getSession({ query: { disableCookieCache: true } })).data.user.email === email,
  "unchanged until the new address is verified", null);
const verifyNewLink = lastLink(newEmail);
must(await client.verifyEmail({ query: { token: verifyNewLink.searchParams.get("token") } }), "verify the new address");
const moved = (await client.getSession({ query: { disableCookieCache: true } })).data.user;
check(moved.email === newEmail && moved.emailVerified === true, "email changed, verified", moved);
const same = await client.changeEmail({ newEmail });
check(same.error?.status === 400 && same.error?.message === "Email is the same", "same email refused", same.error);

// Delete account by emailed link (the server runs with AUTHLIB_DELETE_USER_VERIFICATION=on)
const { client: leaver, fetch: leaverFetch } = makeAuthClient(ORIGIN);
const leaverEmail = "leaving-" + email;
must(await leaver.signUp.email({ name: "Leaving", email: leaverEmail, password }), "sign-up (to delete)");
const asked = must(await leaver.deleteUser({ callbackURL: "/goodbye" }), "delete-user sends the link");
check(asked.success === true && asked.message === "Verification email sent", "delete-user body", asked);
check((await leaver.getSession()).data?.user?.email === leaverEmail, "nothing deleted before the link", null);
const deleteLink = lastLink(leaverEmail);
check(deleteLink.pathname === "/api/auth/delete-user/callback" && deleteLink.searchParams.get("callbackURL") === "/goodbye",
  "deletion link", deleteLink.href);
const scanned = await fetch(deleteLink.href, { redirect: "manual" }); // a mail scanner: no session
const scannedBody = await scanned.json();
check(scanned.status === 404 && scannedBody.code === "FAILED_TO_GET_USER_INFO", "link without a session", scannedBody);
const gone = await leaverFetch(deleteLink.href, { redirect: "manual" });
check(gone.status === 302 && gone.headers.get("location") === "/goodbye", "link deletes and redirects",
  [gone.status, gone.headers.get("location")]);
check((await leaver.getSession()).data === null, "signed out once deleted", null);
const reopened = await leaverFetch(deleteLink.href, { redirect: "manual" });
check(reopened.status === 404, "used-up link", reopened.status);
const back = await leaver.signIn.email({ email: leaverEmail, password });
check(back.error?.status === 401, "a deleted account cannot sign in", back.error);

// ... and with the token given back to the client: POST /delete-user {token}, then GET /delete-user/callback
const { client: tokenUser } = makeAuthClient(ORIGIN);
const tokenEmail = "token-" + email;
must(await tokenUser.signUp.email({ name: "Token", email: tokenEmail, password }), "sign-up (token)");
must(await tokenUser.deleteUser({}), "delete-user (token)");
const badToken = await tokenUser.deleteUser({ token: "not-a-token" });
check(badToken.error?.status === 404 && badToken.error?.code === "INVALID_TOKEN", "wrong token refused", badToken.error);
const byToken = must(await tokenUser.deleteUser({ token: lastLink(tokenEmail).searchParams.get("token") }), "delete by token");
check(byToken.success === true && byToken.message === "User deleted", "delete by token body", byToken);
check((await tokenUser.getSession()).data === null, "token user signed out", null);
const { client: callbackUser } = makeAuthClient(ORIGIN);
const callbackEmail = "callback-" + email;
must(await callbackUser.signUp.email({ name: "Callback", email: callbackEmail, password }), "sign-up (callback)");
must(await callbackUser.deleteUser({}), "delete-user (callback)");
const viaClient = must(await callbackUser.deleteUser.callback({ query: { token: lastLink(callbackEmail).searchParams.get("token") } }),
  "deleteUser.callback");
check(viaClient.success === true && viaClient.message === "User deleted", "callback JSON body", viaClient);
check((await callbackUser.getSession()).data === null, "callback user signed out", null);

console.log("ALL OK");
