// Turns what the clients report into one line a person can read. Nothing is swallowed: every
// caller puts this text in a role="alert" element.

// Better Auth's client resolves to {data, error}; error is the server's JSON {message, code}
// plus the HTTP status.
export function describeAuthError(error) {
  if (!error) return null;
  const message = error.message || error.statusText || "Request failed";
  const detail = error.code ?? (error.status ? `HTTP ${error.status}` : null);
  return detail ? `${message} (${detail})` : message;
}

// ConvexHttpClient throws a ConvexError carrying the function's error data in `.data`, or a plain
// Error ("Server Error", transport failures) otherwise.
export function describeConvexError(err) {
  if (err && err.data !== undefined) {
    const data = err.data;
    if (typeof data === "string") return data;
    if (data && typeof data === "object" && typeof data.message === "string") {
      return data.code ? `${data.message} (${data.code})` : data.message;
    }
    if (data && typeof data === "object" && typeof data.code === "string") return data.code;
    return JSON.stringify(data);
  }
  return err?.message || String(err);
}
