;; The null plugin: every handler returns at once; ADD answers a fixed result. Used to
;; measure the runtime's fixed cost (bench/null-plugin.mjs) and as the well-behaved
;; control in the runtime tests. Raw canonical ABI (docs/abi.md): a handler takes the
;; flattened request (12 i32) and returns a pointer to its result<_, cni-error>:
;; byte 0 = case (0 ok, 1 error), payload from offset 4 (ok string: ptr, len).
(module
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (data (i32.const 64) "{\"cniVersion\":\"1.1.0\",\"interfaces\":[{\"name\":\"eth0\"}]}")

  ;; Bump allocator: cabi_realloc(old, old_size, align, new_size) -> ptr.
  (func $realloc (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $p) (local.get 3)))
    (if (i32.gt_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536)))
      (then (drop (memory.grow (i32.add (i32.shr_u (i32.sub (global.get $heap) (i32.mul (memory.size) (i32.const 65536))) (i32.const 16)) (i32.const 1))))))
    (local.get $p))

  (func (export "cni:plugin/handler@0.1.0#add") (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
    (i32.store8 (i32.const 16) (i32.const 0))
    (i32.store (i32.const 20) (i32.const 64))
    (i32.store (i32.const 24) (i32.const 53))
    (i32.const 16))
  (func $ok (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
    (i32.store8 (i32.const 16) (i32.const 0))
    (i32.const 16))
  (export "cni:plugin/handler@0.1.0#del" (func $ok))
  (export "cni:plugin/handler@0.1.0#check" (func $ok))
  (export "cni:plugin/handler@0.1.0#status" (func $ok))
  (export "cni:plugin/handler@0.1.0#gc" (func $ok))
  (func $post (param i32))
  (export "cabi_post_cni:plugin/handler@0.1.0#add" (func $post))
  (export "cabi_post_cni:plugin/handler@0.1.0#del" (func $post))
  (export "cabi_post_cni:plugin/handler@0.1.0#check" (func $post))
  (export "cabi_post_cni:plugin/handler@0.1.0#status" (func $post))
  (export "cabi_post_cni:plugin/handler@0.1.0#gc" (func $post))
  (@custom "cni-wasm:capabilities" "{\"version\":1}")
)
