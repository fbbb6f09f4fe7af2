// The loader of the light widget runtime (about 1 KB, `defer`red on pages with widgets).
// Until a widget is drawn its saved state shows as plain HTML (the .lw-fallback that the
// Sphinx extension tools/light_widgets.py wrote into the page). Once the page has loaded
// and the browser is idle, the runtime is fetched and compiled ahead (modulepreload), and so
// is the page's widget state when it is small (data-state-bytes); a large state is fetched
// when a widget comes within two screens. A widget is drawn when it comes near the
// viewport, or as soon as a reader touches or focuses it.
(() => {
  const script = document.currentScript;
  const views = [...document.querySelectorAll('.lw-view')];
  if (!script || !views.length) return;
  const runtimeUrl = new URL('runtime.js', script.src).href + (script.dataset.version ? `?v=${script.dataset.version}` : '');
  const stateUrl = new URL(script.dataset.state, document.baseURI).href;
  let started, state;

  // The state is fetched (not parsed) ahead; the runtime module is fetched and compiled
  // ahead by a modulepreload link, and run only when the first widget is drawn.
  const fetchState = () => (state ??= fetch(stateUrl).then((r) => {
    if (!r.ok) throw new Error(`widget state: HTTP ${r.status}`);
    return r;
  }));
  const start = () => (started ??= Promise.all([import(runtimeUrl), fetchState().then((r) => r.json())])
    .then(([runtime, saved]) => { runtime.load(saved); return runtime; }));

  const draw = (view) => {
    if (view.dataset.lwState) return;
    view.dataset.lwState = 'loading';
    start()
      .then((runtime) => {
        const host = document.createElement('div');
        host.className = 'lw-host';
        view.prepend(host);
        return runtime.render(view.dataset.modelId, host);
      })
      .then(() => {
        view.querySelector(':scope > .lw-fallback')?.remove();
        view.dataset.lwState = 'ready';
      })
      .catch((error) => { view.dataset.lwState = 'failed'; console.error('Widget not drawn:', error); });
  };

  const SMALL_STATE = 100000; // bytes
  const prefetch = () => {
    const link = Object.assign(document.createElement('link'), { rel: 'modulepreload', href: runtimeUrl });
    document.head.append(link);
    if (Number(script.dataset.stateBytes) <= SMALL_STATE) fetchState().catch(() => {});
  };
  const idle = window.requestIdleCallback || ((fn) => setTimeout(fn, 1));
  if (document.readyState === 'complete') idle(prefetch);
  else addEventListener('load', () => idle(prefetch), { once: true });

  const watch = (margin, action) => {
    const observer = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        if (entry.isIntersecting) { observer.unobserve(entry.target); action(entry.target); }
      }
    }, { rootMargin: margin });
    views.forEach((view) => observer.observe(view));
  };
  if ('IntersectionObserver' in window) {
    watch('200% 0px', () => fetchState().catch(() => {}));
    watch('200px 0px', draw);
  } else views.forEach(draw);
  for (const view of views) {
    for (const type of ['pointerdown', 'focusin']) view.addEventListener(type, () => draw(view), { once: true });
  }
})();
