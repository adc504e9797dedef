// Writes the module of simd-ops.sh (see there) as WebAssembly text: one
// export per SIMD instruction and operand shape, each returning an i64 hash
// of the instruction's results over edge-heavy inputs.
//
//   node simd-ops-gen.mjs SEED [VECTORS] > FILE.wat
//
// SEED picks the input vectors, the constant operands, the shuffle patterns,
// the shift counts and the memory offsets; VECTORS (default 48) is how many
// 16-byte input vectors there are: binary ops run on every ordered pair.
const seed = Number(process.argv[2] ?? 1);
const M = Number(process.argv[3] ?? 48);
if (!Number.isInteger(seed) || !Number.isInteger(M) || M < 8 || M > 2000) {
  console.error('usage: node simd-ops-gen.mjs SEED [VECTORS (8-2000)]');
  process.exit(2);
}

// mulberry32: small, and the same on every node.
let state = (seed * 0x9e3779b9) >>> 0;
function rand32() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}
const below = (n) => rand32() % n;
const pick = (list) => list[below(list.length)];

// --- the input vectors -------------------------------------------------------
const BYTE_SPECIALS = [0, 1, 2, 0x7f, 0x80, 0x81, 0xff, 0xfe, 0x40, 0x3f];
const I32_SPECIALS = [0, 1, -1, 0x7fffffff, 0x80000000, 0x80000001, 0x7fff, 0x8000, 0xffff, 0x10000,
  0x7fffffc0, 0x01000001, 0xffff8000, 0xff, 0x80, 0x7fffff80];
// Zeros, infinities, NaNs (quiet and signalling, payloads, both signs),
// subnormals, the smallest normal, ties, integer-saturation bounds, the
// largest finite values.
const F32_SPECIALS = [0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000,
  0x7fc00001, 0xffc12345, 0x7f800001, 0xff800123, 0x7fa00000, 0x00000001, 0x807fffff, 0x00800000,
  0x3f800000, 0xbf800000, 0x3f000000, 0xbf000000, 0x3fc00000, 0x40200000, 0xc0200000, 0x3effffff,
  0x4b000000, 0x4b7fffff, 0xcb7fffff, 0x4effffff, 0x4f000000, 0xcf000000, 0xcf000001, 0x4f7fffff,
  0x4f800000, 0x7f7fffff, 0xff7fffff, 0xbf7fffff, 0xbf666666];
const F64_SPECIALS = [0n, 0x8000000000000000n, 0x7ff0000000000000n, 0xfff0000000000000n,
  0x7ff8000000000000n, 0xfff8000000000000n, 0x7ff8000000000001n, 0xfffc00000000abcdn,
  0x7ff0000000000001n, 0xfff4000000000000n, 0x0000000000000001n, 0x800fffffffffffffn,
  0x0010000000000000n, 0x3ff0000000000000n, 0xbff0000000000000n, 0x3fe0000000000000n,
  0xbfe0000000000000n, 0x3ff8000000000000n, 0x4004000000000000n, 0xc004000000000000n,
  0x4330000000000000n, 0x432fffffffffffffn, 0xc32fffffffffffffn, 0x41dfffffffc00000n,
  0x41dfffffffe00000n, 0x41e0000000000000n, 0xc1e0000000000000n, 0xc1e0000000100000n,
  0xc1e0000000200000n, 0x41efffffffe00000n, 0x41effffffff00000n, 0x41f0000000000000n,
  0xbfeccccccccccccdn, 0x7fefffffffffffffn, 0xffefffffffffffffn, 0x3800000000000000n,
  0x36a0000000000000n, 0x3690000000000000n, 0x47efffffe0000000n, 0x47efffffefffffffn,
  0x47effffff0000000n, 0x3ff0000010000000n, 0x3ff0000030000000n];

