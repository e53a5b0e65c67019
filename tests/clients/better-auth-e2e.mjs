// The published better-auth client (createAuthClient) against the dev server's /api/auth, in the spirit of
// Better Auth's flows: sign-up, sign-out, bad sign-in, sign-in, get-session, list-sessions,
// revoke-other-sessions, change-password, sign-out. Exits non-zero on the first surprise.
// Usage: AUTH_BASE_URL=http://127.0.0.1:PORT node better-auth-e2e.mjs
import { makeAuthClient } from "./auth-client.mjs";
import { check, must } from "./checks.mjs";

const ORIGIN = process.env.AUTH_BASE_URL;
if (!ORIGIN) throw new Error("AUTH_BASE_URL is required");

const { client, jar } = makeAuthClient(ORIGIN);
// The second device signs in from its own address (the server runs with AUTHLIB_TRUST_FORWARDED_FOR=true), so each
// address stays within the default per-IP limit of 3 sign-ins per 10 s.
const { client: laptop } = makeAuthClient(ORIGIN, { "x-forwarded-for": "203.0.113.7" });
const email = `e2e-${Date.now()}@Example.com`;
const password = "correct horse battery";

const up = must(await client.signUp.email({ name: "E2E", email, password }), "sign-up");
check(up.user.email === email.toLowerCase() && up.user.createdAt instanceof Date, "sign-up user", up.user);
check(jar.has("better-auth.session_token"), "sign-up cookie", [...jar.keys()]);
must(await client.signOut(), "sign-out");
check((await client.getSession()).data === null, "signed out", null);

const bad = await client.signIn.email({ email, password: "wrong-password" });
check(bad.error?.status === 401 && bad.error?.code === "INVALID_EMAIL_OR_PASSWORD", "bad sign-in", bad.error);

const signedIn = must(await client.signIn.email({ email, password, rememberMe: true }), "sign-in");
check(signedIn.redirect === false && typeof signedIn.token === "string", "sign-in body", signedIn);
const s = must(await client.getSession(), "get-session");
check(s?.user.email === email.toLowerCase(), "get-session user", s);
check(s.session.expiresAt instanceof Date && s.session.createdAt instanceof Date, "get-session dates", s.session);
check(s.session.token === s.session.id && s.session.token !== signedIn.token, "get-session hides the token", s.session);

must(await laptop.signIn.email({ email, password }), "second device sign-in");
const list = must(await client.listSessions(), "list-sessions");
check(Array.isArray(list) && list.length === 2 && list.every((x) => x.expiresAt instanceof Date), "two sessions", list);

must(await client.revokeOtherSessions(), "revoke-other-sessions");
check((await laptop.getSession()).data === null, "other device signed out", null);
check((await client.getSession()).data?.session.id === s.session.id, "this device still signed in", null);

const wrongCurrent = await client.changePassword({ currentPassword: "not my password", newPassword: "a brand new password" });
check(wrongCurrent.error?.code === "INVALID_PASSWORD", "change-password wrong current", wrongCurrent.error);
const changed = must(
  await client.changePassword({ currentPassword: password, newPassword: "a brand new password", revokeOtherSessions: true }),
  "change-password",
);
check(typeof changed.token === "string" && changed.user.email === email.toLowerCase(), "change-password body", changed);
check((await client.getSession()).data?.session.id !== s.session.id, "session rotated", null);
const oldPassword = await laptop.signIn.email({ email, password });
check(oldPassword.error?.code === "INVALID_EMAIL_OR_PASSWORD", "old password refused", oldPassword.error);

must(await client.signOut(), "final sign-out");
check((await client.getSession()).data === null, "getSession null", null);
console.log("ALL OK");
