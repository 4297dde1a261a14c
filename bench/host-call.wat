;; Host-call crossing bench (bench/host-call.mjs). Each handler makes 10000 host calls:
;;   ADD   -> log.write(info, "hello")                       a string lifted from the guest
;;   CHECK -> sysctl.get(host, "net.ipv4.ip_forward")        a string lifted, a result<string, host-error> lowered back
;;   DEL   -> nothing (the baseline: one handler call)
(module
  (import "cni:plugin/log@0.1.0" "write" (func $write (param i32 i32 i32)))
  (import "cni:plugin/sysctl@0.1.0" "get" (func $get (param i32 i32 i32 i32)))
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 4096))
  (data (i32.const 256) "hello")
  (data (i32.const 320) "net.ipv4.ip_forward")
  (data (i32.const 512) "{\"cniVersion\":\"1.1.0\"}")

  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $p) (local.get 3)))
    (if (i32.gt_u (global.get $heap) (i32.const 131072)) (then unreachable))
    (local.get $p))

  (func $ok (result i32)
    (i32.store8 (i32.const 32) (i32.const 0))
    (i32.store (i32.const 36) (i32.const 512))
    (i32.store (i32.const 40) (i32.const 22))
    (i32.const 32))

  (func (export "cni:plugin/handler@0.1.0#add") (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
    (local $i i32)
    (loop $more
      (call $write (i32.const 1) (i32.const 256) (i32.const 5))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $more (i32.lt_u (local.get $i) (i32.const 10000))))
    (call $ok))

  (func (export "cni:plugin/handler@0.1.0#check") (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
    (local $i i32)
    (loop $more
      ;; the answer's string is allocated by the host through cabi_realloc: start the heap over each time
      (global.set $heap (i32.const 65536))
      (call $get (i32.const 0) (i32.const 320) (i32.const 19) (i32.const 1024))
      (if (i32.load8_u (i32.const 1024)) (then unreachable))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $more (i32.lt_u (local.get $i) (i32.const 10000))))
    (i32.store8 (i32.const 32) (i32.const 0))
    (i32.const 32))

  (func $nothing (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
    (i32.store8 (i32.const 32) (i32.const 0))
    (i32.const 32))
  (export "cni:plugin/handler@0.1.0#del" (func $nothing))
  (export "cni:plugin/handler@0.1.0#status" (func $nothing))
  (export "cni:plugin/handler@0.1.0#gc" (func $nothing))
)
