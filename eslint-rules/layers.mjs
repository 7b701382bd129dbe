// ESLint rule `medimg/layers`: the dependency rule of BRIEF.md §3, checked on every import.
//   core      imports nothing of ours, no Node built-ins, no Electron
//   shared    imports only shared (and zod); no Node built-ins, no Electron
//   node      imports core and shared; no Electron
//   renderer  imports only shared; no Node built-ins, no Electron, no native modules
//   cli       imports node, core, shared; no Electron
//   electron  imports node and shared (the only layer that may import Electron)
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

function layerOf(file, root) {
  const rel = relative(root, file).split(sep);
  if (rel[0] === 'electron') return 'electron';
  if (rel[0] === 'src' && rel[1] && rel[1] in ALLOWED) return rel[1];
  return null;
}

export default {
  meta: {
    type: 'problem',
    docs: { description: 'Enforce the layer dependency rule (BRIEF.md §3)' },
    schema: [{ type: 'object', properties: { root: { type: 'string' } }, additionalProperties: false }],
    messages: {
      layer: '{{from}} must not import {{to}} ("{{source}}"): {{from}} may import only {{allowed}}.',
      electron: 'Only electron/ may import Electron ("{{source}}").',
      builtin: '{{from}} must not import the Node built-in "{{source}}" (it runs without Node).',
      native: '{{from}} must not import the native module "{{source}}".',
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
      const to = layerOf(resolve(dirname(file), source), root);
      if (to && !ALLOWED[from].includes(to)) {
        context.report({ node, messageId: 'layer', data: { from, to, source, allowed: ALLOWED[from].join(', ') } });
      }
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
