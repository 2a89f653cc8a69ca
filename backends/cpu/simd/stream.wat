;; Streaming kernels of the inference engine (infer-ops.ts): a sum into a channel slice, the Bi-Real
;; shortcut's channel-group mean, and an eval-mode BatchNorm (+ ReLU). The file holds functions only:
;; assemble.mjs puts the .wat files of this folder into one module (simd.ts loads it).
;;
;; Each computes what its TypeScript loop computes, with the same operations in the same order: a
;; float32 sum (a + b rounded once, as JavaScript's double sum stored into a Float32Array: a double
;; holds the exact sum of two floats), and the group mean and the affine map in float64 (f64x2), rounded
;; to float32 once. Four values at a time: n is rounded up to a multiple of 4 by the caller, whose
;; regions have room for it (the values past n are computed from whatever is there and never read).

  ;; y[i] = a[i] + b[i], float32
  (func (export "addF32") (param $a i32) (param $b i32) (param $y i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $y) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $y) (local.get $end)))
      (v128.store (local.get $y) (f32x4.add (v128.load (local.get $a)) (v128.load (local.get $b))))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $b (i32.add (local.get $b) (i32.const 16)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (br $l)))
  )

  ;; y[i] = f32((x[g=0][i] + x[1][i] + ... + x[groups-1][i]) * inv), the sum in group order in float64;
  ;; group g's values at x + g * gs bytes.
  (func (export "groupMean") (param $x i32) (param $gs i32) (param $groups i32) (param $inv f64) (param $y i32) (param $n i32)
    (local $end i32) (local $g i32) (local $p i32) (local $v v128) (local $lo v128) (local $hi v128) (local $s v128)
    (local.set $s (f64x2.splat (local.get $inv)))
    (local.set $end (i32.add (local.get $y) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $y) (local.get $end)))
      (local.set $v (v128.load (local.get $x)))
      (local.set $lo (f64x2.promote_low_f32x4 (local.get $v)))
      (local.set $hi (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
      (local.set $p (local.get $x))
      (local.set $g (i32.const 1))
      (block $gDone (loop $gLoop
        (br_if $gDone (i32.ge_u (local.get $g) (local.get $groups)))
        (local.set $p (i32.add (local.get $p) (local.get $gs)))
        (local.set $v (v128.load (local.get $p)))
        (local.set $lo (f64x2.add (local.get $lo) (f64x2.promote_low_f32x4 (local.get $v))))
        (local.set $hi (f64x2.add (local.get $hi)
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
        (local.set $g (i32.add (local.get $g) (i32.const 1)))
        (br $gLoop)))
      (v128.store (local.get $y) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
        (f32x4.demote_f64x2_zero (f64x2.mul (local.get $lo) (local.get $s)))
        (f32x4.demote_f64x2_zero (f64x2.mul (local.get $hi) (local.get $s)))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (br $l)))
  )

  ;; For each of `planes` planes c of HWs values (HWs a multiple of 4): y = f32(x * scale[c] + shift[c])
  ;; in float64, then where `relu` the value if it is > 0, else +0 (NaN gives 0, as `v > 0 ? v : 0`).
  ;; scale, shift: float32 per plane.
  (func (export "affine") (param $x i32) (param $y i32) (param $scale i32) (param $shift i32) (param $planes i32) (param $HWs i32) (param $relu i32)
    (local $c i32) (local $end i32) (local $sc v128) (local $sh v128) (local $v v128) (local $lo v128) (local $hi v128)
    (block $cDone (loop $cLoop
      (br_if $cDone (i32.ge_u (local.get $c) (local.get $planes)))
      (local.set $sc (f64x2.splat (f64.promote_f32 (f32.load (i32.add (local.get $scale) (i32.shl (local.get $c) (i32.const 2)))))))
      (local.set $sh (f64x2.splat (f64.promote_f32 (f32.load (i32.add (local.get $shift) (i32.shl (local.get $c) (i32.const 2)))))))
      (local.set $end (i32.add (local.get $y) (i32.shl (local.get $HWs) (i32.const 2))))
      (block $done (loop $l
        (br_if $done (i32.ge_u (local.get $y) (local.get $end)))
        (local.set $v (v128.load (local.get $x)))
        (local.set $lo (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (local.get $v)) (local.get $sc)) (local.get $sh)))
        (local.set $hi (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))) (local.get $sc)) (local.get $sh)))
        (if (local.get $relu) (then
          (local.set $lo (v128.and (local.get $lo) (f64x2.gt (local.get $lo) (v128.const f64x2 0 0))))
          (local.set $hi (v128.and (local.get $hi) (f64x2.gt (local.get $hi) (v128.const f64x2 0 0))))))
        (v128.store (local.get $y) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (local.get $lo)) (f32x4.demote_f64x2_zero (local.get $hi))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (br $l)))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (br $cLoop)))
  )
