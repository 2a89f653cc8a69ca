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
  ;; scale, shift: float64 per plane (the engine's float32 maps widened, batch norm's doubles).
  (func (export "affine") (param $x i32) (param $y i32) (param $scale i32) (param $shift i32) (param $planes i32) (param $HWs i32) (param $relu i32)
    (local $c i32) (local $end i32) (local $sc v128) (local $sh v128) (local $v v128) (local $lo v128) (local $hi v128)
    (block $cDone (loop $cLoop
      (br_if $cDone (i32.ge_u (local.get $c) (local.get $planes)))
      (local.set $sc (f64x2.splat (f64.load (i32.add (local.get $scale) (i32.shl (local.get $c) (i32.const 3))))))
      (local.set $sh (f64x2.splat (f64.load (i32.add (local.get $shift) (i32.shl (local.get $c) (i32.const 3))))))
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

  ;; Average pooling (pool.ts avgPoolPlanes) of `planes` planes: y[p][q] = (the sum over the window,
  ;; clipped to the plane, row by row and left to right, in float64) / (the cells counted), 0 for an
  ;; empty window (DARTS's count_include_pad=False). Four outputs at a time where a row's next four
  ;; 3x3 windows lie inside the plane at stride 1 or 2 (the same nine additions per lane, in the same
  ;; order), else one by one. geo (int32): H W kH kW sh sw padH padW P Q. X: planes of H*W floats, Y:
  ;; planes of P*Q floats (each written whole, in order).
  (func (export "avgPool") (param $X i32) (param $Y i32) (param $geo i32) (param $planes i32)
    (local $H i32) (local $W i32) (local $kH i32) (local $kW i32) (local $sh i32) (local $sw i32)
    (local $padH i32) (local $padW i32) (local $P i32) (local $Q i32)
    (local $pl i32) (local $x i32) (local $y i32) (local $p i32) (local $q i32) (local $h0 i32) (local $w0 i32)
    (local $hs i32) (local $he i32) (local $ws i32) (local $we i32) (local $h i32) (local $w i32) (local $r i32)
    (local $s f64) (local $lo v128) (local $hi v128) (local $v v128) (local $quad i32) (local $reach i32) (local $fresh i32) (local $f f64)
    (local.set $H (i32.load (local.get $geo)))
    (local.set $W (i32.load offset=4 (local.get $geo)))
    (local.set $kH (i32.load offset=8 (local.get $geo)))
    (local.set $kW (i32.load offset=12 (local.get $geo)))
    (local.set $sh (i32.load offset=16 (local.get $geo)))
    (local.set $sw (i32.load offset=20 (local.get $geo)))
    (local.set $padH (i32.load offset=24 (local.get $geo)))
    (local.set $padW (i32.load offset=28 (local.get $geo)))
    (local.set $P (i32.load offset=32 (local.get $geo)))
    (local.set $Q (i32.load offset=36 (local.get $geo)))
    ;; four windows at once: 3x3 at stride 1 (they reach 6 columns) or 2 (they reach 9)
    (local.set $quad (i32.and (i32.and (i32.eq (local.get $kH) (i32.const 3)) (i32.eq (local.get $kW) (i32.const 3)))
      (i32.le_u (local.get $sw) (i32.const 2))))
    (local.set $reach (select (i32.const 6) (i32.const 9) (i32.eq (local.get $sw) (i32.const 1))))
    (local.set $y (local.get $Y))
    (block $plDone (loop $plLoop
      (br_if $plDone (i32.ge_u (local.get $pl) (local.get $planes)))
      (local.set $x (i32.add (local.get $X) (i32.shl (i32.mul (local.get $pl) (i32.mul (local.get $H) (local.get $W))) (i32.const 2))))
      (local.set $p (i32.const 0))
      (block $pDone (loop $pLoop
        (br_if $pDone (i32.ge_u (local.get $p) (local.get $P)))
        (local.set $h0 (i32.sub (i32.mul (local.get $p) (local.get $sh)) (local.get $padH)))
        (local.set $hs (select (local.get $h0) (i32.const 0) (i32.gt_s (local.get $h0) (i32.const 0))))
        (local.set $he (i32.add (local.get $h0) (local.get $kH)))
        (if (i32.gt_s (local.get $he) (local.get $H)) (then (local.set $he (local.get $H))))
        (local.set $q (i32.const 0))
        (block $qDone (loop $qLoop
          (br_if $qDone (i32.ge_u (local.get $q) (local.get $Q)))
          (local.set $w0 (i32.sub (i32.mul (local.get $q) (local.get $sw)) (local.get $padW)))
          (if (i32.and (i32.and (local.get $quad) (i32.lt_u (i32.add (local.get $q) (i32.const 3)) (local.get $Q)))
                (i32.and (i32.and (i32.ge_s (local.get $h0) (i32.const 0)) (i32.le_s (i32.add (local.get $h0) (i32.const 3)) (local.get $H)))
                  (i32.and (i32.ge_s (local.get $w0) (i32.const 0)) (i32.le_s (i32.add (local.get $w0) (local.get $reach)) (local.get $W)))))
            (then
              (local.set $lo (v128.const f64x2 0 0))
              (local.set $hi (v128.const f64x2 0 0))
              (local.set $r (i32.const 0))
              (block $rDone (loop $rLoop
                (br_if $rDone (i32.ge_u (local.get $r) (i32.const 3)))
                (local.set $w (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (i32.add (local.get $h0) (local.get $r)) (local.get $W)) (local.get $w0)) (i32.const 2))))
                (local.set $h (i32.const 0))
                (block $tDone (loop $tLoop
                  (br_if $tDone (i32.ge_u (local.get $h) (i32.const 3)))
                  ;; lane j: x[row][w0 + j * sw + t]
                  (if (i32.eq (local.get $sw) (i32.const 1))
                    (then (local.set $v (v128.load (local.get $w))))
                    (else (local.set $v (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                      (v128.load (local.get $w)) (v128.load offset=16 (local.get $w))))))
                  ;; the first term is the sum's start, as the TypeScript sum begins with its first value
                  (if (i32.or (local.get $r) (local.get $h))
                    (then
                      (local.set $lo (f64x2.add (local.get $lo) (f64x2.promote_low_f32x4 (local.get $v))))
                      (local.set $hi (f64x2.add (local.get $hi) (f64x2.promote_low_f32x4
                        (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))))
                    (else
                      (local.set $lo (f64x2.promote_low_f32x4 (local.get $v)))
                      (local.set $hi (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))))
                  (local.set $w (i32.add (local.get $w) (i32.const 4)))
                  (local.set $h (i32.add (local.get $h) (i32.const 1)))
                  (br $tLoop)))
                (local.set $r (i32.add (local.get $r) (i32.const 1)))
                (br $rLoop)))
              (v128.store (local.get $y) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
                (f32x4.demote_f64x2_zero (f64x2.div (local.get $lo) (v128.const f64x2 9 9)))
                (f32x4.demote_f64x2_zero (f64x2.div (local.get $hi) (v128.const f64x2 9 9)))))
              (local.set $y (i32.add (local.get $y) (i32.const 16)))
              (local.set $q (i32.add (local.get $q) (i32.const 4)))
              (br $qLoop)))
          ;; one window, clipped to the plane; a whole 3x3 one starts its sum at its first value (as
          ;; pool.ts's unrolled sum), any other at 0 (as its loop): they differ on a window of -0s
          (local.set $ws (select (local.get $w0) (i32.const 0) (i32.gt_s (local.get $w0) (i32.const 0))))
          (local.set $we (i32.add (local.get $w0) (local.get $kW)))
          (if (i32.gt_s (local.get $we) (local.get $W)) (then (local.set $we (local.get $W))))
          (local.set $fresh (i32.and (i32.and (i32.and (i32.eq (local.get $kH) (i32.const 3)) (i32.eq (local.get $kW) (i32.const 3)))
            (i32.and (i32.ge_s (local.get $h0) (i32.const 0)) (i32.le_s (i32.add (local.get $h0) (i32.const 3)) (local.get $H))))
            (i32.and (i32.ge_s (local.get $w0) (i32.const 0)) (i32.le_s (i32.add (local.get $w0) (i32.const 3)) (local.get $W)))))
          (local.set $s (f64.const 0))
          (local.set $h (local.get $hs))
          (block $hDone (loop $hLoop
            (br_if $hDone (i32.ge_s (local.get $h) (local.get $he)))
            (local.set $w (local.get $ws))
            (block $wDone (loop $wLoop
              (br_if $wDone (i32.ge_s (local.get $w) (local.get $we)))
              (local.set $f (f64.promote_f32 (f32.load
                (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (local.get $h) (local.get $W)) (local.get $w)) (i32.const 2))))))
              (local.set $s (select (local.get $f) (f64.add (local.get $s) (local.get $f)) (local.get $fresh)))
              (local.set $fresh (i32.const 0))
              (local.set $w (i32.add (local.get $w) (i32.const 1)))
              (br $wLoop)))
            (local.set $h (i32.add (local.get $h) (i32.const 1)))
            (br $hLoop)))
          (f32.store (local.get $y)
            (if (result f32) (i32.and (i32.lt_s (local.get $hs) (local.get $he)) (i32.lt_s (local.get $ws) (local.get $we)))
              (then (f32.demote_f64 (f64.div (local.get $s)
                (f64.convert_i32_s (i32.mul (i32.sub (local.get $he) (local.get $hs)) (i32.sub (local.get $we) (local.get $ws)))))))
              (else (f32.const 0))))
          (local.set $y (i32.add (local.get $y) (i32.const 4)))
          (local.set $q (i32.add (local.get $q) (i32.const 1)))
          (br $qLoop)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $pLoop)))
      (local.set $pl (i32.add (local.get $pl) (i32.const 1)))
      (br $plLoop)))
  )