const data = new Uint8Array(M * 16);
const view = new DataView(data.buffer);
// A float near an integer, a tie or a random one, as bits.
const f32Random = () => {
  const x = [below(1 << 24) - (1 << 23), below(4096) - 2048 + 0.5, below(64) / 8 - 4][below(3)];
  view.setFloat32(0, x, true);
  return view.getUint32(0, true);
};
for (let v = 0; v < M; v++) {
  const at = v * 16;
  switch (v % 8) {
    case 0: for (let k = 0; k < 16; k++) data[at + k] = below(256); break;
    case 1: for (let k = 0; k < 16; k++) data[at + k] = pick(BYTE_SPECIALS); break;
    case 2: for (let k = 0; k < 16; k++) data[at + k] = pick([0, 0xff, 0x80, 0x7f]); break;
    case 3: for (let k = 0; k < 16; k++) data[at + k] = below(2) ? pick(BYTE_SPECIALS) : below(256); break;
    case 4: for (let k = 0; k < 4; k++) view.setUint32(at + 4 * k, pick(F32_SPECIALS), true); break;
    case 5: for (let k = 0; k < 2; k++) view.setBigUint64(at + 8 * k, pick(F64_SPECIALS), true); break;
    case 6:
      for (let k = 0; k < 4; k++) view.setUint32(at + 4 * k, below(2) ? pick(F32_SPECIALS) : f32Random(), true);
      break;
    default:
      for (let k = 0; k < 4; k++) view.setUint32(at + 4 * k, below(2) ? pick(I32_SPECIALS) >>> 0 : rand32(), true);
  }
}
// Some vectors of one repeated lane pattern: every lane at a bound.
for (let v = 0; v < M; v += 5) {
  const pattern = pick([[0x00, 0x80], [0xff, 0x7f], [0, 0, 0, 0x80], [0xff, 0xff, 0xff, 0x7f],
    [0, 0, 0, 0, 0, 0, 0, 0x80], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], [1, 0]]);
  for (let k = 0; k < 16; k++) data[v * 16 + k] = pattern[k % pattern.length];
}
const constVector = () => {
  const v = below(M) * 16;
  return `(v128.const i8x16 ${Array.from(data.subarray(v, v + 16)).join(' ')})`;
};

// --- the exports ------------------------------------------------------------
const N16 = M * 16;
const SCRATCH = 65536 - 64; // store_lane's target, past the data
const funcs = [];
const MIX = (x) => `(local.set $h (i64.xor (i64.mul (local.get $h) (i64.const 0x100000001b3)) ${x}))`;
// How each kind of result is hashed. Float results have their NaN lanes
// made one canonical NaN first: their sign and payload are not
// deterministic (the spec allows any canonical or arithmetic NaN).
const HASH = {
  v: MIX('(i64x2.extract_lane 0 (local.get $r))') + MIX('(i64x2.extract_lane 1 (local.get $r))'),
  f32: '(local.set $r (v128.bitselect (v128.const i32x4 0x7fc00000 0x7fc00000 0x7fc00000 0x7fc00000)' +
    ' (local.get $r) (f32x4.ne (local.get $r) (local.get $r))))',
  f64: '(local.set $r (v128.bitselect (v128.const i64x2 0x7ff8000000000000 0x7ff8000000000000)' +
    ' (local.get $r) (f64x2.ne (local.get $r) (local.get $r))))',
  i32: MIX('(i64.extend_i32_u (local.get $s))'),
  i64: MIX('(local.get $l)'),
};
HASH.f32 += HASH.v;
HASH.f64 += HASH.v;
const SET = { v: '$r', f32: '$r', f64: '$r', i32: '$s', i64: '$l' };

// An export running `expr` for i (and j) over the input vectors' addresses
// (step 16), or over every byte address (step 1) for memory accesses.
function fn(name, expr, result, loops) {
  const body = `(local.set ${SET[result]} ${expr}) ${HASH[result]}`;
  const loop = (v, step, end, inner) =>
    `(local.set ${v} (i32.const 0)) (loop $l${v.slice(1)} ${inner} ` +
    `(br_if $l${v.slice(1)} (i32.lt_u (local.tee ${v} (i32.add (local.get ${v}) (i32.const ${step}))) (i32.const ${end}))))`;
  const code = loops === 'pairs' ? loop('$i', 16, N16, loop('$j', 16, N16, body))
    : loops === 'bytes' ? loop('$i', 1, N16 - 32, body)
    : loop('$i', 16, N16, body);
  funcs.push(`(func (export "${name}") (result i64) (local $i i32) (local $j i32) (local $h i64) ` +
    `(local $r v128) (local $s i32) (local $l i64)\n  (local.set $h (i64.const 0xcbf29ce484222325)) ${code} (local.get $h))`);
}

