// Drives the published `convex` npm package's ConvexHttpClient against the dev server.
// Usage: CONVEX_URL=http://127.0.0.1:PORT node convex-http.mjs   (prints one JSON line: RESULT {...})
import { ConvexHttpClient } from "convex/browser";
import { anyApi } from "convex/server";
import { ConvexError } from "convex/values";

const client = new ConvexHttpClient(process.env.CONVEX_URL, { skipConvexDeploymentUrlCheck: true, logger: false });
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

// setAuth(token) sends Authorization: Bearer <token>.
// TODO(auth): once the sessions layer lands, sign up with the better-auth client, pass the real session token
// here, and expect the user's id; the test server maps TEST_TOKEN to a fixed user through a fake resolver.
out.anonymous = await client.query(api.values.whoami, {});
client.setAuth(process.env.TEST_TOKEN);
out.signedIn = await client.query(api.values.whoami, {});
client.clearAuth();
out.afterClear = await client.query(api.values.whoami, {});

console.log("RESULT " + JSON.stringify(out));
