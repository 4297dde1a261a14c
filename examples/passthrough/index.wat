;; passthrough: a chained CNI plugin written by hand in WebAssembly text, against the ABI of
;; wit/plugin.wit as docs/abi.md describes it: no SDK, no compiler. ADD answers the previous
;; result unchanged (a plugin placed anywhere after the first in a list keeps the chain's
;; result), and fails with CNI error 7 when there is none; DEL, CHECK, STATUS and GC succeed.
;; It logs one line per ADD through the host's log interface.
;;
;; Build:  cni-wasm plugin build examples/passthrough
;;   (capabilities.json is embedded as the cni-wasm:capabilities section, then the module is
;;   componentized against wit/plugin.wit and checked as the host checks it at load)
(module
  ;; log.write(level: enum (0 debug, 1 info, 2 warn, 3 error), msg: string as ptr, len)
  (import "cni:plugin/log@0.1.0" "write" (func $log (param i32 i32 i32)))

  ;; One page, at most 16 (1 MiB): the host needs a maximum.
  (memory (export "memory") 1 16)
  (global $heap (mut i32) (i32.const 4096))

  (data (i32.const 256) "passthrough: passing the previous result on")             ;; 43 bytes
  (data (i32.const 320) "passthrough must be chained after another plugin (no prevResult)") ;; 64 bytes

  ;; cabi_realloc(old, old_size, align, new_size) -> ptr: a bump allocator (an instance serves
  ;; one call, so nothing is ever freed). The host lowers the request's strings through it.
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get 2))))
    (global.set $heap (i32.add (local.get $p) (local.get 3)))
    (if (i32.gt_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536)))
      (then
        (if (i32.eq (memory.grow (i32.add (i32.shr_u (i32.sub (global.get $heap) (i32.mul (memory.size) (i32.const 65536))) (i32.const 16)) (i32.const 1)))
                    (i32.const -1))
          (then unreachable))))
    (local.get $p))

  ;; add(req: request) -> result<string, cni-error>. The request arrives flattened into 12
  ;; i32: config (ptr, len), container-id (ptr, len), ifname (ptr, len), args (ptr, len),
  ;; prev-result (option: is-some, ptr, len), has-container. The answer is a pointer to the
  ;; return area: byte 0 the case (0 ok, 1 error), then at +4 the ok string (ptr, len) or the
  ;; cni-error record (code u32, msg ptr, len, details ptr, len).
  (func (export "cni:plugin/handler@0.1.0#add")
    (param $config i32) (param $configLen i32) (param $cid i32) (param $cidLen i32)
    (param $ifname i32) (param $ifnameLen i32) (param $args i32) (param $argsLen i32)
    (param $hasPrev i32) (param $prev i32) (param $prevLen i32) (param $hasContainer i32)
    (result i32)
    (if (i32.eqz (local.get $hasPrev))
      (then
        (i32.store8 (i32.const 16) (i32.const 1))
        (i32.store (i32.const 20) (i32.const 7))      ;; code 7: invalid configuration
        (i32.store (i32.const 24) (i32.const 320))    ;; msg
        (i32.store (i32.const 28) (i32.const 64))
        (i32.store (i32.const 32) (i32.const 0))      ;; details: ""
        (i32.store (i32.const 36) (i32.const 0))
        (return (i32.const 16))))
    (call $log (i32.const 1) (i32.const 256) (i32.const 43))
    ;; The host lowered the prevResult (the 1.x form) into our memory: answer it as it is.
    (i32.store8 (i32.const 16) (i32.const 0))
    (i32.store (i32.const 20) (local.get $prev))
    (i32.store (i32.const 24) (local.get $prevLen))
    (i32.const 16))

  ;; del, check, status, gc(req) -> result<_, cni-error>: ok.
  (func $ok (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
    (i32.store8 (i32.const 16) (i32.const 0))
    (i32.const 16))
  (export "cni:plugin/handler@0.1.0#del" (func $ok))
  (export "cni:plugin/handler@0.1.0#check" (func $ok))
  (export "cni:plugin/handler@0.1.0#status" (func $ok))
  (export "cni:plugin/handler@0.1.0#gc" (func $ok))

  ;; Post-return functions: the host calls them after reading a result; nothing to free here.
  (func $post (param i32))
  (export "cabi_post_cni:plugin/handler@0.1.0#add" (func $post))
  (export "cabi_post_cni:plugin/handler@0.1.0#del" (func $post))
  (export "cabi_post_cni:plugin/handler@0.1.0#check" (func $post))
  (export "cabi_post_cni:plugin/handler@0.1.0#status" (func $post))
  (export "cabi_post_cni:plugin/handler@0.1.0#gc" (func $post))
)
