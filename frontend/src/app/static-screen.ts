/**
 * index.html paints the booking page's first screen before any JavaScript runs, and that paint is the page's
 * Largest Contentful Paint. Chromium times a paint when the compositor reports it back, in a later task; a
 * node removed before then is dropped from the candidates, and the app's copy of the same text, painted
 * later, becomes the LCP (seen in about half of the runs of scripts/measure-spa.mjs). So the app replaces
 * the static screen once the browser has recorded that paint (its first LCP entry), at once where there is
 * nothing to wait for (no such entry type, a hidden tab, or another page, whose static part is hidden), and
 * after `maxWaitMs` in any case: a safety net (the entry comes a frame or two after the paint; on a saturated
 * machine 250 ms was sometimes too short, and the static paint was lost again).
 */
export function afterStaticScreenPainted(render: () => void, maxWaitMs = 1000): void {
  const canObserve =
    typeof PerformanceObserver !== 'undefined' &&
    PerformanceObserver.supportedEntryTypes.includes('largest-contentful-paint');
  const showsStaticScreen = !document.documentElement.classList.contains('not-book-page');
  if (!canObserve || !showsStaticScreen || document.visibilityState !== 'visible') {
    render();
    return;
  }
  let done = false;
  const renderOnce = () => {
    if (done) return;
    done = true;
    observer.disconnect();
    clearTimeout(timer);
    render();
  };
  const observer = new PerformanceObserver(renderOnce);
  observer.observe({ type: 'largest-contentful-paint', buffered: true });
  const timer = setTimeout(renderOnce, maxWaitMs);
}
