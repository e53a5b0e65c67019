// A browser-less better-auth client: createAuthClient over a fetch that keeps a cookie jar. The same fetch
// can be handed to ConvexHttpClient ({ fetch }) so that its calls carry the cookie.
import { createAuthClient } from "better-auth/client";

/**
 * @param {string} origin  the server's origin, e.g. http://127.0.0.1:3210 (also sent as the Origin header)
 * @param {Record<string, string>} [extraHeaders]  added to every request (e.g. a second device's x-forwarded-for)
 */
export function makeAuthClient(origin, extraHeaders = {}) {
  const jar = new Map(); // cookie name -> raw (still URI-encoded) value
  async function jarFetch(input, init = {}) {
    const req = new Request(input, init);
    const headers = new Headers(req.headers);
    for (const [name, value] of Object.entries(extraHeaders)) headers.set(name, value);
    if (jar.size) headers.set("cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
    if (!headers.has("origin")) headers.set("origin", origin); // Node fetch sends sec-fetch-mode: cors
    const res = await fetch(new Request(req, { headers }));
    for (const sc of res.headers.getSetCookie()) {
      const [pair, ...attrs] = sc.split(";");
      const i = pair.indexOf("=");
      const name = pair.slice(0, i).trim(), value = pair.slice(i + 1).trim();
      if (value === "" || attrs.some((a) => /^\s*max-age=0\s*$/i.test(a))) jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  }
  const client = createAuthClient({ baseURL: origin, fetchOptions: { customFetchImpl: jarFetch } });
  return { client, jar, fetch: jarFetch };
}
