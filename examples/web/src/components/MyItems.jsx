// The signed-in user's items, live: useQuery(myData:getMyData) subscribes over the WebSocket, so the
// list changes by itself whenever anyone's mutation changes what the query read (another tab, another
// device); useMutation(myData:add) resolves once the list already shows the new item.
import { useMutation, useQuery } from "convex/react";
import { Component, useState } from "react";
import { api } from "../lib/clients.js";
import { describeConvexError } from "../lib/errors.js";
import ErrorAlert from "./ErrorAlert.jsx";

// useQuery throws a query's error (here: the ConvexError "Not authenticated" once the session ends)
// to the nearest error boundary; this one shows it where the list was.
class QueryErrorBoundary extends Component {
  constructor(props) {
    super(props);
    this.state = { error: null };
  }

  static getDerivedStateFromError(error) {
    return { error };
  }

  render() {
    if (this.state.error) {
      return <ErrorAlert message={describeConvexError(this.state.error)} testId="items-error" />;
    }
    return this.props.children;
  }
}

function ItemList() {
  const items = useQuery(api.myData.getMyData, {});
  if (items === undefined) return <p className="muted">Loading items...</p>;
  if (items.length === 0) {
    return (
      <p className="muted" data-testid="items-empty">
        No items yet.
      </p>
    );
  }
  return (
    <ul className="list" data-testid="items-list">
      {items.map((item) => (
        <li key={item._id} data-testid="item">
          {item.text}
        </li>
      ))}
    </ul>
  );
}

export default function MyItems() {
  const add = useMutation(api.myData.add);
  const [error, setError] = useState(null);
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);

  async function onAdd(event) {
    event.preventDefault();
    setBusy(true);
    try {
      await add({ text });
      setText("");
      setError(null);
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
        <span className="muted" data-testid="items-live">
          live
        </span>
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
      <ErrorAlert message={error} testId="item-add-error" />
      <QueryErrorBoundary>
        <ItemList />
      </QueryErrorBoundary>
    </section>
  );
}
