// ESLint rule `medimg/layers`: the layer dependency rule (docs/architecture.md), checked on every import.
//   core      imports nothing of ours, no Node built-ins, no Electron
//   shared    imports only shared (and zod); no Node built-ins, no Electron
//   node      imports core and shared; no Electron
//   renderer  imports only shared; no Node built-ins, no Electron, no native modules
//   cli       imports node, core, shared; no Electron
//   electron  imports node and shared (the only layer that may import Electron)
// Inside src/node, each folder is a domain and NODE_DOMAINS says which other domains it may import
// (so no two domains depend on each other); every domain may import the base modules (the files
// directly in src/node, and store/) except the composition root, services.ts.
import { statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, relative, resolve, sep } from 'node:path';

const BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
const NATIVE = new Set(['better-sqlite3']);

/** Which of our layers may each layer import. */
const ALLOWED = {
  core: ['core'],
  shared: ['shared'],
  node: ['node', 'core', 'shared'],
  renderer: ['renderer', 'shared'],
  cli: ['cli', 'node', 'core', 'shared'],
  electron: ['electron', 'node', 'shared'],
};
const NO_NODE_BUILTINS = new Set(['core', 'shared', 'renderer']);

/** Which src/node domains each domain may import ('*': any). A new folder must be added here. */
const NODE_DOMAINS = {
  handlers: '*',
  store: [],
  dicom: [],
  identity: [],
  audit: [],
  library: ['dicom'],
  fingerprint: ['dicom'],
  ledger: ['identity', 'fingerprint', 'library', 'dicom'],
  trust: ['ledger', 'identity', 'audit'],
  export: ['trust', 'audit', 'dicom'],
  share: ['trust', 'ledger', 'identity', 'fingerprint', 'library', 'audit', 'dicom'],
  pacs: ['dicom'],
  split: ['dicom', 'fingerprint'],
  ai: ['dicom', 'fingerprint', 'ledger'], // ledger: anchoring a study's findings beside its record (findings-anchor.ts)
  atna: ['audit'],
  keyimages: ['audit', 'dicom'], // dicom: the file meta this app writes (anonymise.ts)
  viewing: ['dicom'], // dicom: reads the Frame of Reference UID and Issuer of Patient ID from an image's header
  'measurements-sr': ['audit', 'keyimages'], // keyimages: the Part-10 writer / reader and UID helper the KOS uses
};
const BASE_DOMAINS = new Set(['store']);

const isDir = (p) => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/** The src/node domain of a file or import target: a folder name, '(base)' for a base module, 'services' for the root. */
function nodeDomainOf(path, root) {
  const rel = relative(root, path).split(sep);
  if (rel[0] !== 'src' || rel[1] !== 'node' || !rel[2]) return null;
  if (rel.length > 3 || isDir(path)) return rel[2];
  return rel[2].replace(/\.[cm]?[jt]s$/, '') === 'services' ? 'services' : '(base)';
}

function layerOf(file, root) {
  const rel = relative(root, file).split(sep);
  if (rel[0] === 'electron') return 'electron';
  if (rel[0] === 'src' && rel[1] && rel[1] in ALLOWED) return rel[1];
  return null;
}

export default {
  meta: {
    type: 'problem',
    docs: { description: 'Enforce the layer dependency rule and the src/node domain allow-list (docs/architecture.md)' },
    schema: [{ type: 'object', properties: { root: { type: 'string' } }, additionalProperties: false }],
    messages: {
      layer: '{{from}} must not import {{to}} ("{{source}}"): {{from}} may import only {{allowed}}.',
      electron: 'Only electron/ may import Electron ("{{source}}").',
      builtin: '{{from}} must not import the Node built-in "{{source}}" (it runs without Node).',
      native: '{{from}} must not import the native module "{{source}}".',
      domain: 'src/node/{{from}} must not import src/node/{{to}} ("{{source}}"): it may import only {{allowed}} (NODE_DOMAINS in eslint-rules/layers.mjs).',
      unknownDomain: 'src/node/{{from}} is not in the domain allow-list (NODE_DOMAINS in eslint-rules/layers.mjs): add it with the domains it may import.',
    },
  },
  create(context) {
    const root = context.options[0]?.root ?? context.cwd;
    const file = context.filename;
    const from = layerOf(file, root);
    if (!from) return {};
    function check(node, source) {
      if (typeof source !== 'string') return;
      if (source === 'electron' || source.startsWith('electron/')) {
        if (from !== 'electron') context.report({ node, messageId: 'electron', data: { source } });
        return;
      }
      if (BUILTINS.has(source) || BUILTINS.has(source.split('/')[0])) {
        if (NO_NODE_BUILTINS.has(from)) context.report({ node, messageId: 'builtin', data: { from, source } });
        return;
      }
      if (NATIVE.has(source)) {
        if (from === 'renderer' || from === 'core' || from === 'shared')
          context.report({ node, messageId: 'native', data: { from, source } });
        return;
      }
      if (!source.startsWith('.')) return; // a package from node_modules
      const target = resolve(dirname(file), source);
      const to = layerOf(target, root);
      if (to && !ALLOWED[from].includes(to)) {
        context.report({ node, messageId: 'layer', data: { from, to, source, allowed: ALLOWED[from].join(', ') } });
      }
      if (from === 'node' && to === 'node') checkDomain(node, source, target);
    }
    function checkDomain(node, source, target) {
      const a = nodeDomainOf(file, root);
      const b = nodeDomainOf(target, root);
      if (!a || !b || a === b || a === '(base)' || a === 'services') return;
      const allowed = NODE_DOMAINS[a];
      if (allowed === undefined) {
        context.report({ node, messageId: 'unknownDomain', data: { from: a } });
        return;
      }
      if (allowed === '*' || b === '(base)' || BASE_DOMAINS.has(b) || allowed.includes(b)) return;
      const names = ['the base modules', ...allowed].join(', ');
      context.report({ node, messageId: 'domain', data: { from: a, to: b, source, allowed: names } });
    }
    return {
      ImportDeclaration: (n) => check(n.source, n.source.value),
      ExportNamedDeclaration: (n) => n.source && check(n.source, n.source.value),
      ExportAllDeclaration: (n) => check(n.source, n.source.value),
      ImportExpression: (n) => n.source.type === 'Literal' && check(n.source, n.source.value),
      CallExpression: (n) => {
        if (n.callee.type === 'Identifier' && n.callee.name === 'require' && n.arguments[0]?.type === 'Literal')
          check(n.arguments[0], n.arguments[0].value);
      },
    };
  },
};
