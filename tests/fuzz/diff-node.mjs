// The V8 side of the differential fuzzer (see differential.sh): runs each
// module like diff-run.c does and writes the same transcript, for FILE.wasm
// into FILE.v8 (diff-run.c's header describes the format).
//
//   node diff-node.mjs FILE.wasm...
//
// Works with Node 18 (Debian's nodejs) and later: i64 values are BigInts.
// JavaScript cannot ask an exported function for its type, so the module's
// sections are read here to pass each export zeros of the right types.
import { readFileSync, writeFileSync } from 'node:fs';

// Export name -> { params, results } of every exported function, from the
// type, import, function and export sections.
function exportTypes(bytes) {
  let p = 8;
  const leb = () => {
    let value = 0;
    for (let scale = 1; ; scale *= 128) {
      const b = bytes[p++];
      value += (b & 0x7f) * scale;
      if (!(b & 0x80)) return value;
    }
  };
  const valtypes = () => { const n = leb(); p += n; return Array.from(bytes.subarray(p - n, p)); };
  const name = () => { const n = leb(); p += n; return new TextDecoder().decode(bytes.subarray(p - n, p)); };
  const skipLimits = () => { const flags = bytes[p++]; leb(); if (flags & 1) leb(); };
  const types = [];
  const funcs = [];
  const exports = new Map();
  while (p < bytes.length) {
    const id = bytes[p++];
    const end = leb() + p;
    if (id === 1) {
      for (let n = leb(); n > 0; n--) {
        p++; // 0x60: a function type
        const params = valtypes();
        types.push({ params, results: valtypes() });
      }
    } else if (id === 2) {
      for (let n = leb(); n > 0; n--) {
        name();
        name();
        const kind = bytes[p++];
        if (kind === 0) funcs.push(types[leb()]);
        else if (kind === 1) { p++; skipLimits(); }
        else if (kind === 2) skipLimits();
        else p += 2; // a global: value type, mutability
      }
    } else if (id === 3) {
      for (let n = leb(); n > 0; n--) funcs.push(types[leb()]);
    } else if (id === 7) {
      for (let n = leb(); n > 0; n--) {
        const exportName = name();
        const kind = bytes[p++];
        const index = leb();
        if (kind === 0) exports.set(exportName, funcs[index]);
      }
    }
    p = end;
  }
  return exports;
}

const I32 = 0x7f, I64 = 0x7e, F32 = 0x7d, F64 = 0x7c, V128 = 0x7b, FUNCREF = 0x70, EXTERNREF = 0x6f;
const scratch = new DataView(new ArrayBuffer(8));

function formatValue(type, v) {
  switch (type) {
    case I32: return `i32 ${v | 0}`;
    case I64: return `i64 ${BigInt.asIntN(64, v)}`;
    case F32:
      if (Number.isNaN(v)) return 'f32 nan';
      scratch.setFloat32(0, v);
      return `f32 ${scratch.getUint32(0).toString(16).padStart(8, '0')}`;
    case F64:
      if (Number.isNaN(v)) return 'f64 nan';
      scratch.setFloat64(0, v);
      return `f64 ${scratch.getBigUint64(0).toString(16).padStart(16, '0')}`;
    case FUNCREF: return v === null ? 'funcref null' : 'funcref nonnull';
    case EXTERNREF: return v === null ? 'externref null' : 'externref nonnull';
    default: return `type-${type} ?`;
  }
}

const zero = (type) => (type === I64 ? 0n : type === FUNCREF || type === EXTERNREF ? null : 0);

// V8's messages, mapped to the kinds diff-run.c prints.
const TRAP_KINDS = [
  [/^unreachable/, 'unreachable'],
  [/memory access out of bounds|data segment.*out of bounds/, 'memory-oob'],
  [/table.*out of bounds|element segment.*out of bounds|invalid index into function table/, 'table-oob'],
  [/function signature mismatch/, 'indirect-call'],
  [/divide by zero|remainder by zero/, 'divide-by-zero'],
  [/divide result unrepresentable|float unrepresentable in integer range/, 'int-overflow'],
];

function trapKind(e) {
  if (e instanceof RangeError && /call stack size/.test(e.message)) return 'stack-exhausted';
  // A v128 crossing into JavaScript: a call of log-v128 (exports with v128
  // in their type are not called: see run).
  if (e instanceof TypeError && /type incompatibility when transforming from\/to JS/.test(e.message)) {
    return 'v128-to-js';
  }
  if (e instanceof WebAssembly.RuntimeError) {
    for (const [pattern, kind] of TRAP_KINDS) if (pattern.test(e.message)) return kind;
  }
  return `other ${e.constructor.name}: ${e.message}`;
}

const LOG_TYPES = { 'log-i32': I32, 'log-i64': I64, 'log-f32': F32, 'log-f64': F64, 'log-v128': V128 };

function run(bytes) {
  const out = [];
  let module;
  try {
    module = new WebAssembly.Module(bytes);
  } catch (e) {
    return 'rejected\n';
  }
  const types = exportTypes(bytes);
  const imports = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    const type = LOG_TYPES[imp.name];
    if (imp.module !== 'fuzzing-support' || imp.kind !== 'function' || type === undefined) {
      return `unsupported import ${imp.module} ${imp.name}\n`;
    }
    imports[imp.module] ??= {};
    imports[imp.module][imp.name] = (v) => { out.push(`log ${formatValue(type, v)}`); };
  }
  let instance;
  try {
    instance = new WebAssembly.Instance(module, imports);
  } catch (e) {
    out.push(`instantiate trap ${trapKind(e)}`);
    return out.join('\n') + '\n';
  }
  const exports = instance.exports;
  const init = exports.hangLimitInitializer;
  const hashType = types.get('hashMemory');
  const hash = hashType && hashType.params.length === 0 && hashType.results.length === 1 &&
    hashType.results[0] === I32 ? exports.hashMemory : undefined;
  for (const exp of WebAssembly.Module.exports(module)) {
    if (exp.kind !== 'function') continue;
    const type = types.get(exp.name);
    out.push(`call ${exp.name}`);
    // V8 throws a TypeError before running it: diff-run skips it too.
    if (type.params.includes(V128) || type.results.includes(V128)) {
      out.push('skip v128');
      continue;
    }
    if (typeof init === 'function') {
      try {
        init();
      } catch (e) {
        out.push(`trap ${trapKind(e)}`);
      }
    }
    try {
      const r = exports[exp.name](...type.params.map(zero));
      const results = type.results.length === 1 ? [r] : type.results.length === 0 ? [] : [...r];
      type.results.forEach((t, i) => out.push(`result ${formatValue(t, results[i])}`));
    } catch (e) {
      out.push(`trap ${trapKind(e)}`);
    }
    if (hash) {
      out.push('hash');
      try {
        out.push(`result ${formatValue(I32, hash())}`);
      } catch (e) {
        out.push(`trap ${trapKind(e)}`);
      }
    }
  }
  return out.length ? out.join('\n') + '\n' : '';
}

for (const file of process.argv.slice(2)) {
  const bytes = new Uint8Array(readFileSync(file));
  writeFileSync(file.replace(/\.wasm$/, '') + '.v8', run(bytes));
}
