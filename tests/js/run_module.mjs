// Run one exported function of a front-end ES module on JSON cases read from stdin.
// Usage: node run_module.mjs MODULE_PATH FUNCTION_NAME < cases.json
// Each case is an array of arguments; prints a JSON array of results.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [modulePath, functionName] = process.argv.slice(2);
const module = await import(pathToFileURL(modulePath).href);
const cases = JSON.parse(readFileSync(0, "utf-8"));
const results = cases.map((args) => {
  try {
    return module[functionName](...args);
  } catch (error) {
    return { thrown: String(error) };
  }
});
process.stdout.write(JSON.stringify(results));
