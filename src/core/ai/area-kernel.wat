;; The inner loop of the area reduction (area-simd.ts), 8 columns per SIMD step. Compiled by
;; `node scripts/build-wasm.mjs` into area-kernel-wasm.ts; a unit test checks the two agree.
;;
;; columnSums: for one output row of the reduction, each source column's weighted sum of its
;; stored values, masked to Bits Stored and clamped to [lo, hi] (the window's integer bounds, so
;; the window's linear part can be applied after summing):
;;   out[x] = full · Σ_{r < nFull} v(first + r·stride, x) + headW · v(head, x) + tailW · v(tail, x)
;;   v(row, x) = clamp(u16[row + 2x] & mask, lo, hi)
;; Byte offsets into the memory; i32 sums; `cols` a multiple of 8 (reduceRows does the rest).
;;
;; reduceRows: output rows [from, to) of the whole reduction, into the slot's output block (channel
;; by channel, each channel (to − from) · width floats): for each row, the column sums above (and the
;; last columns that do not fill a SIMD step, one by one), then the horizontal weighted sums of
;; those and the affine maps, the same f64 operations in the same order as the JavaScript it
;; replaced (area-simd.ts), so the floats are the same. The slot (one per thread) holds:
;;   +0        column sums (i32, up to 65,536 columns)
;;   +262144   horizontal plan: full0, full1, headIndex, headWeight, tailIndex, tailWeight (i32 × 4,096 each)
;;   +360448   vertical plan, the same six arrays
;;   +458752   per channel: mul (f64 × 4), then add (f64 × 4)
;;   +462848   the output block (f32, 16,384 values)
(module
  (memory (import "env" "memory") 1 65536 shared)
  (func $columnSums (export "columnSums")
        (param $first i32) (param $stride i32) (param $nFull i32) (param $full i32)
        (param $head i32) (param $headW i32) (param $tail i32) (param $tailW i32)
        (param $cols i32) (param $mask i32) (param $lo i32) (param $hi i32) (param $out i32)
    (local $off i32) (local $p i32) (local $r i32) (local $end i32)
    (local $M v128) (local $LO v128) (local $HI v128) (local $c v128) (local $a v128) (local $b v128)
    (local $F v128) (local $HW v128) (local $TW v128) (local $narrow i32)
    ;; the clamped values are at most hi, so nFull of them fit a 16-bit lane when hi · nFull < 65,536
    (local.set $narrow (i64.lt_u (i64.mul (i64.extend_i32_u (local.get $hi)) (i64.extend_i32_u (local.get $nFull))) (i64.const 65536)))
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
        (if (local.get $narrow)
          (then
            ;; the whole column's sum fits in 16 bits: summed in 16-bit lanes, widened once
            (local.set $c (v128.const i32x4 0 0 0 0))
            (block $ndone
              (loop $nrows
                (br_if $ndone (i32.eqz (local.get $r)))
                (local.set $c (i16x8.add (local.get $c) (i16x8.min_u (i16x8.max_u (v128.and (v128.load align=1 (local.get $p)) (local.get $M)) (local.get $LO)) (local.get $HI))))
                (local.set $p (i32.add (local.get $p) (local.get $stride)))
                (local.set $r (i32.sub (local.get $r) (i32.const 1)))
                (br $nrows)))
            (local.set $a (i32x4.extend_low_i16x8_u (local.get $c)))
            (local.set $b (i32x4.extend_high_i16x8_u (local.get $c))))
          (else
            (block $rdone
              (loop $rows
                (br_if $rdone (i32.eqz (local.get $r)))
                (local.set $c (i16x8.min_u (i16x8.max_u (v128.and (v128.load align=1 (local.get $p)) (local.get $M)) (local.get $LO)) (local.get $HI)))
                (local.set $a (i32x4.add (local.get $a) (i32x4.extend_low_i16x8_u (local.get $c))))
                (local.set $b (i32x4.add (local.get $b) (i32x4.extend_high_i16x8_u (local.get $c))))
                (local.set $p (i32.add (local.get $p) (local.get $stride)))
                (local.set $r (i32.sub (local.get $r) (i32.const 1)))
                (br $rows)))))
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

  ;; one stored value, masked and clamped
  (func $clamp (param $v i32) (param $mask i32) (param $lo i32) (param $hi i32) (result i32)
    (local.set $v (i32.and (local.get $v) (local.get $mask)))
    (if (i32.lt_u (local.get $v) (local.get $lo)) (then (return (local.get $lo))))
    (if (i32.gt_u (local.get $v) (local.get $hi)) (then (return (local.get $hi))))
    (local.get $v))

  (func (export "reduceRows")
        (param $src i32) (param $stride i32) (param $columns i32) (param $from i32) (param $to i32)
        (param $vFull i32) (param $hFull i32) (param $width i32) (param $mask i32) (param $lo i32) (param $hi i32)
        (param $scale f64) (param $offset f64) (param $channels i32) (param $slot i32)
    (local $i i32) (local $r0 i32) (local $nFull i32) (local $head i32) (local $headW i32) (local $tail i32) (local $tailW i32)
    (local $x i32) (local $end i32) (local $r i32) (local $p i32) (local $sum i32) (local $j i32) (local $c i32)
    (local $s i64) (local $value f64) (local $vp i32) (local $hp i32) (local $out i32) (local $plane i32) (local $cols8 i32)
    (local.set $cols8 (i32.and (local.get $columns) (i32.const -8)))
    (local.set $plane (i32.mul (i32.sub (local.get $to) (local.get $from)) (local.get $width)))
    (local.set $i (local.get $from))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_s (local.get $i) (local.get $to)))
        ;; the vertical plan of output row i
        (local.set $vp (i32.add (i32.add (local.get $slot) (i32.const 360448)) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $r0 (i32.load (local.get $vp)))
        (local.set $nFull (i32.sub (i32.load offset=16384 (local.get $vp)) (local.get $r0)))
        (local.set $head (i32.load offset=32768 (local.get $vp)))
        (local.set $headW (i32.load offset=49152 (local.get $vp)))
        (local.set $tail (i32.load offset=65536 (local.get $vp)))
        (local.set $tailW (i32.load offset=81920 (local.get $vp)))
        (call $columnSums
          (i32.add (local.get $src) (i32.mul (local.get $r0) (local.get $stride))) (local.get $stride) (local.get $nFull) (local.get $vFull)
          (i32.add (local.get $src) (i32.mul (local.get $head) (local.get $stride))) (local.get $headW)
          (i32.add (local.get $src) (i32.mul (local.get $tail) (local.get $stride))) (local.get $tailW)
          (local.get $cols8) (local.get $mask) (local.get $lo) (local.get $hi) (local.get $slot))
        ;; the last columns that do not fill a SIMD step
        (local.set $x (local.get $cols8))
        (block $tailDone
          (loop $tailCols
            (br_if $tailDone (i32.ge_s (local.get $x) (local.get $columns)))
            (local.set $sum (i32.const 0))
            (local.set $p (i32.add (i32.add (local.get $src) (i32.mul (local.get $r0) (local.get $stride))) (i32.shl (local.get $x) (i32.const 1))))
            (local.set $r (local.get $nFull))
            (block $rd
              (loop $rl
                (br_if $rd (i32.eqz (local.get $r)))
                (local.set $sum (i32.add (local.get $sum) (call $clamp (i32.load16_u (local.get $p)) (local.get $mask) (local.get $lo) (local.get $hi))))
                (local.set $p (i32.add (local.get $p) (local.get $stride)))
                (local.set $r (i32.sub (local.get $r) (i32.const 1)))
                (br $rl)))
            (local.set $sum (i32.mul (local.get $sum) (local.get $vFull)))
            (if (local.get $headW)
              (then (local.set $sum (i32.add (local.get $sum) (i32.mul (local.get $headW)
                (call $clamp (i32.load16_u (i32.add (i32.add (local.get $src) (i32.mul (local.get $head) (local.get $stride))) (i32.shl (local.get $x) (i32.const 1))))
                  (local.get $mask) (local.get $lo) (local.get $hi)))))))
            (if (local.get $tailW)
              (then (local.set $sum (i32.add (local.get $sum) (i32.mul (local.get $tailW)
                (call $clamp (i32.load16_u (i32.add (i32.add (local.get $src) (i32.mul (local.get $tail) (local.get $stride))) (i32.shl (local.get $x) (i32.const 1))))
                  (local.get $mask) (local.get $lo) (local.get $hi)))))))
            (i32.store (i32.add (local.get $slot) (i32.shl (local.get $x) (i32.const 2))) (local.get $sum))
            (local.set $x (i32.add (local.get $x) (i32.const 1)))
            (br $tailCols)))
        ;; across: each output's weighted sum of column sums, then v = scale · total + offset and the channels' affine maps
        (local.set $out (i32.add (i32.add (local.get $slot) (i32.const 462848))
          (i32.shl (i32.mul (i32.sub (local.get $i) (local.get $from)) (local.get $width)) (i32.const 2))))
        (local.set $j (i32.const 0))
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.ge_s (local.get $j) (local.get $width)))
            (local.set $hp (i32.add (i32.add (local.get $slot) (i32.const 262144)) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $s (i64.const 0))
            (local.set $x (i32.load (local.get $hp)))
            (local.set $end (i32.load offset=16384 (local.get $hp)))
            (block $sd
              (loop $sl
                (br_if $sd (i32.ge_s (local.get $x) (local.get $end)))
                (local.set $s (i64.add (local.get $s) (i64.extend_i32_s (i32.load (i32.add (local.get $slot) (i32.shl (local.get $x) (i32.const 2)))))))
                (local.set $x (i32.add (local.get $x) (i32.const 1)))
                (br $sl)))
            (local.set $s (i64.add
              (i64.mul (i64.extend_i32_s (local.get $hFull)) (local.get $s))
              (i64.add
                (i64.mul (i64.extend_i32_s (i32.load offset=49152 (local.get $hp)))
                         (i64.extend_i32_s (i32.load (i32.add (local.get $slot) (i32.shl (i32.load offset=32768 (local.get $hp)) (i32.const 2))))))
                (i64.mul (i64.extend_i32_s (i32.load offset=81920 (local.get $hp)))
                         (i64.extend_i32_s (i32.load (i32.add (local.get $slot) (i32.shl (i32.load offset=65536 (local.get $hp)) (i32.const 2)))))))))
            (local.set $value (f64.add (f64.mul (local.get $scale) (f64.convert_i64_s (local.get $s))) (local.get $offset)))
            (local.set $c (i32.const 0))
            (local.set $p (local.get $out))
            (block $cd
              (loop $cl
                (br_if $cd (i32.ge_s (local.get $c) (local.get $channels)))
                (f32.store (local.get $p)
                  (f32.demote_f64 (f64.add
                    (f64.mul (local.get $value) (f64.load offset=458752 (i32.add (local.get $slot) (i32.shl (local.get $c) (i32.const 3)))))
                    (f64.load offset=458784 (i32.add (local.get $slot) (i32.shl (local.get $c) (i32.const 3)))))))
                (local.set $p (i32.add (local.get $p) (i32.shl (local.get $plane) (i32.const 2))))
                (local.set $c (i32.add (local.get $c) (i32.const 1)))
                (br $cl)))
            (local.set $out (i32.add (local.get $out) (i32.const 4)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $cols)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows)))
  )
)
