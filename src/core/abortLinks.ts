// Many calls in flight often share one caller's signal (`maof batch` passes its Ctrl-C signal to
// every request; requests without a signal share one that never aborts). Node's EventTarget scans
// its listener list on every add and remove, so a listener per call costs more the more calls are
// in flight. Here each signal gets one listener, and the calls waiting on it sit in a Set.
const links = new WeakMap<AbortSignal, Set<() => void>>();

/** Runs `fn` once when `signal` aborts; returns the unsubscribe. The caller checks `aborted` first. */
export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  let waiting = links.get(signal);
  if (!waiting) {
    const set = new Set<() => void>();
    waiting = set;
    links.set(signal, set);
    signal.addEventListener(
      'abort',
      () => {
        const due = [...set];
        set.clear();
        for (const f of due) f();
      },
      { once: true },
    );
  }
  const set = waiting;
  set.add(fn);
  return () => {
    set.delete(fn);
  };
}