const A = '(v128.load (local.get $i))';
const B = '(v128.load (local.get $j))';
// A third vector for bitselect: the one at (i + j) mod M.
const C = `(v128.load (select (i32.sub (i32.add (local.get $i) (local.get $j)) (i32.const ${N16})) ` +
  `(i32.add (local.get $i) (local.get $j)) (i32.ge_u (i32.add (local.get $i) (local.get $j)) (i32.const ${N16}))))`;

// Binary ops: (a, b); (b, a), the same pairs with the operands loaded in
// the other order (other registers); and with a constant operand on either
// side (a constant b is read from the constant pool, another lowering).
function binary(op, result) {
  fn(op, `(${op} ${A} ${B})`, result, 'pairs');
  fn(`${op}#ba`, `(${op} ${B} ${A})`, result, 'pairs');
  fn(`${op}#ka`, `(${op} ${constVector()} ${A})`, result, 'single');
  fn(`${op}#kb`, `(${op} ${A} ${constVector()})`, result, 'single');
}
const unary = (op, result) => fn(op, `(${op} ${A})`, result, 'single');

fn('v128.const', constVector(), 'v', 'single');
const shapes = ['i8x16', 'i16x8', 'i32x4', 'i64x2'];
const words = (s) => s.trim().split(/\s+/);

// Integer ops.
const cmps = words('eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u');
for (const s of ['i8x16', 'i16x8', 'i32x4']) for (const c of cmps) binary(`${s}.${c}`, 'v');
for (const c of words('eq ne lt_s gt_s le_s ge_s')) binary(`i64x2.${c}`, 'v');
for (const op of words(`i8x16.narrow_i16x8_s i8x16.narrow_i16x8_u i8x16.add i8x16.add_sat_s
  i8x16.add_sat_u i8x16.sub i8x16.sub_sat_s i8x16.sub_sat_u i8x16.min_s i8x16.min_u i8x16.max_s
  i8x16.max_u i8x16.avgr_u i16x8.q15mulr_sat_s i16x8.narrow_i32x4_s i16x8.narrow_i32x4_u i16x8.add
  i16x8.add_sat_s i16x8.add_sat_u i16x8.sub i16x8.sub_sat_s i16x8.sub_sat_u i16x8.mul i16x8.min_s
  i16x8.min_u i16x8.max_s i16x8.max_u i16x8.avgr_u i16x8.extmul_low_i8x16_s i16x8.extmul_high_i8x16_s
  i16x8.extmul_low_i8x16_u i16x8.extmul_high_i8x16_u i32x4.add i32x4.sub i32x4.mul i32x4.min_s
  i32x4.min_u i32x4.max_s i32x4.max_u i32x4.dot_i16x8_s i32x4.extmul_low_i16x8_s
  i32x4.extmul_high_i16x8_s i32x4.extmul_low_i16x8_u i32x4.extmul_high_i16x8_u i64x2.add i64x2.sub
  i64x2.mul i64x2.extmul_low_i32x4_s i64x2.extmul_high_i32x4_s i64x2.extmul_low_i32x4_u
  i64x2.extmul_high_i32x4_u i8x16.swizzle`)) binary(op, 'v');
