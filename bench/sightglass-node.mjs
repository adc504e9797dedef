#!/usr/bin/env node
// Runs one Sightglass program under Node's WASI (node:wasi, preview 1), the
// reference for bench/run-sightglass.sh:
//
//   node bench/sightglass-node.mjs PROGRAM.wasm [OUTFILE]
//
// Run it from the program's folder: that folder is preopened as ".", as
// `wasmjail run --dir . PROGRAM.wasm` does. The guest's argv[0] is PROGRAM.wasm
// as given and its environment is empty. The imports bench.start and bench.end
// read process.hrtime.bigint(); the measured region (bench.start -> bench.end)
// is written in nanoseconds as one integer line to OUTFILE, or to stderr when
// no OUTFILE is given (the format of `wasmjail run --bench[=FILE]`). The
// program's stdout and stderr are Node's own; the exit status is the
// program's (proc_exit(n) -> n, a return from _start -> 0, a trap -> 134).
// Compilation and instantiation happen before bench.start and are not in the
// measured region (V8 still compiles lazily and tiers up inside it).

// node:wasi prints an ExperimentalWarning on stderr (Node 20): drop it before
// loading the module, so that stderr can be compared with the expected file.
process.removeAllListeners('warning');

const { readFile, writeFile } = await import('node:fs/promises');
const { WASI } = await import('node:wasi');

const [file, outfile] = process.argv.slice(2);
if (!file || process.argv.length > 4) {
    process.stderr.write('usage: node sightglass-node.mjs PROGRAM.wasm [OUTFILE]\n');
    process.exit(2);
}

let module;
try {
    module = await WebAssembly.compile(await readFile(file));
} catch (e) {
    process.stderr.write(`sightglass-node: ${file}: ${e.message}\n`);
    process.exit(1);
}

const wasi = new WASI({
    version: 'preview1',
    args: [file],
    env: {},
    preopens: { '.': '.' },
    returnOnExit: true,
});

let start = null;
let end = null;
const bench = {
    start() {
        start = process.hrtime.bigint();
    },
    end() {
        end = process.hrtime.bigint();
    },
};

let instance;
try {
    instance = await WebAssembly.instantiate(module, {
        ...wasi.getImportObject(),
        bench,
    });
} catch (e) {
    process.stderr.write(`sightglass-node: ${file}: ${e.message}\n`);
    process.exit(1);
}

let status;
try {
    status = wasi.start(instance);
} catch (e) {
    if (!(e instanceof WebAssembly.RuntimeError)) throw e;
    process.stderr.write(`Error: failed to run main module \`${file}\`\n`);
    process.stderr.write(`wasm trap: ${e.message}\n`);
    status = 134;
}

if (start !== null && end !== null) {
    const line = `${end - start}\n`;
    if (outfile) await writeFile(outfile, line);
    else process.stderr.write(line);
} else {
    // No measurement: say so, but keep the program's own exit status.
    process.stderr.write(`sightglass-node: ${file} did not call bench.start and bench.end\n`);
}
process.exitCode = status;
