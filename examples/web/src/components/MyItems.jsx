// The signed-in user's items: the query myData:getMyData and the mutation myData:add, called with
// ConvexHttpClient. HTTP has no subscriptions, so the list is re-read after each add (or on demand).
import { useCallback, useEffect, useState } from "react";
import { api, convex } from "../lib/clients.js";
import { describeConvexError } from "../lib/errors.js";
import ErrorAlert from "./ErrorAlert.jsx";

export default function MyItems({ userId }) {
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      setItems(await convex.query(api.myData.getMyData, {}));
      setError(null);
    } catch (err) {
      setItems(null);
      setError(describeConvexError(err));
    }
  }, []);

  useEffect(() => {
    load();
  }, [load, userId]);

  async function onAdd(event) {
    event.preventDefault();
    setBusy(true);
    try {
      await convex.mutation(api.myData.add, { text });
      setText("");
      await load();
    } catch (err) {
      setError(describeConvexError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="items-title" data-testid="items">
      <div className="card-head">
        <h2 id="items-title">My items</h2>
        <button type="button" className="secondary" onClick={load} data-testid="items-refresh">
          Refresh
        </button>
      </div>
      <form className="inline" onSubmit={onAdd}>
        <label className="grow">
          <span className="visually-hidden">New item</span>
          <input
            value={text}
            onChange={(e) => setText(e.target.value)}
            placeholder="Something to remember"
            required
            data-testid="item-text"
          />
        </label>
        <button type="submit" disabled={busy} data-testid="item-add">
          Add
        </button>
      </form>
      <ErrorAlert message={error} testId="items-error" />
      {items === null && !error && <p className="muted">Loading items...</p>}
      {items !== null && items.length === 0 && (
        <p className="muted" data-testid="items-empty">
          No items yet.
        </p>
      )}
      {items !== null && items.length > 0 && (
        <ul className="list" data-testid="items-list">
          {items.map((item) => (
            <li key={item._id} data-testid="item">
              {item.text}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
