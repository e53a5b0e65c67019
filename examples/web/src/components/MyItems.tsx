// The signed-in user's items, live and typed. usePaginatedQuery(myData:listPage) loads them a page at a
// time over the WebSocket and keeps every loaded page up to date: anyone's mutation that changes what a
// page read (another tab, another device) updates it in place, and a page keeps its boundaries (the server
// journals each page's end) so items never jump between pages. useQuery(myData:count) shows the total;
// useMutation(myData:add) resolves once the list already shows the new item.
//
// `api` comes from the generated types (`authlib-core codegen`, kept fresh by `scripts/dev`), so
// `tsc --noEmit` checks every call here against the Python functions' validators.
import { useMutation, usePaginatedQuery, useQuery } from "convex/react";
import { Component, useState, type FormEvent, type ReactNode } from "react";
import { api } from "../_generated/api";
import type { Doc } from "../_generated/dataModel";
import { describeConvexError } from "../lib/errors.js";
import ErrorAlert from "./ErrorAlert.jsx";

// Items in the first page, and in each page "Load more" adds.
export const PAGE_SIZE = 10;

type BoundaryState = { error: unknown };

// usePaginatedQuery throws a page's error (here: the ConvexError "Not authenticated" once the session
// ends) to the nearest error boundary; this one shows it where the list was.
class QueryErrorBoundary extends Component<{ children: ReactNode }, BoundaryState> {
  state: BoundaryState = { error: null };

  static getDerivedStateFromError(error: unknown): BoundaryState {
    return { error };
  }

  render() {
    if (this.state.error) {
      return <ErrorAlert message={describeConvexError(this.state.error)} testId="items-error" />;
    }
    return this.props.children;
  }
}

function Item({ item }: { item: Doc<"myData"> }) {
  return <li data-testid="item">{item.text}</li>;
}

function ItemList() {
  const { results, status, loadMore } = usePaginatedQuery(api.myData.listPage, {}, { initialNumItems: PAGE_SIZE });
  if (status === "LoadingFirstPage") return <p className="muted">Loading items...</p>;
  if (results.length === 0) {
    return (
      <p className="muted" data-testid="items-empty">
        No items yet.
      </p>
    );
  }
  return (
    <>
      <ul className="list" data-testid="items-list">
        {results.map((item) => (
          <Item key={item._id} item={item} />
        ))}
      </ul>
      {(status === "CanLoadMore" || status === "LoadingMore") && (
        <button
          type="button"
          className="secondary"
          disabled={status === "LoadingMore"}
          onClick={() => loadMore(PAGE_SIZE)}
          data-testid="items-more"
        >
          Load more
        </button>
      )}
    </>
  );
}

function ItemCount() {
  const count = useQuery(api.myData.count, {});
  return (
    <span className="muted" data-testid="items-count">
      {count === undefined ? "live" : `${count} ${count === 1 ? "item" : "items"}, live`}
    </span>
  );
}

export default function MyItems() {
  const add = useMutation(api.myData.add);
  const [error, setError] = useState<string | null>(null);
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);

  async function onAdd(event: FormEvent<HTMLFormElement>) {
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
        <ItemCount />
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
