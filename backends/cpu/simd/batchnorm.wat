;; Batch norm's training kernels (backends/cpu/batchnorm-simd.ts drives them): the per-channel sums of
;; the statistics (Σx, then Σ(x-m)²) and of the backward pass (Σg and Σg·xhat), and the backward's
;; elementwise dx. The file holds functions only: assemble.mjs puts the .wat files of this folder into
;; one module (simd.ts loads it).
;;
;; The summation order (batchnorm.ts's header, which its TypeScript twin follows too): four float64
;; partial sums per channel, partial j taking, image after image and in pixel order, the values at
;; in-plane index i ≡ j (mod 4); a plane's tail (HW not a multiple of 4) lands in partials 0..r-1. A
;; v128 of four floats is exactly the four partials' next terms: lanes 0,1 promoted to the f64x2
;; accumulator `lo` (partials 0 and 1), lanes 2,3 to `hi` (partials 2 and 3). Every value is promoted to
;; float64 before any arithmetic and each term is the twin's double expression, so the partials are the
;; twin's bit for bit; the caller adds them up as (s0 + s1) + (s2 + s3).
;;
;; Planes: `planes` consecutive planes of HW floats each, packed without padding (plane p at x + 4·p·HW
;; bytes, loads unaligned), plane p belonging to the p-th of consecutive channels (its accumulators and
;; coefficients at a stride per plane). A plane's last vector, when HW is not a multiple of 4, reads
;; past the plane (the next plane, or the caller's slack of 16 bytes): its lanes >= r are masked to +0
;; before they are added. Adding +0 changes no partial: a partial starts at +0 and a round-to-nearest
;; sum is -0 only when both terms are, so no partial is ever -0 (and NaN + 0, ±Inf + 0 stay what they
;; are).

  ;; Statistics: for each plane, partials += x (sq = 0) or (x - mean)² (sq = 1), in float64. The tail
  ;; masks: all-ones in the f64 lanes that hold values of the plane (lo: lanes 0,1 below r; hi: 2,3).
  ;; acc: 4 f64 per plane (32 bytes, the partials 0..3), read and written back; mean: 1 f64 per plane
  ;; (read where sq).
  (func (export "bnSum") (param $x i32) (param $planes i32) (param $HW i32) (param $acc i32) (param $mean i32) (param $sq i32)
    (local $p i32) (local $end i32) (local $r i32) (local $m v128) (local $v v128) (local $a v128) (local $b v128)
    (local $lo v128) (local $hi v128) (local $mlo v128) (local $mhi v128)
    (local.set $r (i32.and (local.get $HW) (i32.const 3)))
    (local.set $mlo (i64x2.gt_s (i64x2.splat (i64.extend_i32_u (local.get $r))) (v128.const i64x2 0 1)))
    (local.set $mhi (i64x2.gt_s (i64x2.splat (i64.extend_i32_u (local.get $r))) (v128.const i64x2 2 3)))
    (block $pDone (loop $pLoop
      (br_if $pDone (i32.ge_u (local.get $p) (local.get $planes)))
      (local.set $lo (v128.load (local.get $acc)))
      (local.set $hi (v128.load offset=16 (local.get $acc)))
      (if (local.get $sq) (then (local.set $m (f64x2.splat (f64.load (local.get $mean))))))
      (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $HW) (i32.const -4)) (i32.const 2))))
      (block $done (loop $l
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $v (v128.load (local.get $x)))
        (local.set $a (f64x2.promote_low_f32x4 (local.get $v)))
        (local.set $b (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
        (if (local.get $sq) (then
          (local.set $a (f64x2.sub (local.get $a) (local.get $m)))
          (local.set $a (f64x2.mul (local.get $a) (local.get $a)))
          (local.set $b (f64x2.sub (local.get $b) (local.get $m)))
          (local.set $b (f64x2.mul (local.get $b) (local.get $b)))))
        (local.set $lo (f64x2.add (local.get $lo) (local.get $a)))
        (local.set $hi (f64x2.add (local.get $hi) (local.get $b)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (br $l)))
      (if (local.get $r) (then
        (local.set $v (v128.load (local.get $x)))
        (local.set $a (f64x2.promote_low_f32x4 (local.get $v)))
        (local.set $b (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
        (if (local.get $sq) (then
          (local.set $a (f64x2.sub (local.get $a) (local.get $m)))
          (local.set $a (f64x2.mul (local.get $a) (local.get $a)))
          (local.set $b (f64x2.sub (local.get $b) (local.get $m)))
          (local.set $b (f64x2.mul (local.get $b) (local.get $b)))))
        (local.set $lo (f64x2.add (local.get $lo) (v128.and (local.get $a) (local.get $mlo))))
        (local.set $hi (f64x2.add (local.get $hi) (v128.and (local.get $b) (local.get $mhi))))
        (local.set $x (i32.add (local.get $x) (i32.shl (local.get $r) (i32.const 2))))))
      (v128.store (local.get $acc) (local.get $lo))
      (v128.store offset=16 (local.get $acc) (local.get $hi))
      (local.set $acc (i32.add (local.get $acc) (i32.const 32)))
      (local.set $mean (i32.add (local.get $mean) (i32.const 8)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $pLoop)))
  )

  ;; Backward sums: for each plane, Σg partials += g and Σg·xhat partials += (g · (x - m)) · is, in float64
  ;; (the twin's `g * (x - m) * is`, left to right). acc: 8 f64 per plane (64 bytes: Σg's partials 0..3,
  ;; then Σg·xhat's), read and written back; coef: 5 f64 per plane (40 bytes: k, sg, m, is, sgx; m at 16
  ;; and is at 24 are read here).
  (func (export "bnGradSums") (param $g i32) (param $x i32) (param $planes i32) (param $HW i32) (param $acc i32) (param $coef i32)
    (local $p i32) (local $end i32) (local $r i32) (local $m v128) (local $is v128) (local $v v128) (local $w v128)
    (local $ga v128) (local $gb v128) (local $ta v128) (local $tb v128)
    (local $glo v128) (local $ghi v128) (local $tlo v128) (local $thi v128) (local $mlo v128) (local $mhi v128)
    (local.set $r (i32.and (local.get $HW) (i32.const 3)))
    (local.set $mlo (i64x2.gt_s (i64x2.splat (i64.extend_i32_u (local.get $r))) (v128.const i64x2 0 1)))
    (local.set $mhi (i64x2.gt_s (i64x2.splat (i64.extend_i32_u (local.get $r))) (v128.const i64x2 2 3)))
    (block $pDone (loop $pLoop
      (br_if $pDone (i32.ge_u (local.get $p) (local.get $planes)))
      (local.set $glo (v128.load (local.get $acc)))
      (local.set $ghi (v128.load offset=16 (local.get $acc)))
      (local.set $tlo (v128.load offset=32 (local.get $acc)))
      (local.set $thi (v128.load offset=48 (local.get $acc)))
      (local.set $m (f64x2.splat (f64.load offset=16 (local.get $coef))))
      (local.set $is (f64x2.splat (f64.load offset=24 (local.get $coef))))
      (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $HW) (i32.const -4)) (i32.const 2))))
      (block $done (loop $l
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $v (v128.load (local.get $g)))
        (local.set $w (v128.load (local.get $x)))
        (local.set $ga (f64x2.promote_low_f32x4 (local.get $v)))
        (local.set $gb (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
        (local.set $ta (f64x2.mul (f64x2.mul (local.get $ga) (f64x2.sub (f64x2.promote_low_f32x4 (local.get $w)) (local.get $m))) (local.get $is)))
        (local.set $tb (f64x2.mul (f64x2.mul (local.get $gb) (f64x2.sub (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $w) (local.get $w))) (local.get $m))) (local.get $is)))
        (local.set $glo (f64x2.add (local.get $glo) (local.get $ga)))
        (local.set $ghi (f64x2.add (local.get $ghi) (local.get $gb)))
        (local.set $tlo (f64x2.add (local.get $tlo) (local.get $ta)))
        (local.set $thi (f64x2.add (local.get $thi) (local.get $tb)))
        (local.set $g (i32.add (local.get $g) (i32.const 16)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (br $l)))
      (if (local.get $r) (then
        (local.set $v (v128.load (local.get $g)))
        (local.set $w (v128.load (local.get $x)))
        (local.set $ga (f64x2.promote_low_f32x4 (local.get $v)))
        (local.set $gb (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
        (local.set $ta (f64x2.mul (f64x2.mul (local.get $ga) (f64x2.sub (f64x2.promote_low_f32x4 (local.get $w)) (local.get $m))) (local.get $is)))
        (local.set $tb (f64x2.mul (f64x2.mul (local.get $gb) (f64x2.sub (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $w) (local.get $w))) (local.get $m))) (local.get $is)))
        (local.set $glo (f64x2.add (local.get $glo) (v128.and (local.get $ga) (local.get $mlo))))
        (local.set $ghi (f64x2.add (local.get $ghi) (v128.and (local.get $gb) (local.get $mhi))))
        (local.set $tlo (f64x2.add (local.get $tlo) (v128.and (local.get $ta) (local.get $mlo))))
        (local.set $thi (f64x2.add (local.get $thi) (v128.and (local.get $tb) (local.get $mhi))))
        (local.set $g (i32.add (local.get $g) (i32.shl (local.get $r) (i32.const 2))))
        (local.set $x (i32.add (local.get $x) (i32.shl (local.get $r) (i32.const 2))))))
      (v128.store (local.get $acc) (local.get $glo))
      (v128.store offset=16 (local.get $acc) (local.get $ghi))
      (v128.store offset=32 (local.get $acc) (local.get $tlo))
      (v128.store offset=48 (local.get $acc) (local.get $thi))
      (local.set $acc (i32.add (local.get $acc) (i32.const 64)))
      (local.set $coef (i32.add (local.get $coef) (i32.const 40)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $pLoop)))
  )

  ;; Backward dx, elementwise, in float64 then rounded to float32 once (the twin's expressions):
  ;; batchStats: y = k · ((count·g - sg) - ((x - m) · is) · sgx), else y = k · g (x unread).
  ;; coef: 5 f64 per plane (k, sg, m, is, sgx). A plane's last vector is stored whole: its lanes past
  ;; the plane land in the next plane's output, written after it, or in the caller's 16 bytes of slack.
  (func (export "bnGradX") (param $g i32) (param $x i32) (param $y i32) (param $planes i32) (param $HW i32) (param $coef i32) (param $count f64) (param $batchStats i32)
    (local $p i32) (local $end i32) (local $step i32) (local $k v128) (local $sg v128) (local $m v128) (local $is v128) (local $sgx v128)
    (local $n v128) (local $v v128) (local $w v128) (local $a v128) (local $b v128)
    (local.set $n (f64x2.splat (local.get $count)))
    (local.set $step (i32.shl (local.get $HW) (i32.const 2)))
    (block $pDone (loop $pLoop
      (br_if $pDone (i32.ge_u (local.get $p) (local.get $planes)))
      (local.set $k (f64x2.splat (f64.load (local.get $coef))))
      (local.set $sg (f64x2.splat (f64.load offset=8 (local.get $coef))))
      (local.set $m (f64x2.splat (f64.load offset=16 (local.get $coef))))
      (local.set $is (f64x2.splat (f64.load offset=24 (local.get $coef))))
      (local.set $sgx (f64x2.splat (f64.load offset=32 (local.get $coef))))
      (local.set $end (i32.add (local.get $y) (local.get $step)))
      (block $done (loop $l
        (br_if $done (i32.ge_u (local.get $y) (local.get $end)))
        (local.set $v (v128.load (local.get $g)))
        (local.set $a (f64x2.promote_low_f32x4 (local.get $v)))
        (local.set $b (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
        (if (local.get $batchStats) (then
          (local.set $w (v128.load (local.get $x)))
          (local.set $a (f64x2.sub (f64x2.sub (f64x2.mul (local.get $n) (local.get $a)) (local.get $sg))
            (f64x2.mul (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (local.get $w)) (local.get $m)) (local.get $is)) (local.get $sgx))))
          (local.set $b (f64x2.sub (f64x2.sub (f64x2.mul (local.get $n) (local.get $b)) (local.get $sg))
            (f64x2.mul (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $w) (local.get $w))) (local.get $m)) (local.get $is)) (local.get $sgx))))))
        (v128.store (local.get $y) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (f64x2.mul (local.get $k) (local.get $a)))
          (f32x4.demote_f64x2_zero (f64x2.mul (local.get $k) (local.get $b)))))
        (local.set $g (i32.add (local.get $g) (i32.const 16)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (br $l)))
      ;; the loop ran past the plane's end by 0..3 values: back to the next plane's start
      (local.set $g (i32.sub (local.get $g) (i32.sub (local.get $y) (local.get $end))))
      (local.set $x (i32.sub (local.get $x) (i32.sub (local.get $y) (local.get $end))))
      (local.set $y (local.get $end))
      (local.set $coef (i32.add (local.get $coef) (i32.const 40)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $pLoop)))
  )