for (const op of words(`i8x16.abs i8x16.neg i8x16.popcnt i16x8.extadd_pairwise_i8x16_s
  i16x8.extadd_pairwise_i8x16_u i32x4.extadd_pairwise_i16x8_s i32x4.extadd_pairwise_i16x8_u
  i16x8.abs i16x8.neg i16x8.extend_low_i8x16_s i16x8.extend_high_i8x16_s i16x8.extend_low_i8x16_u
  i16x8.extend_high_i8x16_u i32x4.abs i32x4.neg i32x4.extend_low_i16x8_s i32x4.extend_high_i16x8_s
  i32x4.extend_low_i16x8_u i32x4.extend_high_i16x8_u i64x2.abs i64x2.neg i64x2.extend_low_i32x4_s
  i64x2.extend_high_i32x4_s i64x2.extend_low_i32x4_u i64x2.extend_high_i32x4_u`)) unary(op, 'v');

// Bitwise ops and tests (a test's i32 also feeds a branch: the compiler may
// fuse the two).
unary('v128.not', 'v');
for (const op of words('v128.and v128.andnot v128.or v128.xor')) binary(op, 'v');
fn('v128.bitselect', `(v128.bitselect ${A} ${B} ${C})`, 'v', 'pairs');
fn('v128.bitselect#kmask', `(v128.bitselect ${A} ${B} ${constVector()})`, 'v', 'pairs');
for (const op of ['v128.any_true', ...shapes.flatMap((s) => [`${s}.all_true`, `${s}.bitmask`])]) {
  unary(op, 'i32');
  fn(`${op}#if`, `(if (result i32) (${op} ${A}) (then (i32.const 11)) (else (i32.const 22)))`, 'i32', 'single');
}

// Shifts: a count from memory (any i32), constant counts around the lane
// widths, negative, and two random ones.
const counts = new Set([0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, -1, -8, -63,
  0x7fffffff, -0x80000000, below(256), rand32() | 0]);
for (const s of shapes) {
  for (const o of ['shl', 'shr_s', 'shr_u']) {
    const op = `${s}.${o}`;
    fn(op, `(${op} ${A} (i32.load (local.get $j)))`, 'v', 'pairs');
    for (const c of counts) fn(`${op}#${c}`, `(${op} ${A} (i32.const ${c}))`, 'v', 'single');
  }
}

// Shuffles: random patterns (of both operands, of one, of lanes in
// order), and the same vector as both operands.
const patterns = [[...Array(16).keys()], [...Array(16).keys()].map((k) => k + 16),
  [...Array(16).keys()].map((k) => (k >> 1) + (k & 1) * 16)];
for (let p = 0; p < 9; p++) {
  const range = [32, 32, 32, 16, 16][p % 5];
  patterns.push(Array.from({ length: 16 }, () => below(range) + (p % 5 === 4 ? 16 : 0)));
}
patterns.forEach((pattern, p) => {
  const shuffle = `i8x16.shuffle ${pattern.join(' ')}`;
  fn(`i8x16.shuffle#${p}`, `(${shuffle} ${A} ${B})`, 'v', 'pairs');
  fn(`i8x16.shuffle#${p}aa`, `(${shuffle} ${A} ${A})`, 'v', 'single');
  fn(`i8x16.shuffle#${p}kb`, `(${shuffle} ${A} ${constVector()})`, 'v', 'single');
});

// Float ops. pmin/pmax return one operand as it is, so NaN bits are exact;
// so are abs, neg, the comparisons and the conversions to integers.
for (const s of ['f32x4', 'f64x2']) {
  const f = s === 'f32x4' ? 'f32' : 'f64';
  for (const c of words('eq ne lt gt le ge pmin pmax')) binary(`${s}.${c}`, 'v');
  for (const op of words('add sub mul div min max')) binary(`${s}.${op}`, f);
  for (const op of words('abs neg')) unary(`${s}.${op}`, 'v');
  for (const op of words('sqrt ceil floor trunc nearest')) unary(`${s}.${op}`, f);
}
for (const op of words(`i32x4.trunc_sat_f32x4_s i32x4.trunc_sat_f32x4_u i32x4.trunc_sat_f64x2_s_zero
  i32x4.trunc_sat_f64x2_u_zero f32x4.convert_i32x4_s f32x4.convert_i32x4_u f64x2.convert_low_i32x4_s
  f64x2.convert_low_i32x4_u`)) unary(op, 'v');
