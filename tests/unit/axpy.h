/* A module of clang's unrolled axpy, for the suites that check tier 2's
 * packing of unrolled loops (src/opt/vectorize.c): test-passes (what it
 * packs) and test-traps (that it computes and traps as the scalar loop).
 * Functions: axpy (0), axpy_down (1), axpy_twice (2). */
#ifndef WJ_TEST_AXPY_H
#define WJ_TEST_AXPY_H

/* Two copies per iteration, the second at offset 8, i counted up to n
 * by 16. */
#define AXPY_LOOP                                                                            \
    "  (loop $l\n"                                                                          \
    "   (f64.store (i32.add (local.get $d) (local.get $i))\n"                               \
    "    (f64.add (f64.mul (local.get $a) (f64.load (i32.add (local.get $s) (local.get $i))))\n" \
    "             (f64.load (i32.add (local.get $d) (local.get $i)))))\n"                   \
    "   (f64.store offset=8 (i32.add (local.get $d) (local.get $i))\n"                      \
    "    (f64.add (f64.mul (local.get $a)\n"                                                \
    "                      (f64.load offset=8 (i32.add (local.get $s) (local.get $i))))\n"  \
    "             (f64.load offset=8 (i32.add (local.get $d) (local.get $i)))))\n"          \
    "   (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 16)))\n"         \
    "                     (local.get $n))))"

/* axpy: the loop up to n * 16; axpy_down: counted down to 0, returning
 * the last value stored (read after the loop); axpy_twice: axpy by a,
 * then by a + 1 (the loop reads a phi of the loop around it). */
static const char axpy_wat[] =
    "(module (memory (export \"mem\") 1)\n"
    " (func (export \"axpy\") (param $d i32) (param $s i32) (param $n i32) (param $a f64)\n"
    "  (local $i i32)\n"
    "  (local.set $n (i32.shl (local.get $n) (i32.const 4)))\n"
    AXPY_LOOP ")\n"
    " (func (export \"axpy_down\") (param $d i32) (param $s i32) (param $n i32) (param $a f64)\n"
    "  (result f64) (local $i i32) (local $x f64)\n"
    "  (loop $l\n"
    "   (f64.store (i32.add (local.get $d) (local.get $i))\n"
    "    (f64.add (f64.mul (local.get $a) (f64.load (i32.add (local.get $s) (local.get $i))))\n"
    "             (f64.load (i32.add (local.get $d) (local.get $i)))))\n"
    "   (f64.store offset=8 (i32.add (local.get $d) (local.get $i))\n"
    "    (local.tee $x\n"
    "     (f64.add (f64.mul (local.get $a) (f64.load offset=8 (i32.add (local.get $s) (local.get $i))))\n"
    "              (f64.load offset=8 (i32.add (local.get $d) (local.get $i))))))\n"
    "   (local.set $i (i32.add (local.get $i) (i32.const 16)))\n"
    "   (br_if $l (local.tee $n (i32.add (local.get $n) (i32.const -1)))))\n"
    "  (local.get $x))\n"
    " (func (export \"axpy_twice\") (param $d i32) (param $s i32) (param $n i32) (param $a f64)\n"
    "  (local $i i32) (local $r i32)\n"
    "  (local.set $n (i32.shl (local.get $n) (i32.const 4)))\n"
    "  (loop $rep\n"
    "   (local.set $i (i32.const 0))\n"
    AXPY_LOOP "\n"
    "   (local.set $a (f64.add (local.get $a) (f64.const 1)))\n"
    "   (br_if $rep (i32.ne (local.tee $r (i32.add (local.get $r) (i32.const 1))) (i32.const 2))))))";

#endif
