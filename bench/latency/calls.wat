;; Calls across each boundary, for bench/latency.c. Every loop takes its
;; count n (> 0) and returns what it accumulated, which must equal n: a
;; miscompiled loop or call makes the benchmark fail instead of timing it.
(module
  (type $i32_to_i32 (func (param i32) (result i32)))
  (import "bench" "host_add1" (func $host_add1 (type $i32_to_i32)))

  ;; The callee of the direct and indirect loops. wasmjail compiles each
  ;; function on its own, so it is really called, never inlined.
  (func $add1 (type $i32_to_i32)
    (i32.add (local.get 0) (i32.const 1)))

  (table 1 funcref)
  (elem (i32.const 0) $add1)

  ;; Called from the host.
  (func (export "nop"))
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1)))

  ;; The baseline: the loops below with the call replaced by its body.
  (func (export "loop_without_call") (param $n i32) (result i32)
    (local $acc i32)
    (loop $next
      (local.set $acc (i32.add (local.get $acc) (i32.const 1)))
      (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $acc))

  (func (export "loop_call_direct") (param $n i32) (result i32)
    (local $acc i32)
    (loop $next
      (local.set $acc (call $add1 (local.get $acc)))
      (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $acc))

  ;; The table slot (0) is a parameter, so the index is not a constant.
  (func (export "loop_call_indirect") (param $n i32) (param $slot i32) (result i32)
    (local $acc i32)
    (loop $next
      (local.set $acc
        (call_indirect (type $i32_to_i32) (local.get $acc) (local.get $slot)))
      (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $acc))

  (func (export "loop_call_host") (param $n i32) (result i32)
    (local $acc i32)
    (loop $next
      (local.set $acc (call $host_add1 (local.get $acc)))
      (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $acc)))
