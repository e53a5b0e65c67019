// The checks every client script reports with: one "<label> OK" line per step, and on the first surprise a
// "FAIL <label> <detail>" line on stderr and exit code 1 (the Python test shows both).

/** Stop the script: `label` failed, `detail` shows what came back instead. */
export function fail(label, detail) {
  console.error("FAIL", label, JSON.stringify(detail));
  process.exit(1);
}

/** A Better Auth client result `{data, error}` that must have succeeded; returns `data`. */
export function must(result, label) {
  if (result.error) fail(label, result.error);
  console.log(label, "OK");
  return result.data;
}

/** A condition that must hold. */
export function check(condition, label, detail) {
  if (!condition) fail(label, detail);
  console.log(label, "OK");
}
