// The published better-auth client drives social sign-in against the dev server and a fake provider:
// signIn.social (OpenID Connect and GitHub), the provider's redirect back to /callback/:provider, listAccounts,
// linkSocial, unlinkAccount, and a callback whose state is not this client's. In Node there is no window, so the
// client hands back {url, redirect} and this script plays the browser's part: it opens the provider's URL and
// follows the redirect back, with the cookie jar the client uses.
// Usage: AUTH_BASE_URL=http://127.0.0.1:PORT PROVIDER_URL=http://127.0.0.1:PORT2 node better-auth-social.mjs
import { makeAuthClient } from "./auth-client.mjs";
import { check, fail, must } from "./checks.mjs";

const ORIGIN = process.env.AUTH_BASE_URL;
const PROVIDER = process.env.PROVIDER_URL;
if (!ORIGIN || !PROVIDER) throw new Error("AUTH_BASE_URL and PROVIDER_URL are required");

/** The browser's part: the provider's authorize URL, then the redirect back to the API; where it lands. */
async function visit(authorizeUrl, jarFetch) {
  const atProvider = await fetch(authorizeUrl, { redirect: "manual" });
  const back = atProvider.headers.get("location");
  if (atProvider.status !== 302 || !back?.startsWith(ORIGIN + "/api/auth/callback/")) fail("provider redirect", back);
  const landed = await jarFetch(back, { redirect: "manual" });
  if (landed.status !== 302) fail("callback status", landed.status);
  return { back, location: landed.headers.get("location") };
}

// 1. OpenID Connect: a new user
const ada = makeAuthClient(ORIGIN);
const started = must(
  await ada.client.signIn.social({
    provider: "fake", callbackURL: "/home", newUserCallbackURL: "/welcome", errorCallbackURL: "/oops",
  }),
  "signIn.social (OIDC)",
);
check(started.redirect === true && started.url.startsWith(PROVIDER + "/authorize?"), "authorize URL", started);
const url = new URL(started.url);
check(url.searchParams.get("code_challenge_method") === "S256" && url.searchParams.get("nonce"), "PKCE and nonce", started.url);
check([...ada.jar.keys()].includes("better-auth.state"), "state cookie in the jar", [...ada.jar.keys()]);
const first = await visit(started.url, ada.fetch);
check(first.location === "/welcome", "new user lands on newUserCallbackURL", first.location);
const session = must(await ada.client.getSession(), "getSession");
check(session.user.email === "ada@example.com" && session.user.emailVerified === true, "the provider's user", session.user);
let accounts = must(await ada.client.listAccounts(), "listAccounts");
check(accounts.length === 1 && accounts[0].providerId === "fake" && accounts[0].accountId === "oidc-ada"
  && accounts[0].scopes.join(" ") === "openid email profile", "one OIDC account", accounts);

// 2. The same callback again: the state was used up (and with it the sign-in's errorCallbackURL)
const replay = await ada.fetch(first.back, { redirect: "manual" });
check(replay.headers.get("location") === "/api/auth/error?error=state_mismatch", "replayed callback refused",
  replay.headers.get("location"));

// 3. GitHub, on another device: the verified address links to the same user
const device = makeAuthClient(ORIGIN);
const gh = must(await device.client.signIn.social({ provider: "github", callbackURL: "/home" }), "signIn.social (GitHub)");
check(gh.url.startsWith(PROVIDER + "/login/oauth/authorize?"), "GitHub authorize URL", gh.url);
check((await visit(gh.url, device.fetch)).location === "/home", "existing user lands on callbackURL", null);
check((await device.client.getSession()).data.user.id === session.user.id, "same user", null);

// 4. unlink GitHub, link it again, unlink down to the last account
accounts = must(await ada.client.listAccounts(), "listAccounts (two)");
check(accounts.map((a) => a.providerId).sort().join() === "fake,github", "two accounts", accounts);
const githubRow = accounts.find((a) => a.providerId === "github");
check(must(await ada.client.unlinkAccount({ accountId: githubRow.id }), "unlinkAccount").status === true, "unlinked", null);
const linking = must(await ada.client.linkSocial({ provider: "github", callbackURL: "/settings" }), "linkSocial");
check(linking.redirect === true, "linkSocial answers {url, redirect}", linking);
check((await visit(linking.url, ada.fetch)).location === "/settings", "link lands on callbackURL", null);
accounts = must(await ada.client.listAccounts(), "listAccounts (linked again)");
check(accounts.length === 2, "linked again", accounts);
must(await ada.client.unlinkAccount({ accountId: accounts.find((a) => a.providerId === "fake").id }), "unlink OIDC");
const last = await ada.client.unlinkAccount({ accountId: accounts.find((a) => a.providerId === "github").id });
check(last.error?.status === 400 && last.error?.code === "FAILED_TO_UNLINK_LAST_ACCOUNT", "last account kept", last.error);

// 5. An unknown provider, and a state that is not this client's
const unknown = await ada.client.signIn.social({ provider: "nope" });
check(unknown.error?.status === 404 && unknown.error?.code === "PROVIDER_NOT_FOUND", "unknown provider", unknown.error);
const mine = must(await ada.client.signIn.social({ provider: "fake", errorCallbackURL: "/oops" }), "signIn.social again");
const stranger = makeAuthClient(ORIGIN);
const atProvider = await fetch(mine.url, { redirect: "manual" });
const stolen = await stranger.fetch(atProvider.headers.get("location"), { redirect: "manual" });
check(stolen.headers.get("location") === "/oops?error=state_mismatch", "another browser's state refused", stolen.headers.get("location"));
check((await stranger.client.getSession()).data === null, "no session for the other browser", null);

console.log("ALL OK");
