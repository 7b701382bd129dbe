;; The inner loop of the area reduction (area-simd.ts), 8 columns per SIMD step. Compiled by
;; `node scripts/build-wasm.mjs` into area-kernel-wasm.ts; a unit test checks the two agree.
;;
;; columnSums: for one output row of the reduction, each source column's weighted sum of its
;; stored values, masked to Bits Stored and clamped to [lo, hi] (the window's integer bounds, so
;; the window's linear part can be applied after summing):
;;   out[x] = full · Σ_{r < nFull} v(first + r·stride, x) + headW · v(head, x) + tailW · v(tail, x)
;;   v(row, x) = clamp(u16[row + 2x] & mask, lo, hi)
;; Byte offsets into the memory; i32 sums; `cols` a multiple of 8 (the caller does the rest).
(module
  (memory (import "env" "memory") 1 65536 shared)
  (func (export "columnSums")
        (param $first i32) (param $stride i32) (param $nFull i32) (param $full i32)
        (param $head i32) (param $headW i32) (param $tail i32) (param $tailW i32)
        (param $cols i32) (param $mask i32) (param $lo i32) (param $hi i32) (param $out i32)
    (local $off i32) (local $p i32) (local $r i32) (local $end i32)
    (local $M v128) (local $LO v128) (local $HI v128) (local $c v128) (local $a v128) (local $b v128)
    (local $F v128) (local $HW v128) (local $TW v128)
    (local.set $M (i16x8.splat (local.get $mask)))
    (local.set $LO (i16x8.splat (local.get $lo)))
    (local.set $HI (i16x8.splat (local.get $hi)))
    (local.set $F (i32x4.splat (local.get $full)))
    (local.set $HW (i32x4.splat (local.get $headW)))
    (local.set $TW (i32x4.splat (local.get $tailW)))
    (local.set $end (i32.shl (local.get $cols) (i32.const 1)))
    (block $done
      (loop $groups
        (br_if $done (i32.ge_u (local.get $off) (local.get $end)))
        ;; the whole rows: summed unweighted down the column (the sums stay in registers)
        (local.set $a (v128.const i32x4 0 0 0 0))
        (local.set $b (v128.const i32x4 0 0 0 0))
        (local.set $p (i32.add (local.get $first) (local.get $off)))
        (local.set $r (local.get $nFull))
        (block $rdone
          (loop $rows
            (br_if $rdone (i32.eqz (local.get $r)))
            (local.set $c (i16x8.min_u (i16x8.max_u (v128.and (v128.load align=1 (local.get $p)) (local.get $M)) (local.get $LO)) (local.get $HI)))
            (local.set $a (i32x4.add (local.get $a) (i32x4.extend_low_i16x8_u (local.get $c))))
            (local.set $b (i32x4.add (local.get $b) (i32x4.extend_high_i16x8_u (local.get $c))))
            (local.set $p (i32.add (local.get $p) (local.get $stride)))
            (local.set $r (i32.sub (local.get $r) (i32.const 1)))
            (br $rows)))
        (local.set $a (i32x4.mul (local.get $a) (local.get $F)))
        (local.set $b (i32x4.mul (local.get $b) (local.get $F)))
        ;; the partly covered rows at the top and the bottom, with their weights
        (if (local.get $headW)
          (then
            (local.set $c (i16x8.min_u (i16x8.max_u (v128.and (v128.load align=1 (i32.add (local.get $head) (local.get $off))) (local.get $M)) (local.get $LO)) (local.get $HI)))
            (local.set $a (i32x4.add (local.get $a) (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $c)) (local.get $HW))))
            (local.set $b (i32x4.add (local.get $b) (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $c)) (local.get $HW))))))
        (if (local.get $tailW)
          (then
            (local.set $c (i16x8.min_u (i16x8.max_u (v128.and (v128.load align=1 (i32.add (local.get $tail) (local.get $off))) (local.get $M)) (local.get $LO)) (local.get $HI)))
            (local.set $a (i32x4.add (local.get $a) (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $c)) (local.get $TW))))
            (local.set $b (i32x4.add (local.get $b) (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $c)) (local.get $TW))))))
        (v128.store align=4 (i32.add (local.get $out) (i32.shl (local.get $off) (i32.const 1))) (local.get $a))
        (v128.store offset=16 align=4 (i32.add (local.get $out) (i32.shl (local.get $off) (i32.const 1))) (local.get $b))
        (local.set $off (i32.add (local.get $off) (i32.const 16)))
        (br $groups))))
)
