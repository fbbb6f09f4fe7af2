// Bundle the light widget runtime with esbuild: `node build.mjs OUT_DIR`.
// Writes OUT_DIR/runtime.js (ES module: manager, controls, anywidget and their CSS)
// and OUT_DIR/loader.js. Run by tools/vendor_js.py after `npm ci` (pinned lock file).
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(process.argv[2] || path.join(here, 'dist'));
const common = { bundle: true, minify: true, target: 'es2020', legalComments: 'none', logLevel: 'warning' };

// The controls' style sheets, bundled apart and injected by the runtime as text.
const css = await build({ ...common, entryPoints: [path.join(here, 'src/runtime.css')], write: false });

const light = {
  name: 'light-runtime',
  setup(b) {
    b.onResolve({ filter: /^sanitize-html$/ }, () => ({ path: path.join(here, 'src/sanitize.js') }));
    b.onResolve({ filter: /runtime\.css$/ }, () => ({ path: 'runtime.css', namespace: 'css-text' }));
    b.onLoad({ filter: /.*/, namespace: 'css-text' }, () => ({ contents: css.outputFiles[0].text, loader: 'text' }));
    // anywidget's front-end ends with an AMD `define` call; expose its factory as an ES export.
    b.onLoad({ filter: /anywidget[\\/]dist[\\/]index\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const amd = 'define(["@jupyter-widgets/base"], widget_default);';
      if (!source.includes(amd)) throw new Error('anywidget front-end changed: update build.mjs');
      return { contents: source.replace(amd, 'export default widget_default;'), loader: 'js' };
    });
  },
};

await build({
  ...common,
  entryPoints: [path.join(here, 'src/runtime.js')],
  outfile: path.join(out, 'runtime.js'),
  format: 'esm',
  treeShaking: true,
  // `define` undefined: backbone and friends must not take their AMD branch.
  define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis', define: 'undefined' },
  plugins: [light],
});
await build({ ...common, entryPoints: [path.join(here, 'src/loader.js')], outfile: path.join(out, 'loader.js'), format: 'iife' });
