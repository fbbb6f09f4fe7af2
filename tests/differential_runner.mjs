// Runs static/differential.js under node for tests/test_differential_js.py.
// Usage: node differential_runner.mjs <file URL of differential.js> < input.json
// Input: {"kb": frontend_knowledge(), "cases": [{"findings": [...], "labs": {...} | null}]}
// Output: one result per case, {"ok": candidates} or {"error": {"name", "message"}}.

const module = await import(process.argv[2]);
let text = "";
for await (const chunk of process.stdin) text += chunk;
const { kb, cases } = JSON.parse(text);
const results = cases.map(({ findings, labs }) => {
  try {
    return { ok: module.rankCase(kb, findings, labs) };
  } catch (error) {
    return { error: { name: error.name, message: error.message } };
  }
});
process.stdout.write(JSON.stringify(results));
