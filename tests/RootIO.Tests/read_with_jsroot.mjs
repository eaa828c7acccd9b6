// read_with_jsroot.mjs: independent check of files written by Hep.RootIO. Opens a ROOT file with
// jsroot (installed by the tests into ./jsroot), reads the named branches of a tree entry by entry
// and prints {"entries": N, "branches": {name: [values per entry]}} as JSON on stdout.
// Usage: node read_with_jsroot.mjs <file.root> <tree> <branch>...
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const main = path.join(here, 'jsroot', 'node_modules', 'jsroot', 'modules', 'main.mjs');
const jsroot = await import(pathToFileURL(main).href);

const [, , file, treeName, ...branches] = process.argv;
const f = await jsroot.openFile(file);
const tree = await f.readObject(treeName);
const out = {};
const selector = new jsroot.TSelector();
for (const b of branches) {
  selector.addBranch(b);
  out[b] = [];
}
const norm = v => (typeof v === 'boolean' ? (v ? 1 : 0) : typeof v === 'bigint' ? Number(v) : v);
selector.Process = function () {
  for (const b of branches) {
    const v = this.tgtobj[b];
    out[b].push(Array.isArray(v) || ArrayBuffer.isView(v) ? Array.from(v, norm) : norm(v));
  }
};
await jsroot.treeProcess(tree, selector);
process.stdout.write(JSON.stringify({ entries: tree.fEntries, branches: out }));
