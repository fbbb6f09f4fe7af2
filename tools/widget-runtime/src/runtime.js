// The light widget runtime of the static book (bundled by build.mjs into
// _vendor/widgets/runtime.js, fetched by loader.js when the page is idle).
// A ManagerBase with a fixed class map (classes.js), no kernel and no comms:
// it recreates the saved widget state and draws one view at a time.
import { ManagerBase } from '@jupyter-widgets/base-manager';
import * as base from '@jupyter-widgets/base';
import { Widget } from '@lumino/widgets';
import anywidget from 'anywidget';
import { BASE, CONTROLS } from './classes.js';
import css from './runtime.css';

const { AnyModel, AnyView } = anywidget(base);
const MODULES = {
  '@jupyter-widgets/base': BASE,
  '@jupyter-widgets/controls': CONTROLS,
  anywidget: { AnyModel, AnyView },
};

class LightManager extends ManagerBase {
  async loadClass(className, moduleName) {
    const found = MODULES[moduleName]?.[className];
    if (!found) throw new Error(`The light widget runtime has no ${moduleName} ${className}`);
    return found;
  }
  _create_comm() { return Promise.reject(new Error('no kernel on the static site')); }
  _get_comm_info() { return Promise.resolve({}); }
}

let manager, ready;

/** Create every model of the saved widget state (once per page). */
export function load(state) {
  if (!ready) {
    const style = document.createElement('style');
    style.textContent = css;
    document.head.append(style);
    manager = new LightManager();
    ready = manager.set_state(state);
  }
  return ready;
}

/** Draw the view of model `modelId` into `host`; resolves when it is on the page. */
export async function render(modelId, host) {
  await ready;
  const model = await manager.get_model(modelId);
  const view = await manager.create_view(model);
  Widget.attach(view.luminoWidget, host);
  view.trigger('displayed');
  return view;
}
