import { afterStaticScreenPainted } from '@/app/static-screen';

/** A PerformanceObserver that reports an entry when the test says the browser has timed the paint. */
class FakeObserver {
  static supportedEntryTypes: readonly string[] = ['paint', 'largest-contentful-paint'];
  static instances: FakeObserver[] = [];
  observed: string[] = [];
  disconnected = false;
  constructor(private readonly callback: () => void) {
    FakeObserver.instances.push(this);
  }
  observe({ type }: { type: string }) {
    this.observed.push(type);
  }
  disconnect() {
    this.disconnected = true;
  }
  paint() {
    if (!this.disconnected) this.callback();
  }
}

describe('afterStaticScreenPainted', () => {
  beforeEach(() => {
    FakeObserver.instances = [];
    FakeObserver.supportedEntryTypes = ['paint', 'largest-contentful-paint'];
    vi.stubGlobal('PerformanceObserver', FakeObserver);
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
    document.documentElement.classList.remove('not-book-page');
  });

  it('renders once the static screen has an LCP entry, and only once', () => {
    const render = vi.fn();
    afterStaticScreenPainted(render);
    const [observer] = FakeObserver.instances;
    expect(observer?.observed).toEqual(['largest-contentful-paint']);
    expect(render).not.toHaveBeenCalled();
    observer?.paint();
    expect(render).toHaveBeenCalledTimes(1);
    expect(observer?.disconnected).toBe(true);
    vi.advanceTimersByTime(1000);
    expect(render).toHaveBeenCalledTimes(1);
  });

  it('renders after the longest wait when no paint is reported (default 1 s)', () => {
    const render = vi.fn();
    afterStaticScreenPainted(render);
    vi.advanceTimersByTime(999);
    expect(render).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(render).toHaveBeenCalledTimes(1);
  });

  it('renders at once on another page (its static part is hidden)', () => {
    document.documentElement.classList.add('not-book-page');
    const render = vi.fn();
    afterStaticScreenPainted(render);
    expect(render).toHaveBeenCalledTimes(1);
    expect(FakeObserver.instances).toHaveLength(0);
  });

  it('renders at once in a browser that does not report LCP', () => {
    FakeObserver.supportedEntryTypes = ['paint'];
    const render = vi.fn();
    afterStaticScreenPainted(render);
    expect(render).toHaveBeenCalledTimes(1);
  });

  it('renders at once in a hidden tab (nothing is painted there)', () => {
    vi.spyOn(document, 'visibilityState', 'get').mockReturnValue('hidden');
    const render = vi.fn();
    afterStaticScreenPainted(render);
    expect(render).toHaveBeenCalledTimes(1);
  });
});
