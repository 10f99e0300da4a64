// CI's dependency audit: fails on a high or critical advisory in the production dependencies that has a fix
// (`npm audit --omit=dev`). Advisories without a fix are listed, not failed on: nothing can be done about them
// here. A registry that does not serve the advisory endpoint (as this project's mirror answers 405) is said
// in one line and skipped: no audit result is not a passing audit, and the line says so.
import { spawnSync } from 'node:child_process';

const run = spawnSync('npm', ['audit', '--omit=dev', '--json'], { encoding: 'utf8' });
let report;
try {
  report = JSON.parse(run.stdout);
} catch {
  console.log(`audit: npm audit gave no report (${(run.stderr || '').split('\n')[0]}); skipped`);
  process.exit(0);
}
if (report.error || report.message) {
  console.log(
    `audit: the registry's advisory endpoint cannot be used (${report.message ?? report.error.summary}); skipped`,
  );
  process.exit(0);
}
const vulnerable = Object.values(report.vulnerabilities ?? {});
const blocking = vulnerable.filter((v) => ['high', 'critical'].includes(v.severity) && v.fixAvailable);
for (const v of vulnerable)
  console.log(`audit: ${v.severity} in ${v.name}${v.fixAvailable ? ' (fix available)' : ' (no fix yet)'}`);
if (blocking.length) {
  console.error(`audit: ${blocking.length} high or critical advisories with a fix: run npm audit fix`);
  process.exit(1);
}
console.log(`audit: no high or critical advisory with a fix (${vulnerable.length} advisories in all)`);
