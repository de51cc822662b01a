/**
 * Summarises a V8 `.cpuprofile` (node --cpu-prof): main-thread self time by package and the top
 * functions, so two profiles of the same media (recorder vs encode only) can be compared.
 *
 * Run: node --import tsx packages/core/bench/profile-top.ts <file.cpuprofile> [top=25]
 */

import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new TypeError('usage: profile-top.ts <file.cpuprofile> [top]');
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => {
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});

/** The package a script belongs to: a workspace package, an npm package, node internals, or V8. */
function packageOf(url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native)';
  const ws = /\/packages\/([^/]+)\//.exec(url);
  if (ws && !url.includes('node_modules')) return `@trackrec/${ws[1]}`;
  const nm = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1] as string;
  if (url.startsWith('node:')) return 'node internals';
  return url;
}

const totalUs = profile.endTime - profile.startTime;
const byPackage = new Map<string, number>();
const byFunction = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id);
  if (!n) continue;
  const { functionName, url, lineNumber } = n.callFrame;
  const pkg = packageOf(url, functionName);
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
  const short = url.replace(/^.*\/(packages|node_modules)\//, '$1/');
  const key = `${functionName || '(anonymous)'} ${short}:${lineNumber + 1}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
}
const pct = (us: number) => ((100 * us) / totalUs).toFixed(1);
console.log(`${file}: ${(totalUs / 1e6).toFixed(2)} s profiled (main thread)\n`);
console.log('| package | self ms | % |\n| --- | --- | --- |');
for (const [k, us] of [...byPackage].sort((a, b) => b[1] - a[1]))
  console.log(`| ${k} | ${(us / 1000).toFixed(0)} | ${pct(us)} |`);
console.log('\n| function | self ms | % |\n| --- | --- | --- |');
for (const [k, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`| ${k} | ${(us / 1000).toFixed(0)} | ${pct(us)} |`);
