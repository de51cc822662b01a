/**
 * Fails when a public export of a package has no doc comment. Reads each package's `exports` map,
 * resolves every entry's type declarations with the TypeScript compiler, and checks every exported
 * symbol and every public member of an exported class for documentation. (Interface members are
 * left to review: many mirror Node's own APIs or are discriminants.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';

const root = resolve(import.meta.dirname, '..');
const entries: string[] = [];
for (const dir of readdirSync(join(root, 'packages'))) {
  const pkg = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')) as {
    exports?: Record<string, { types?: string }>;
  };
  for (const target of Object.values(pkg.exports ?? {})) {
    if (target.types) entries.push(join(root, 'packages', dir, target.types));
  }
}

const program = ts.createProgram(entries, { strict: true, skipLibCheck: true, noEmit: true });
const checker = program.getTypeChecker();
const missing: string[] = [];

function documented(symbol: ts.Symbol): boolean {
  return ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim().length > 0;
}

for (const entry of entries) {
  const source = program.getSourceFile(entry);
  if (!source) throw new Error(`cannot read ${entry}: build the packages first`);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  if (!moduleSymbol) continue;
  for (let symbol of checker.getExportsOfModule(moduleSymbol)) {
    const name = symbol.getName();
    if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    const where = `${entry.slice(root.length + 1)}: ${name}`;
    if (!documented(symbol)) missing.push(where);
    if (symbol.flags & ts.SymbolFlags.Class) {
      for (const member of symbol.members?.values() ?? []) {
        const decl = member.declarations?.[0];
        // `name` on an Error subclass only repeats the class name.
        if (!decl || member.getName().startsWith('#') || ['__constructor', 'name'].includes(member.getName()))
          continue;
        const modifiers = ts.getCombinedModifierFlags(decl as ts.Declaration);
        if (modifiers & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
        if (!documented(member)) missing.push(`${where}.${member.getName()}`);
      }
    }
  }
}

if (missing.length > 0) {
  console.error(`${missing.length} public exports without a doc comment:\n  ${missing.join('\n  ')}`);
  process.exit(1);
}
console.log(`check-docs: every public export of ${entries.length} entry points is documented`);
