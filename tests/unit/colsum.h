/* A module of loop nests that tier 2 runs by lanes of the outer loop (src/opt/outer.c),
 * for the suites that check it: test-passes (what it makes) and test-traps
 * (that it computes and traps as the scalar nest).
 * Functions: colsum (0), colacc (1), rowsum (2).
 *
 * colsum and colacc compute, for j < n, y[j] = s + sum over k < m of
 * A[k][j] * x[k], A's rows 64 bytes apart at a, x at x, y at y (f64s):
 * colsum with s = 0, colacc with s = y[j] (read, then written at the same
 * address). Their inner counters step as clang's may: by subtracting -1,
 * by 3. rowsum sums rows instead, A[j][k] * x[k], into y[2j]: neighbouring
 * lanes 64 bytes apart as it reads, 16 as it writes. */
#ifndef WJ_TEST_COLSUM_H
#define WJ_TEST_COLSUM_H

#define COLSUM_FUNC(name, start, next_k, step, col, row, ys)                                 \
    " (func (export \"" name "\") (param $a i32) (param $x i32) (param $y i32) (param $n i32)" \
    " (param $m i32)\n"                                                                     \
    "  (local $j i32) (local $k i32) (local $s f64) (local $pa i32) (local $px i32)\n"        \
    "  (local.set $m (i32.mul (local.get $m) (i32.const " step ")))\n"                       \
    "  (loop $outer\n"                                                                      \
    "   (local.set $s " start ")\n"                                                         \
    "   (local.set $pa (i32.add (local.get $a) (i32.shl (local.get $j) (i32.const " col "))))\n" \
    "   (local.set $px (local.get $x))\n"                                                   \
    "   (local.set $k (i32.const 0))\n"                                                     \
    "   (loop $inner\n"                                                                     \
    "    (local.set $s (f64.add (local.get $s)\n"                                           \
    "     (f64.mul (f64.load (local.get $pa)) (f64.load (local.get $px)))))\n"              \
    "    (local.set $pa (i32.add (local.get $pa) (i32.const " row ")))\n"                  \
    "    (local.set $px (i32.add (local.get $px) (i32.const 8)))\n"                         \
    "    (br_if $inner (i32.ne (local.tee $k " next_k ")\n"                                 \
    "                          (local.get $m))))\n"                                         \
    "   (f64.store (i32.add (local.get $y) (i32.shl (local.get $j) (i32.const " ys ")))\n"  \
    "              (local.get $s))\n"                                                       \
    "   (br_if $outer (i32.ne (local.tee $j (i32.add (local.get $j) (i32.const 1)))\n"      \
    "                         (local.get $n)))))\n"

static const char colsum_wat[] =
    "(module (memory (export \"mem\") 1)\n"
    COLSUM_FUNC("colsum", "(f64.const 0)", "(i32.sub (local.get $k) (i32.const -1))", "1", "3",
                "64", "3")
    COLSUM_FUNC("colacc", "(f64.load (i32.add (local.get $y) (i32.shl (local.get $j) (i32.const 3))))",
                "(i32.add (local.get $k) (i32.const 3))", "3", "3", "64", "3")
    COLSUM_FUNC("rowsum", "(f64.const 0)", "(i32.add (local.get $k) (i32.const 1))", "1", "6", "8",
                "4")
    ")";

#endif