;; Max pooling with its argmax (pool.ts maxPoolPlanes) of `planes` planes: y[p][q] = the window's
  ;; largest value, the first taken and then any strictly larger one (row by row, left to right: a NaN
  ;; never wins after the first; a window of ±0 keeps its first), argmax[p][q] = its index in the whole
  ;; input, (base + plane) * H * W + h * W + w; an empty window gives 0 and -1. Four windows at a time
  ;; where a row's next four 3x3 windows lie inside the plane at stride 1 or 2 (f32x4.gt and bitselect:
  ;; the scalar comparison per lane), else one by one. geo as avgPool's; X planes of H*W floats, Y and
  ;; A planes of P*Q floats and ints.
  (func (export "maxPoolArg") (param $X i32) (param $Y i32) (param $A i32) (param $geo i32) (param $planes i32) (param $base i32)
    (local $H i32) (local $W i32) (local $kH i32) (local $kW i32) (local $sh i32) (local $sw i32)
    (local $padH i32) (local $padW i32) (local $P i32) (local $Q i32)
    (local $pl i32) (local $x i32) (local $y i32) (local $a i32) (local $p i32) (local $q i32) (local $h0 i32) (local $w0 i32)
    (local $hs i32) (local $he i32) (local $ws i32) (local $we i32) (local $h i32) (local $w i32) (local $r i32) (local $t i32)
    (local $quad i32) (local $reach i32) (local $idx0 i32) (local $at i32) (local $bi i32) (local $best f32) (local $f f32)
    (local $v v128) (local $vb v128) (local $va v128) (local $m v128) (local $steps v128) (local $ix v128)
    (local.set $H (i32.load (local.get $geo)))
    (local.set $W (i32.load offset=4 (local.get $geo)))
    (local.set $kH (i32.load offset=8 (local.get $geo)))
    (local.set $kW (i32.load offset=12 (local.get $geo)))
    (local.set $sh (i32.load offset=16 (local.get $geo)))
    (local.set $sw (i32.load offset=20 (local.get $geo)))
    (local.set $padH (i32.load offset=24 (local.get $geo)))
    (local.set $padW (i32.load offset=28 (local.get $geo)))
    (local.set $P (i32.load offset=32 (local.get $geo)))
    (local.set $Q (i32.load offset=36 (local.get $geo)))
    (local.set $quad (i32.and (i32.and (i32.eq (local.get $kH) (i32.const 3)) (i32.eq (local.get $kW) (i32.const 3)))
      (i32.le_u (local.get $sw) (i32.const 2))))
    (local.set $reach (select (i32.const 6) (i32.const 9) (i32.eq (local.get $sw) (i32.const 1))))
    ;; lane j's column is j * sw past lane 0's
    (local.set $steps (i32x4.mul (i32x4.splat (local.get $sw)) (v128.const i32x4 0 1 2 3)))
    (local.set $y (local.get $Y))
    (local.set $a (local.get $A))
    (block $plDone (loop $plLoop
      (br_if $plDone (i32.ge_u (local.get $pl) (local.get $planes)))
      (local.set $x (i32.add (local.get $X) (i32.shl (i32.mul (local.get $pl) (i32.mul (local.get $H) (local.get $W))) (i32.const 2))))
      ;; index of the plane's first cell in the whole input
      (local.set $idx0 (i32.mul (i32.add (local.get $base) (local.get $pl)) (i32.mul (local.get $H) (local.get $W))))
      (local.set $p (i32.const 0))
      (block $pDone (loop $pLoop
        (br_if $pDone (i32.ge_u (local.get $p) (local.get $P)))
        (local.set $h0 (i32.sub (i32.mul (local.get $p) (local.get $sh)) (local.get $padH)))
        (local.set $hs (select (local.get $h0) (i32.const 0) (i32.gt_s (local.get $h0) (i32.const 0))))
        (local.set $he (i32.add (local.get $h0) (local.get $kH)))
        (if (i32.gt_s (local.get $he) (local.get $H)) (then (local.set $he (local.get $H))))
        (local.set $q (i32.const 0))
        (block $qDone (loop $qLoop
          (br_if $qDone (i32.ge_u (local.get $q) (local.get $Q)))
          (local.set $w0 (i32.sub (i32.mul (local.get $q) (local.get $sw)) (local.get $padW)))
          (if (i32.and (i32.and (local.get $quad) (i32.lt_u (i32.add (local.get $q) (i32.const 3)) (local.get $Q)))
                (i32.and (i32.and (i32.ge_s (local.get $h0) (i32.const 0)) (i32.le_s (i32.add (local.get $h0) (i32.const 3)) (local.get $H)))
                  (i32.and (i32.ge_s (local.get $w0) (i32.const 0)) (i32.le_s (i32.add (local.get $w0) (local.get $reach)) (local.get $W)))))
            (then
              (local.set $r (i32.const 0))
              (block $rDone (loop $rLoop
                (br_if $rDone (i32.ge_u (local.get $r) (i32.const 3)))
                (local.set $at (i32.add (i32.mul (i32.add (local.get $h0) (local.get $r)) (local.get $W)) (local.get $w0)))
                (local.set $w (i32.add (local.get $x) (i32.shl (local.get $at) (i32.const 2))))
                (local.set $t (i32.const 0))
                (block $tDone (loop $tLoop
                  (br_if $tDone (i32.ge_u (local.get $t) (i32.const 3)))
                  ;; lane j: x[row][w0 + j * sw + t], at index idx0 + at + t + j * sw
                  (if (i32.eq (local.get $sw) (i32.const 1))
                    (then (local.set $v (v128.load (local.get $w))))
                    (else (local.set $v (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                      (v128.load (local.get $w)) (v128.load offset=16 (local.get $w))))))
                  (local.set $ix (i32x4.add (i32x4.splat (i32.add (local.get $idx0) (i32.add (local.get $at) (local.get $t)))) (local.get $steps)))
                  (if (i32.or (local.get $r) (local.get $t))
                    (then
                      (local.set $m (f32x4.gt (local.get $v) (local.get $vb)))
                      (local.set $vb (v128.bitselect (local.get $v) (local.get $vb) (local.get $m)))
                      (local.set $va (v128.bitselect (local.get $ix) (local.get $va) (local.get $m))))
                    (else
                      (local.set $vb (local.get $v))
                      (local.set $va (local.get $ix))))
                  (local.set $w (i32.add (local.get $w) (i32.const 4)))
                  (local.set $t (i32.add (local.get $t) (i32.const 1)))
                  (br $tLoop)))
                (local.set $r (i32.add (local.get $r) (i32.const 1)))
                (br $rLoop)))
              (v128.store (local.get $y) (local.get $vb))
              (v128.store (local.get $a) (local.get $va))
              (local.set $y (i32.add (local.get $y) (i32.const 16)))
              (local.set $a (i32.add (local.get $a) (i32.const 16)))
              (local.set $q (i32.add (local.get $q) (i32.const 4)))
              (br $qLoop)))
          ;; one window, clipped to the plane
          (local.set $ws (select (local.get $w0) (i32.const 0) (i32.gt_s (local.get $w0) (i32.const 0))))
          (local.set $we (i32.add (local.get $w0) (local.get $kW)))
          (if (i32.gt_s (local.get $we) (local.get $W)) (then (local.set $we (local.get $W))))
          (local.set $best (f32.const 0))
          (local.set $bi (i32.const -1))
          (local.set $h (local.get $hs))
          (block $hDone (loop $hLoop
            (br_if $hDone (i32.ge_s (local.get $h) (local.get $he)))
            (local.set $w (local.get $ws))
            (block $wDone (loop $wLoop
              (br_if $wDone (i32.ge_s (local.get $w) (local.get $we)))
              (local.set $at (i32.add (i32.mul (local.get $h) (local.get $W)) (local.get $w)))
              (local.set $f (f32.load (i32.add (local.get $x) (i32.shl (local.get $at) (i32.const 2)))))
              (if (i32.or (f32.gt (local.get $f) (local.get $best)) (i32.lt_s (local.get $bi) (i32.const 0)))
                (then
                  (local.set $best (local.get $f))
                  (local.set $bi (i32.add (local.get $idx0) (local.get $at)))))
              (local.set $w (i32.add (local.get $w) (i32.const 1)))
              (br $wLoop)))
            (local.set $h (i32.add (local.get $h) (i32.const 1)))
            (br $hLoop)))
          (f32.store (local.get $y) (local.get $best))
          (i32.store (local.get $a) (local.get $bi))
          (local.set $y (i32.add (local.get $y) (i32.const 4)))
          (local.set $a (i32.add (local.get $a) (i32.const 4)))
          (local.set $q (i32.add (local.get $q) (i32.const 1)))
          (br $qLoop)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $pLoop)))
      (local.set $pl (i32.add (local.get $pl) (i32.const 1)))
      (br $plLoop)))
  )

  ;; Elementwise maps of training (elementwise.ts), n values (a multiple of 4): op 0 add, 1 sub, 2 mul,
  ;; 3 div, in float32 (a JavaScript double sum, difference, product or quotient of two floats stored
  ;; into a Float32Array is the float32 operation's result: the double rounding is innocuous for these);
  ;; `scalar`: b is one value for all.
  (func (export "mapF32") (param $op i32) (param $a i32) (param $b i32) (param $y i32) (param $n i32) (param $scalar i32)
    (local $end i32) (local $s v128) (local $bs i32)
    (local.set $end (i32.add (local.get $y) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $bs (select (i32.const 0) (i32.const 16) (local.get $scalar)))
    (local.set $s (v128.load32_splat (local.get $b)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $y) (local.get $end)))
      (if (i32.eqz (local.get $scalar)) (then (local.set $s (v128.load (local.get $b)))))
      (v128.store (local.get $y)
        (if (result v128) (i32.lt_u (local.get $op) (i32.const 2))
          (then (if (result v128) (i32.eqz (local.get $op))
            (then (f32x4.add (v128.load (local.get $a)) (local.get $s)))
            (else (f32x4.sub (v128.load (local.get $a)) (local.get $s)))))
          (else (if (result v128) (i32.eq (local.get $op) (i32.const 2))
            (then (f32x4.mul (v128.load (local.get $a)) (local.get $s)))
            (else (f32x4.div (v128.load (local.get $a)) (local.get $s)))))))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $b (i32.add (local.get $b) (local.get $bs)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (br $l)))
  )

  ;; ReLU on the bits (elementwise.ts): v & ~(v >> 31): a value with its sign bit set becomes +0.
  (func (export "reluBits") (param $x i32) (param $y i32) (param $n i32)
    (local $end i32) (local $v v128)
    (local.set $end (i32.add (local.get $y) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $y) (local.get $end)))
      (local.set $v (v128.load (local.get $x)))
      (v128.store (local.get $y) (v128.andnot (local.get $v) (i32x4.shr_s (local.get $v) (i32.const 31))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (br $l)))
  )

  ;; sign (elementwise.ts): +1 where x >= 0 (-0 too), else -1 (NaN too): never 0, as bitpack.ts packs.
  (func (export "signF32") (param $x i32) (param $y i32) (param $n i32)
    (local $end i32) (local $one v128) (local $minus v128) (local $zero v128)
    (local.set $end (i32.add (local.get $y) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $one (f32x4.splat (f32.const 1)))
    (local.set $minus (f32x4.splat (f32.const -1)))
    (local.set $zero (f32x4.splat (f32.const 0)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $y) (local.get $end)))
      (v128.store (local.get $y)
        (v128.bitselect (local.get $one) (local.get $minus) (f32x4.ge (v128.load (local.get $x)) (local.get $zero))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (br $l)))
  )

  ;; Activation gradients on the bits (elementwise.ts gradRange): op 0 relu (g where x > 0), 1 clip
  ;; (g where |x| <= 1), 2 approxSign (f32(g * (2 - 2|x|)) in float64, +0 where |x| >= 1 or NaN).
  (func (export "gradMask") (param $op i32) (param $x i32) (param $g i32) (param $y i32) (param $n i32)
    (local $end i32) (local $v v128) (local $gv v128) (local $ax v128) (local $one v128) (local $two v128)
    (local.set $end (i32.add (local.get $y) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $one (i32x4.splat (i32.const 0x3f800000)))
    (local.set $two (f64x2.splat (f64.const 2)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $y) (local.get $end)))
      (local.set $v (v128.load (local.get $x)))
      (local.set $gv (v128.load (local.get $g)))
      (local.set $ax (v128.and (local.get $v) (i32x4.splat (i32.const 0x7fffffff))))
      (v128.store (local.get $y)
        (if (result v128) (i32.eqz (local.get $op))
          (then (v128.and (v128.and (local.get $gv) (i32x4.shr_s (i32x4.neg (local.get $v)) (i32.const 31)))
            (v128.not (i32x4.shr_s (local.get $v) (i32.const 31)))))
          (else (if (result v128) (i32.eq (local.get $op) (i32.const 1))
            (then (v128.and (local.get $gv)
              (i32x4.shr_s (i32x4.sub (i32x4.sub (local.get $ax) (local.get $one)) (i32x4.splat (i32.const 1))) (i32.const 31))))
            (else (v128.and
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
                (f32x4.demote_f64x2_zero (f64x2.mul (f64x2.promote_low_f32x4 (local.get $gv))
                  (f64x2.sub (local.get $two) (f64x2.mul (local.get $two) (f64x2.promote_low_f32x4 (local.get $ax))))))
                (f32x4.demote_f64x2_zero (f64x2.mul
                  (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $gv) (local.get $gv)))
                  (f64x2.sub (local.get $two) (f64x2.mul (local.get $two)
                    (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $ax) (local.get $ax))))))))
              (i32x4.shr_s (i32x4.sub (local.get $ax) (local.get $one)) (i32.const 31))))))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $g (i32.add (local.get $g) (i32.const 16)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (br $l)))
  )
