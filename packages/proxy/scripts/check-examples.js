#!/usr/bin/env node
'use strict';
// Type-checks every ```ts block inside an @example tag of the public API of packages/proxy/src: the
// exports of src/index.ts and src/adapters/fastify.ts and the members (inherited ones included) of
// exported classes and interfaces.
//
// Each block becomes its own ES module (top-level await works) in a temporary directory under
// node_modules/.cache, and one `tsc --noEmit` run checks them all against a tsconfig whose `paths`
// map '@switchboard/proxy' to src/index.ts and '@switchboard/proxy/fastify' to src/adapters/fastify.ts.
// A block whose first line is `// not compiled` is skipped.
//
//   node packages/proxy/scripts/check-examples.js           check the examples
//   node packages/proxy/scripts/check-examples.js --audit   also list public exports without a ```ts example
//   node packages/proxy/scripts/check-examples.js --keep    keep the temporary directory
//
// Uses only Node and the repository's own `typescript` devDependency.
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const started = process.hrtime.bigint();
const pkgDir = path.resolve(__dirname, '..');
const srcDir = path.join(pkgDir, 'src');
const rootDir = path.resolve(pkgDir, '..', '..');
const keep = process.argv.includes('--keep');
const audit = process.argv.includes('--audit');

/** The ```ts blocks of the @example sections of one JSDoc comment text (leading `*` already stripped). */
function examplesOf(lines) {
  const blocks = [];
  let inExample = false;
  let block = null;
  for (let i = 0; i < lines.length; i++) {
    const { text, line } = lines[i];
    if (block) {
      if (/^\s*```\s*$/.test(text)) {
        blocks.push(block);
        block = null;
      } else {
        block.code.push(text);
      }
      continue;
    }
    if (/^\s*@example\b/.test(text)) inExample = true;
    else if (/^\s*@\w+/.test(text)) inExample = false;
    if (inExample && /^\s*```(ts|typescript)\b/.test(text)) block = { line, code: [] };
  }
  return blocks;
}

const ts = require(require.resolve('typescript', { paths: [rootDir] }));
const entries = [path.join(srcDir, 'index.ts'), path.join(srcDir, 'adapters', 'fastify.ts')];
const program = ts.createProgram(entries, {
  module: ts.ModuleKind.Node16,
  moduleResolution: ts.ModuleResolutionKind.Node16,
  target: ts.ScriptTarget.ES2022,
  types: ['node'],
  skipLibCheck: true,
  noEmit: true,
});
const checker = program.getTypeChecker();
const publicDecls = publicDeclarations();
const examples = [];
for (const { node } of publicDecls) {
  const sf = node.getSourceFile();
  for (const doc of ts.getJSDocCommentsAndTags(node)) {
    if (!ts.isJSDoc(doc)) continue;
    const text = doc.getText(sf).replace(/^\/\*\*/, '').replace(/\*\/$/, '');
    const startLine = sf.getLineAndCharacterOfPosition(doc.getStart(sf)).line + 1;
    const lines = text.split('\n').map((raw, i) => ({ line: startLine + i, text: raw.replace(/^\s*\* ?/, '') }));
    for (const block of examplesOf(lines)) {
      const indent = Math.min(...block.code.filter((l) => l.trim()).map((l) => l.match(/^ */)[0].length));
      const code = block.code.map((l) => l.slice(Number.isFinite(indent) ? indent : 0));
      examples.push({ file: sf.fileName, line: block.line, code });
    }
  }
}
const seen = new Set();
for (let i = examples.length - 1; i >= 0; i--) {
  const key = `${examples[i].file}:${examples[i].line}`;
  if (seen.has(key)) examples.splice(i, 1);
  else seen.add(key);
}
const files = [...new Set(examples.map((e) => e.file))];
const compiled = examples.filter((e) => !/^\s*\/\/\s*not compiled/.test(e.code.find((l) => l.trim()) ?? ''));

const cacheRoot = path.join(rootDir, 'node_modules', '.cache');
fs.mkdirSync(cacheRoot, { recursive: true });
const tmp = fs.mkdtempSync(path.join(cacheRoot, 'switchboard-examples-'));
const rel = (p) => path.relative(rootDir, p);
const index = new Map();
compiled.forEach((e, i) => {
  const name = `example-${String(i).padStart(3, '0')}.ts`;
  index.set(name, e);
  // One header line, then the block: line N of the module is source line fence + N - 1.
  const body = [`// ${rel(e.file)}:${e.line}`, ...e.code, '', 'export {};', ''].join('\n');
  fs.writeFileSync(path.join(tmp, name), body);
});
fs.writeFileSync(path.join(tmp, 'package.json'), JSON.stringify({ type: 'module', private: true }, null, 2));
fs.writeFileSync(
  path.join(tmp, 'tsconfig.json'),
  JSON.stringify(
    {
      compilerOptions: {
        target: 'ES2022',
        module: 'node16',
        moduleResolution: 'node16',
        lib: ['ES2023'],
        types: ['node'],
        typeRoots: [path.join(rootDir, 'node_modules', '@types')],
        strict: true,
        esModuleInterop: true,
        skipLibCheck: true,
        noEmit: true,
        paths: {
          '@switchboard/proxy': [path.join(srcDir, 'index.ts')],
          '@switchboard/proxy/fastify': [path.join(srcDir, 'adapters', 'fastify.ts')],
        },
      },
      include: ['*.ts'],
    },
    null,
    2,
  ),
);

const tsc = require.resolve('typescript/bin/tsc', { paths: [rootDir] });
const result = spawnSync(process.execPath, [tsc, '--noEmit', '-p', path.join(tmp, 'tsconfig.json'), '--pretty', 'false'], {
  encoding: 'utf8',
});
const output = `${result.stdout}${result.stderr}`;
let failures = 0;
for (const raw of output.split('\n')) {
  const m = raw.match(/(example-\d+\.ts)\((\d+),(\d+)\): (.*)$/);
  if (m && index.has(m[1])) {
    const e = index.get(m[1]);
    failures++;
    console.error(`${rel(e.file)}:${e.line + Number(m[2]) - 1}:${m[3]} (example at line ${e.line}): ${m[4]}`);
  } else if (raw.trim()) {
    failures++;
    console.error(raw);
  }
}

if (audit) {
  const missing = auditExports();
  for (const name of missing) console.log(`no example: ${name}`);
  console.log(`${missing.length} public exports without a \`\`\`ts example`);
}

if (!keep) fs.rmSync(tmp, { recursive: true, force: true });
else console.log(`kept ${tmp}`);
const ms = Number((process.hrtime.bigint() - started) / 1_000_000n);
const skipped = examples.length - compiled.length;
console.log(
  `${compiled.length} examples type-checked${skipped ? ` (${skipped} marked "not compiled" skipped)` : ''} in ${files.length} files, ` +
    `${failures ? `${failures} error(s)` : 'no errors'}, ${ms} ms`,
);
process.exitCode = result.status === 0 && failures === 0 ? 0 : 1;

/**
 * Declarations of the public surface: every export of the two entry points, plus the members of
 * exported classes and interfaces (methods of `Proxy`, option fields...). `label` names the export.
 */
function publicDeclarations() {
  const out = [];
  const isInternal = (node) => ts.getJSDocTags(node).some((t) => t.tagName.text === 'internal');
  for (const entry of entries) {
    const sf = program.getSourceFile(entry);
    const spec = entry.endsWith('fastify.ts') ? '@switchboard/proxy/fastify' : '@switchboard/proxy';
    for (let sym of checker.getExportsOfModule(checker.getSymbolAtLocation(sf))) {
      const name = sym.getName();
      if (sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
      const decls = (sym.declarations ?? []).filter((d) => !ts.isSourceFile(d) && !d.getSourceFile().isDeclarationFile);
      const nodes = decls.map((d) => (ts.isVariableDeclaration(d) ? d.parent.parent : d));
      out.push({ label: `${spec} ${name}`, nodes, top: true, node: nodes[0] });
      for (const node of nodes.slice(1)) out.push({ label: `${spec} ${name}`, node, top: false });
      // Members, inherited ones included (option fields declared on a parent interface).
      if (!(sym.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface))) continue;
      for (const prop of checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(sym))) {
        for (const member of prop.declarations ?? []) {
          if (member.getSourceFile().isDeclarationFile || !member.name || ts.isPrivateIdentifier(member.name)) continue;
          if (ts.getCombinedModifierFlags(member) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
          if (isInternal(member)) continue;
          out.push({ label: `${spec} ${name}.${prop.getName()}`, node: member, top: false, member: name === 'Proxy' });
        }
      }
    }
  }
  return out.filter((d) => d.node);
}

/** Public exports (and public members of the `Proxy` class) without a ```ts @example. */
function auditExports() {
  const hasExample = (decl) =>
    ts.getJSDocTags(decl).some((t) => t.tagName.text === 'example' && /```(ts|typescript)\b/.test(ts.getTextOfJSDocComment(t.comment) ?? ''));
  const missing = [];
  for (const d of publicDecls) {
    if (d.top && !d.nodes.some(hasExample)) missing.push(d.label);
    else if (d.member && !hasExample(d.node)) missing.push(d.label);
  }
  return missing;
}