unary('f32x4.demote_f64x2_zero', 'f32');
unary('f64x2.promote_low_f32x4', 'f64');

// Splats, lane extraction and replacement, every shape and lane: moves
// keep NaN bits exactly.
const scalar = { i8x16: 'i32', i16x8: 'i32', i32x4: 'i32', i64x2: 'i64', f32x4: 'f32', f64x2: 'f64' };
const lanes = { i8x16: 16, i16x8: 8, i32x4: 4, i64x2: 2, f32x4: 4, f64x2: 2 };
const asInt = { i32: (x) => x, i64: (x) => x, f32: (x) => `(i32.reinterpret_f32 ${x})`, f64: (x) => `(i64.reinterpret_f64 ${x})` };
const intResult = { i32: 'i32', i64: 'i64', f32: 'i32', f64: 'i64' };
for (const [s, t] of Object.entries(scalar)) {
  const load = `(${t}.load (local.get $j))`;
  fn(`${s}.splat`, `(${s}.splat ${load})`, 'v', 'pairs');
  for (let lane = 0; lane < lanes[s]; lane++) {
    const extracts = s === 'i8x16' || s === 'i16x8' ? [`${s}.extract_lane_s`, `${s}.extract_lane_u`] : [`${s}.extract_lane`];
    for (const op of extracts) fn(`${op}#${lane}`, asInt[t](`(${op} ${lane} ${A})`), intResult[t], 'single');
    fn(`${s}.replace_lane#${lane}`, `(${s}.replace_lane ${lane} ${A} ${load})`, 'v', 'pairs');
  }
}

// Loads and lane stores at every byte address, with no offset and with a
// random one.
const I = '(local.get $i)';
const OTHER = `(v128.load (i32.sub (i32.const ${N16 - 32}) (local.get $i)))`;
const memOps = [];
// A store of OTHER at SCRATCH + (i mod 16) + offset into 48 filled bytes,
// and what it left there (the three 16-byte windows, each moved apart).
const stored = (store) => '(block (result v128) ' +
  [0, 16, 32].map((at) => `(v128.store (i32.const ${SCRATCH + at}) (v128.const i64x2 -1 ${at}))`).join(' ') +
  ` (${store} (i32.add (i32.const ${SCRATCH}) (i32.and ${I} (i32.const 15))) ${OTHER}) ` +
  `(v128.xor (v128.load (i32.const ${SCRATCH})) (i64x2.add (v128.load (i32.const ${SCRATCH + 16})) ` +
  `(i32x4.shl (v128.load (i32.const ${SCRATCH + 32})) (i32.const 1)))))`;
for (const op of words(`v128.load v128.load8x8_s v128.load8x8_u v128.load16x4_s v128.load16x4_u
  v128.load32x2_s v128.load32x2_u v128.load8_splat v128.load16_splat v128.load32_splat
  v128.load64_splat v128.load32_zero v128.load64_zero`)) memOps.push([op, (mem) => `(${op} ${mem} ${I})`]);
for (const [w, n] of [[8, 16], [16, 8], [32, 4], [64, 2]]) {
  for (let lane = 0; lane < n; lane++) {
    memOps.push([`v128.load${w}_lane#${lane}`, (mem) => `(v128.load${w}_lane ${mem} ${lane} ${I} ${OTHER})`]);
    memOps.push([`v128.store${w}_lane#${lane}`, (mem) => stored(`v128.store${w}_lane ${mem} ${lane}`)]);
  }
}
memOps.push(['v128.store', (mem) => stored(`v128.store ${mem}`)]);
for (const [name, make] of memOps) {
  fn(name, make(''), 'v', 'bytes');
  const offset = 1 + below(15);
  fn(`${name}#offset=${offset}`, make(`offset=${offset}`), 'v', 'bytes');
}

const hex = Array.from(data, (b) => '\\' + b.toString(16).padStart(2, '0')).join('');
process.stdout.write(`(module (memory 1)\n(data (i32.const 0) "${hex}")\n${funcs.join('\n')}\n)\n`);
