/** Calls `tick` every `ms` while the tab is visible, and once at once when it becomes visible again. */
import { useEffect, useRef } from "preact/hooks";

export const refreshMs = 5000;

export function usePoll(tick: () => void, ms = refreshMs): void {
  const latest = useRef(tick);
  latest.current = tick;
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const schedule = () => {
      clearTimeout(timer);
      // A hidden tab asks nothing; the server is spared and the list is fresh again on return.
      if (!document.hidden) timer = setTimeout(run, ms);
    };
    const run = () => {
      latest.current();
      schedule();
    };
    const onVisibility = () => (document.hidden ? clearTimeout(timer) : run());
    document.addEventListener("visibilitychange", onVisibility);
    schedule();
    return () => {
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [ms]);
}
