// The published convex package's ConvexClient (convex/browser, WebSocket sync protocol, `ws` on Node 20) against
// the dev server's /api/<version>/sync, on the example app (functions/: myData with the auth tables).
//   APP_URL     the dev server
//   PHASE       "live" (default): subscriptions, another client's mutation, unsubscribe, auth change, query error
//               "restart-1" / "restart-2": see tests/http/test_live_node_client.py (reconnect after a restart)
//               "jwt": setAuth with an identity provider's JWTs on an app with functions/auth_config.py (who:me);
//               FIRST_TOKEN, SECOND_TOKEN (another subject), BAD_TOKEN (bad signature)
// Prints one line "RESULT <json>".
import { ConvexClient } from "convex/browser";
import { anyApi } from "convex/server";
import WebSocket from "ws";

const url = process.env.APP_URL;
const api = anyApi;
const out = {};
const emails = {};

function client() {
  return new ConvexClient(url, { webSocketConstructor: WebSocket, unsavedChangesWarning: false });
}

async function signUp(name) {
  const response = await fetch(`${url}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: url },
    body: JSON.stringify({ name, email: `${name}-${Date.now()}@example.com`, password: "correct horse battery" }),
  });
  const body = await response.json();
  if (!response.ok) throw new Error("sign-up failed: " + JSON.stringify(body));
  emails[body.token] = body.user.email;
  return body.token;
}

// Another session of the user a token belongs to (sign-in).
async function signInAgain(token) {
  const response = await fetch(`${url}/api/auth/sign-in/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: url },
    body: JSON.stringify({ email: emails[token], password: "correct horse battery" }),
  });
  const body = await response.json();
  if (!response.ok) throw new Error("sign-in failed: " + JSON.stringify(body));
  return body.token;
}

// Resolves with the first value (or error) of a subscription that satisfies `accept`.
function watch(c, ref, args) {
  const seen = [];
  let waiters = [];
  const push = (item) => {
    seen.push(item);
    waiters = waiters.filter((w) => !(w.accept(item) && (w.resolve(item), true)));
  };
  const unsubscribe = c.onUpdate(ref, args, (value) => push({ value }), (error) => push({ error }));
  return {
    seen,
    unsubscribe,
    next(accept, label) {
      const found = seen.find(accept);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("timed out waiting for " + label + ": " + JSON.stringify(seen))), 10000);
        waiters.push({ accept, resolve: (item) => (clearTimeout(timer), resolve(item)) });
      });
    },
  };
}

const texts = (item) => (item.value ?? []).map((note) => note.text);

async function live() {
  const token = await signUp("live");
  const a = client();
  const b = client();
  a.setAuth(async () => token);
  b.setAuth(async () => token);

  // A subscribes; B's mutation reaches A without A doing anything.
  const feed = watch(a, api.myData.getMyData, {});
  await feed.next((item) => Array.isArray(item.value) && item.value.length === 0, "empty list");
  await b.mutation(api.myData.add, { text: "from b" });
  const updated = await feed.next((item) => texts(item).includes("from b"), "B's note at A");
  out.seenByOther = texts(updated);

  // Read-your-writes: when A's own mutation resolves, A's subscription already shows it.
  await a.mutation(api.myData.add, { text: "from a" });
  out.ownWriteVisibleOnResolve = texts({ value: a.client.localQueryResult("myData:getMyData", {}) ?? [] });

  // A ConvexError from a mutation carries its data.
  const anonymous = client();
  try {
    await anonymous.mutation(api.myData.add, { text: "nope" });
    out.mutationError = "no error";
  } catch (error) {
    out.mutationError = { data: error.data ?? null };
  }
  // A query that throws reaches onUpdate's error callback, with the ConvexError data.
  const failing = watch(anonymous, api.myData.getMyData, {});
  const failed = await failing.next((item) => item.error !== undefined, "query error");
  out.queryError = { message: String(failed.error.message).includes("Not authenticated"), data: failed.error.data ?? null };
  failing.unsubscribe();

  // Unsubscribed: B's next write does not reach the old callback.
  const count = feed.seen.length;
  feed.unsubscribe();
  await b.mutation(api.myData.add, { text: "after unsubscribe" });
  const fresh = watch(a, api.myData.getMyData, {});
  await fresh.next((item) => texts(item).includes("after unsubscribe"), "fresh subscription");
  out.unsubscribedStaysQuiet = feed.seen.length === count;

  // Auth change: clearAuth() re-runs the query as anonymous (a query error), setAuth again brings the notes back.
  a.client.clearAuth();
  const cleared = await fresh.next((item) => item.error !== undefined, "error after clearAuth");
  out.afterClearAuth = cleared.error.data ?? null;
  const seenBefore = fresh.seen.length;
  a.setAuth(async () => token);
  await fresh.next((item, index) => fresh.seen.indexOf(item) >= seenBefore && Array.isArray(item.value), "notes again");
  out.authAgain = true;

  // Signing out revokes the session: the subscription stops receiving the user's notes on the next change.
  const signOut = await fetch(`${url}/api/auth/sign-out`, { method: "POST", headers: { authorization: `Bearer ${token}`, origin: url } });
  out.signOutStatus = signOut.status;
  await anonymous.mutation(api.myData.add, { text: "x" }).catch(() => {});
  // The dev server checks every connection's session after any commit. On AWS a connection learns that its session
  // ended on the next change to what it watches (docs/realtime.md, "On AWS"): TRIGGER=same-user writes one of this
  // user's notes through another session.
  const other = process.env.TRIGGER === "same-user" ? await signInAgain(token) : await signUp("other");
  const c = client();
  c.setAuth(async () => other);
  await c.mutation(api.myData.add, { text: "trigger a commit" });
  const ended = await fresh.next((item) => item.error !== undefined && fresh.seen.indexOf(item) > seenBefore, "error after sign-out");
  out.afterSignOut = ended.error.data ?? null;

  await Promise.all([a.close(), b.close(), c.close(), anonymous.close()]);
}

