// Drives the published `convex` npm package's ConvexHttpClient against two dev servers:
//   CONVEX_URL  tests/http/apps/clientapp  value encoding, errors, argument validation;
//   APP_URL     the example app (functions/, with auth tables)  setAuth(token) with a real session token, and a
//               client whose fetch carries the better-auth client's session cookie.
// Usage: CONVEX_URL=http://127.0.0.1:P1 APP_URL=http://127.0.0.1:P2 node convex-http.mjs
// Prints one JSON line: RESULT {...}
import { ConvexHttpClient } from "convex/browser";
import { anyApi } from "convex/server";
import { ConvexError } from "convex/values";
import { makeAuthClient } from "./auth-client.mjs";

const OPTIONS = { skipConvexDeploymentUrlCheck: true, logger: false };
const client = new ConvexHttpClient(process.env.CONVEX_URL, OPTIONS);
const api = anyApi;
const out = {};
const hex = (buffer) => Buffer.from(new Uint8Array(buffer)).toString("hex");

// Round trips: int64 (BigInt), bytes (ArrayBuffer), nested objects and arrays, floats.
const sent = { n: 5n, neg: -(2n ** 63n), bytes: new Uint8Array([0, 16, 131]).buffer, f: 1.5, nested: { a: [1, "x", null, { b: true }] } };
const echoed = await client.query(api.values.echo, { value: sent });
out.echo = {
  n: typeof echoed.n === "bigint" && echoed.n === 5n,
  neg: echoed.neg === -(2n ** 63n),
  bytes: echoed.bytes instanceof ArrayBuffer && hex(echoed.bytes) === "001083",
  f: echoed.f === 1.5,
  nested: JSON.stringify(echoed.nested) === JSON.stringify(sent.nested),
};
const special = await client.query(api.values.special, {});
out.special = { big: special.big === 2n ** 62n + 1n, bytes: hex(special.bytes) === "001083ff", nested: special.nested };

// Mutations (queued by the client) and actions.
out.added = typeof (await client.mutation(api.values.add, { text: "hello" })) === "string";
out.action = await client.action(api.values.ping, {});

// A ConvexError surfaces with its data (int64 decoded).
try {
  await client.query(api.values.fail, {});
  out.convexError = "no error";
} catch (e) {
  out.convexError = { isConvexError: e instanceof ConvexError, code: e.data?.code, max: e.data?.max === 128n };
}

// An argument validation error is a plain Error carrying the message.
try {
  await client.mutation(api.values.add, { text: 42 });
  out.argError = "no error";
} catch (e) {
  out.argError = { isConvexError: e instanceof ConvexError, mentionsField: /text/.test(e.message), validation: /ArgumentValidationError/.test(e.message) };
}

// An unknown function.
try {
  await client.query(api.values.nope, {});
} catch (e) {
  out.notFound = /Could not find public function/.test(e.message);
}

// --- Auth, against the example app. ---
const APP_URL = process.env.APP_URL;
const describe = async (promise) => {
  try {
    return { value: await promise };
  } catch (e) {
    return e instanceof ConvexError ? { convexError: e.data } : { error: String(e.message) };
  }
};
const { client: auth, fetch: cookieFetch } = makeAuthClient(APP_URL);
const app = new ConvexHttpClient(APP_URL, OPTIONS);
out.anonymous = await describe(app.query(api.myData.getMyData, {}));

const up = await auth.signUp.email({ name: "Node", email: `node-${Date.now()}@example.com`, password: "correct horse battery" });
if (up.error) throw new Error("sign-up failed: " + JSON.stringify(up.error));
const userId = up.data.user.id;
// setAuth(token) sends Authorization: Bearer <token>; the token is the one sign-up reports (data.token).
app.setAuth(up.data.token);
const noteId = await app.mutation(api.myData.add, { text: "from node" });
const mine = await app.query(api.myData.getMyData, {});
out.signedIn = {
  added: typeof noteId === "string",
  notes: mine.map((n) => n.text),
  ownNotes: mine.every((n) => n.userId === userId && n._id === noteId),
};

// The better-auth client's cookie jar, as a ConvexHttpClient's fetch: the same user reaches the functions.
const viaCookie = new ConvexHttpClient(APP_URL, { ...OPTIONS, fetch: cookieFetch });
await viaCookie.mutation(api.myData.add, { text: "via cookie" });
const seenByCookie = await viaCookie.query(api.myData.getMyData, {});
out.cookie = { notes: seenByCookie.map((n) => n.text), sameUser: seenByCookie.every((n) => n.userId === userId) };

// clearAuth() makes the client anonymous; setAuth again restores the user (the session itself is untouched).
app.clearAuth();
out.afterClear = await describe(app.query(api.myData.getMyData, {}));
out.afterClearMutation = await describe(app.mutation(api.myData.add, { text: "anonymous" }));
app.setAuth(up.data.token);
out.authAgain = (await app.query(api.myData.getMyData, {})).length;

// Sign-out through the better-auth client revokes the session: the bearer client and the cookie client lose it.
const signedOut = await auth.signOut();
out.signOut = signedOut.data;
out.afterSignOut = await describe(app.query(api.myData.getMyData, {}));
out.cookieAfterSignOut = await describe(viaCookie.query(api.myData.getMyData, {}));

console.log("RESULT " + JSON.stringify(out));
