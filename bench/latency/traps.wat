;; Functions that trap, for bench/latency.c.
(module
  (memory 1)
  ;; A checked error: compiled to a call into the runtime, which records
  ;; the trap without a signal.
  (func (export "unreachable") unreachable)
  ;; Called with an address past the end of the one-page memory: the load
  ;; lands in the guard region and the SIGSEGV handler turns it into a trap.
  (func (export "load") (param $addr i32) (result i32)
    (i32.load (local.get $addr))))
