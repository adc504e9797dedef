;; The smallest module worth instantiating, for bench/latency.c: one
;; memory (a guard-region reservation to map and unmap) and one function.
(module
  (memory 1)
  (func (export "nop")))
