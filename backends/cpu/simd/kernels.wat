;; WebAssembly SIMD kernels of the CPU backend's 1-bit inference engine (see simd.ts for how they are
;; loaded and switched, and assemble.mjs for how this text becomes module.ts).
;;
;; Every kernel computes exactly what the plain TypeScript kernel beside it computes, with the same
;; floating-point operations in the same order: the float arithmetic is float64 (f64x2, two lanes),
;; as JavaScript's numbers are, and a value is rounded to float32 once, where the TypeScript kernel
;; stores it into a Float32Array. So the two paths give bit-identical outputs (test/backends/simd.test.ts).
;;
;; Layout: planes of HWs values (HWs a multiple of 4: a plane padded at its end), addresses in bytes,
;; every plane 16-byte aligned. The caller copies its data in and out (memory is private to a thread).
(module
  (memory (export "memory") 1)

  ;; xw[w][i] (word w of pixel i, i < HWs) = the sign bits of channels 32w .. 32w+31 of pixel i:
  ;; bit c & 31 set where !(x[c][i] >= 0) (bitpack.ts's convention: set = -1, NaN = -1), for c < C.
  (func (export "packPixelWords") (param $x i32) (param $xw i32) (param $C i32) (param $HWs i32)
    (local $rowBytes i32) (local $w i32) (local $c i32) (local $c1 i32) (local $i i32) (local $acc v128)
    (local.set $rowBytes (i32.shl (local.get $HWs) (i32.const 2)))
    (block $wDone (loop $wLoop
      (br_if $wDone (i32.ge_u (i32.shl (local.get $w) (i32.const 5)) (local.get $C)))
      (local.set $c1 (i32.add (i32.shl (local.get $w) (i32.const 5)) (i32.const 32)))
      (if (i32.gt_u (local.get $c1) (local.get $C)) (then (local.set $c1 (local.get $C))))
      (local.set $i (i32.const 0))
      (block $iDone (loop $iLoop
        (br_if $iDone (i32.ge_u (local.get $i) (local.get $rowBytes)))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $c (i32.shl (local.get $w) (i32.const 5)))
        (block $cDone (loop $cLoop
          (br_if $cDone (i32.ge_u (local.get $c) (local.get $c1)))
          ;; acc |= bit(c) where not (x >= 0)
          (local.set $acc (v128.or (local.get $acc)
            (v128.andnot
              (i32x4.splat (i32.shl (i32.const 1) (local.get $c)))
              (f32x4.ge
                (v128.load (i32.add (local.get $x) (i32.add (i32.mul (local.get $c) (local.get $rowBytes)) (local.get $i))))
                (v128.const f32x4 0 0 0 0)))))
          (local.set $c (i32.add (local.get $c) (i32.const 1)))
          (br $cLoop)))
        (v128.store (i32.add (local.get $xw) (i32.add (i32.mul (local.get $w) (local.get $rowBytes)) (local.get $i))) (local.get $acc))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $iLoop)))
      (local.set $w (i32.add (local.get $w) (i32.const 1)))
      (br $wLoop)))
  )

  ;; The 1x1 convolution of packed signs with float output (xnor-pointwise.ts, its float epilogue):
  ;;   m = popcount over the CW words of (xw[w][i] XOR wts[k][w])     (mismatches; bits past C clear)
  ;;   y[k][i] = f32(A[k] * (C - 2m) + B[k]  [+ R[k] * res[k][i]])    (float64, rounded once)
  ;; A, B, R: float32 per filter; R is read only when hasRes.
  (func (export "pointwise")
    (param $xw i32) (param $wts i32) (param $C i32) (param $K i32) (param $HWs i32)
    (param $A i32) (param $B i32) (param $R i32) (param $res i32) (param $y i32) (param $hasRes i32)
    (local $rowBytes i32) (local $CW i32) (local $k i32) (local $i i32) (local $w i32) (local $wk i32)
    (local $a v128) (local $b v128) (local $r v128) (local $cv v128)
    (local $m8 v128) (local $dot v128) (local $lo v128) (local $hi v128) (local $rv v128) (local $o i32)
    (local.set $rowBytes (i32.shl (local.get $HWs) (i32.const 2)))
    (local.set $CW (i32.shr_u (i32.add (local.get $C) (i32.const 31)) (i32.const 5)))
    (local.set $cv (i32x4.splat (local.get $C)))
    (block $kDone (loop $kLoop
      (br_if $kDone (i32.ge_u (local.get $k) (local.get $K)))
      (local.set $a (f64x2.splat (f64.promote_f32 (f32.load (i32.add (local.get $A) (i32.shl (local.get $k) (i32.const 2)))))))
      (local.set $b (f64x2.splat (f64.promote_f32 (f32.load (i32.add (local.get $B) (i32.shl (local.get $k) (i32.const 2)))))))
      (local.set $r (f64x2.splat (f64.promote_f32 (f32.load (i32.add (local.get $R) (i32.shl (local.get $k) (i32.const 2)))))))
      (local.set $wk (i32.add (local.get $wts) (i32.shl (i32.mul (local.get $k) (local.get $CW)) (i32.const 2))))
      (local.set $i (i32.const 0))
      (block $iDone (loop $iLoop
        (br_if $iDone (i32.ge_u (local.get $i) (local.get $rowBytes)))
        ;; byte counts of the mismatches, summed over the words (at most 8 per byte and word: CW <= 8 fits)
        (local.set $m8 (v128.const i32x4 0 0 0 0))
        (local.set $w (i32.const 0))
        (block $wDone (loop $wLoop
          (br_if $wDone (i32.ge_u (local.get $w) (local.get $CW)))
          (local.set $m8 (i8x16.add (local.get $m8)
            (i8x16.popcnt (v128.xor
              (v128.load (i32.add (local.get $xw) (i32.add (i32.mul (local.get $w) (local.get $rowBytes)) (local.get $i))))
              (i32x4.splat (i32.load (i32.add (local.get $wk) (i32.shl (local.get $w) (i32.const 2)))))))))
          (local.set $w (i32.add (local.get $w) (i32.const 1)))
          (br $wLoop)))
        ;; dot = C - 2 * m, four pixels
        (local.set $dot (i32x4.sub (local.get $cv)
          (i32x4.shl (i32x4.extadd_pairwise_i16x8_u (i16x8.extadd_pairwise_i8x16_u (local.get $m8))) (i32.const 1))))
        (local.set $lo (f64x2.add (f64x2.mul (local.get $a) (f64x2.convert_low_i32x4_s (local.get $dot))) (local.get $b)))
        (local.set $hi (f64x2.add (f64x2.mul (local.get $a)
          (f64x2.convert_low_i32x4_s (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $dot) (local.get $dot))))
          (local.get $b)))
        (local.set $o (i32.add (i32.mul (local.get $k) (local.get $rowBytes)) (local.get $i)))
        (if (local.get $hasRes) (then
          (local.set $rv (v128.load (i32.add (local.get $res) (local.get $o))))
          (local.set $lo (f64x2.add (local.get $lo) (f64x2.mul (local.get $r) (f64x2.promote_low_f32x4 (local.get $rv)))))
          (local.set $hi (f64x2.add (local.get $hi) (f64x2.mul (local.get $r)
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $rv) (local.get $rv))))))))
        (v128.store (i32.add (local.get $y) (local.get $o))
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (local.get $lo)) (f32x4.demote_f64x2_zero (local.get $hi))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $iLoop)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br $kLoop)))
  )
)
