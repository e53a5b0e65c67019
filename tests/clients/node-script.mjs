// A Node script (no browser, no cookie jar) using the published better-auth and convex packages against a server,
// exactly as docs/http.md "Node scripts and servers" shows. Usage: APP_URL=http://127.0.0.1:P node node-script.mjs
// Prints one JSON line: RESULT {...}
import { createAuthClient } from "better-auth/client";
import { ConvexHttpClient } from "convex/browser";
import { anyApi } from "convex/server";

const url = process.env.APP_URL;
const api = anyApi;
const out = {};
const email = `script-${Date.now()}@example.com`;
const password = "a long script password";

// Without an Origin header Node's fetch looks like a cross-site browser request (it sends Sec-Fetch-Mode: cors).
const bare = createAuthClient({ baseURL: url });
const refused = await bare.signIn.email({ email, password });
out.withoutOrigin = { status: refused.error?.status, code: refused.error?.code };

// The documented way: name the server's own origin (or a trusted one) in fetchOptions.headers.
const auth = createAuthClient({ baseURL: url, fetchOptions: { headers: { Origin: url } } });
const signedUp = await auth.signUp.email({ name: "Script", email, password });
out.signUp = { ok: signedUp.error === null, hasToken: typeof signedUp.data?.token === "string" };
let bearer = null;
const signedIn = await auth.signIn.email(
  { email, password },
  { onSuccess: (ctx) => { bearer = ctx.response.headers.get("set-auth-token"); } },
);
out.signIn = { ok: signedIn.error === null, bearer: typeof bearer === "string" && bearer.length > 0 };

// ConvexHttpClient: setAuth with the session token; every call carries Authorization: Bearer.
const convex = new ConvexHttpClient(url, { skipConvexDeploymentUrlCheck: true, logger: false });
convex.setAuth(bearer);
const id = await convex.mutation(api.myData.add, { text: "from a script" });
const mine = await convex.query(api.myData.getMyData, {});
out.convex = { added: typeof id === "string", texts: mine.map((doc) => doc.text) };

// A session cookie without Origin on a POST is not used; the response says why.
const signedUpCookie = await fetch(`${url}/api/auth/sign-in/email`, {
  method: "POST",
  headers: { "content-type": "application/json", origin: url },
  body: JSON.stringify({ email, password }),
});
const cookie = signedUpCookie.headers.getSetCookie()[0].split(";")[0];
const ignored = await fetch(`${url}/api/query`, {
  method: "POST",
  headers: { "content-type": "application/json", cookie },
  body: JSON.stringify({ path: "myData:getMyData", args: {} }),
});
out.cookieWithoutOrigin = {
  status: ignored.status,
  body: await ignored.json(),
  reason: ignored.headers.get("x-authlib-auth-ignored"),
};
const withOrigin = await fetch(`${url}/api/query`, {
  method: "POST",
  headers: { "content-type": "application/json", cookie, origin: url },
  body: JSON.stringify({ path: "myData:getMyData", args: {} }),
});
out.cookieWithOrigin = { status: withOrigin.status, reason: withOrigin.headers.get("x-authlib-auth-ignored") };
console.log("RESULT " + JSON.stringify(out));