async function restartFirst() {
  // Subscribe, then keep the client open while the test restarts the server; report through stdout lines.
  const token = await signUp("restart");
  const a = client();
  a.setAuth(async () => token);
  const feed = watch(a, api.myData.getMyData, {});
  await feed.next((item) => Array.isArray(item.value), "first result");
  process.stdout.write("READY " + JSON.stringify({ token }) + "\n");
  // The test restarts the server on the same port and adds a note over HTTP with the same token.
  const after = await feed.next((item) => texts(item).includes("after restart"), "update after the restart");
  out.afterRestart = texts(after);
  await a.close();
}

async function jwt() {
  // setAuth: the client sends the token it fetched first, and once the server confirmed it, fetches a fresh one
  // (forceRefreshToken) and authenticates again: the subscription follows each identity.
  const a = client();
  const feed = watch(a, api.who.me, {});
  await feed.next((item) => item.value && item.value.identity === null, "anonymous");
  const tokens = [process.env.FIRST_TOKEN, process.env.SECOND_TOKEN];
  const fetched = [];
  const changes = [];
  a.setAuth(
    async (options) => {
      fetched.push(options.forceRefreshToken);
      return tokens[Math.min(fetched.length - 1, tokens.length - 1)];
    },
    (isAuthenticated) => changes.push(isAuthenticated),
  );
  const subject = (item) => item.value && item.value.identity && item.value.identity.subject;
  out.first = subject(await feed.next((item) => subject(item) === "user-42", "the first token's identity"));
  out.refreshed = subject(await feed.next((item) => subject(item) === "user-43", "the second token's identity"));
  out.authChanges = [...changes];
  out.fetched = [...fetched];
  out.subjects = feed.seen.map((item) => (item.value ? subject(item) ?? null : "error"));

  // A badly signed token: the server answers AuthError, the client refetches, gets the same, then gives up and
  // reports that it is not authenticated; the query runs as anonymous again.
  const b = client();
  const other = watch(b, api.who.me, {});
  await other.next((item) => item.value && item.value.identity === null, "anonymous (b)");
  const refused = new Promise((resolve) => b.setAuth(async () => process.env.BAD_TOKEN, (ok) => ok || resolve(ok)));
  out.badTokenAuthenticated = await Promise.race([
    refused,
    new Promise((_, reject) => setTimeout(() => reject(new Error("no auth failure reported")), 10000)),
  ]);
  out.badTokenIdentities = other.seen.filter((item) => subject(item)).length;
  await Promise.all([a.close(), b.close()]);
}

const phase = process.env.PHASE ?? "live";
try {
  if (phase === "live") await live();
  else if (phase === "jwt") await jwt();
  else await restartFirst();
  process.stdout.write("RESULT " + JSON.stringify(out) + "\n");
  process.exit(0);
} catch (error) {
  process.stderr.write(String(error && error.stack ? error.stack : error) + "\n");
  process.stdout.write("PARTIAL " + JSON.stringify(out) + "\n");
  process.exit(1);
}
