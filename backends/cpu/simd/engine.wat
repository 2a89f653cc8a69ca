;; The 1-bit inference engine's kernels (binary/runtime): packed 1x1 and depthwise convolutions with
;; their float epilogue, and max pooling. The file holds functions only: assemble.mjs puts the .wat
;; files of this folder into one module (simd.ts loads it and holds the switch).
;;
;; Every kernel computes exactly what the plain TypeScript kernel beside it computes, with the same
;; floating-point operations in the same order: the float arithmetic is float64 (f64x2, two lanes),
;; as JavaScript's numbers are, and a value is rounded to float32 once, where the TypeScript kernel
;; stores it into a Float32Array. So the two paths give bit-identical outputs but for the sign and
;; payload of a NaN, which engines and CPUs set as they like (test/backends/simd.test.ts). Addresses
;; are in bytes; the caller copies its data in and out (the memory is private to a thread).

  ;; xw[w][i] (word w of pixel i, i < HWs) = the sign bits of channels 32w .. 32w+31 of pixel i:
  ;; bit c & 31 set where !(x[c][i] >= 0) (bitpack.ts's convention: set = -1, NaN = -1), for c < C.
  ;; x: C planes of HWs floats (HWs a multiple of 4: each plane padded at its end); xw: words likewise.
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

  ;; The float epilogue of four outputs (xnor-epilogue.ts), in float64 as the TypeScript kernels:
  ;;   y[0..3] = f32(a * dot + b  [+ r * res[0..3]])      a, b, r: f64x2 splats; dot: i32x4
  ;; @inline (assemble.mjs writes it out at each call)
  (func $epilogue4 (param $dot v128) (param $a v128) (param $b v128) (param $r v128) (param $res i32) (param $y i32) (param $hasRes i32)
    (local $lo v128) (local $hi v128) (local $rv v128)
    (local.set $lo (f64x2.add (f64x2.mul (local.get $a) (f64x2.convert_low_i32x4_s (local.get $dot))) (local.get $b)))
    (local.set $hi (f64x2.add (f64x2.mul (local.get $a)
      (f64x2.convert_low_i32x4_s (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $dot) (local.get $dot))))
      (local.get $b)))
    (if (local.get $hasRes) (then
      (local.set $rv (v128.load (local.get $res)))
      (local.set $lo (f64x2.add (local.get $lo) (f64x2.mul (local.get $r) (f64x2.promote_low_f32x4 (local.get $rv)))))
      (local.set $hi (f64x2.add (local.get $hi) (f64x2.mul (local.get $r)
        (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $rv) (local.get $rv))))))))
    (v128.store (local.get $y)
      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
        (f32x4.demote_f64x2_zero (local.get $lo)) (f32x4.demote_f64x2_zero (local.get $hi))))
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
    (local $m8 v128) (local $dot v128) (local $o i32)
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
        (local.set $o (i32.add (i32.mul (local.get $k) (local.get $rowBytes)) (local.get $i)))
        (call $epilogue4 (local.get $dot) (local.get $a) (local.get $b) (local.get $r)
          (i32.add (local.get $res) (local.get $o)) (i32.add (local.get $y) (local.get $o)) (local.get $hasRes))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $iLoop)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br $kLoop)))
  )
  ;; The bit-sliced depthwise convolution's job (xnor-depthwise.ts) with float output, for nc channels
  ;; of one image: dot[p][q] = sum over the taps inside the plane of sign(x) * sign(w), sixteen outputs
  ;; at a time in int8 lanes (|dot| <= R*S <= 31), then the epilogue. The signs of a channel's plane
  ;; become rows of int8 (+1 where x >= 0, -1 else, NaN -1), one row per input row and stride phase f
  ;; (column c sits in phase c % sw at index (c - f) / sw), behind a left margin of ML zero bytes; a
  ;; tap outside the plane reads a zero (rows of zeros stand for the padding rows). A tap with weight
  ;; -1 (mask byte -1) negates: (v ^ m) - m.
  ;; geo (int32): H W P Q R S sh sw ph dh Lp, then from word 16 the byte offset of tap column t in its
  ;; phase row (ML included), from word 48 its phase. X: nc planes of H*W floats; Y, RES: nc planes of
  ;; P*Q floats (a block of 16 writes up to 15 past a row's end: the next row overwrites it, and the
  ;; buffers have 64 bytes of slack); WM: R*S mask bytes per channel; SP: (H + 1) * sw rows of Lp bytes.
  (func (export "depthwise")
    (param $X i32) (param $Y i32) (param $RES i32) (param $SP i32) (param $WM i32)
    (param $A i32) (param $B i32) (param $R i32) (param $geo i32) (param $nc i32) (param $hasRes i32)
    (local $H i32) (local $W i32) (local $P i32) (local $Q i32) (local $Rr i32) (local $S i32)
    (local $sh i32) (local $sw i32) (local $ph i32) (local $dh i32) (local $Lp i32)
    (local $c i32) (local $h i32) (local $j i32) (local $p i32) (local $q i32) (local $r i32) (local $t i32)
    (local $xs i32) (local $dst i32) (local $row i32) (local $wm i32) (local $o i32) (local $PQ4 i32)
    (local $a v128) (local $b v128) (local $rr v128) (local $acc v128) (local $m v128) (local $v v128)
    (local.set $H (i32.load (local.get $geo)))
    (local.set $W (i32.load offset=4 (local.get $geo)))
    (local.set $P (i32.load offset=8 (local.get $geo)))
    (local.set $Q (i32.load offset=12 (local.get $geo)))
    (local.set $Rr (i32.load offset=16 (local.get $geo)))
    (local.set $S (i32.load offset=20 (local.get $geo)))
    (local.set $sh (i32.load offset=24 (local.get $geo)))
    (local.set $sw (i32.load offset=28 (local.get $geo)))
    (local.set $ph (i32.load offset=32 (local.get $geo)))
    (local.set $dh (i32.load offset=36 (local.get $geo)))
    (local.set $Lp (i32.load offset=40 (local.get $geo)))
    (local.set $PQ4 (i32.shl (i32.mul (local.get $P) (local.get $Q)) (i32.const 2)))
    ;; margins and the zero rows: cleared once; a channel rewrites only its rows' columns
    (memory.fill (local.get $SP) (i32.const 0)
      (i32.mul (i32.mul (i32.add (local.get $H) (i32.const 1)) (local.get $sw)) (local.get $Lp)))
    (block $cDone (loop $cLoop
      (br_if $cDone (i32.ge_u (local.get $c) (local.get $nc)))
      (local.set $xs (i32.add (local.get $X) (i32.shl (i32.mul (local.get $c) (i32.mul (local.get $H) (local.get $W))) (i32.const 2))))
      ;; the sign rows of channel c
      (local.set $h (i32.const 0))
      (block $hDone (loop $hLoop
        (br_if $hDone (i32.ge_u (local.get $h) (local.get $H)))
        (if (i32.eq (local.get $sw) (i32.const 1))
          (then
            (local.set $dst (i32.add (i32.add (local.get $SP) (i32.mul (local.get $h) (local.get $Lp))) (i32.load offset=44 (local.get $geo))))
            (local.set $row (i32.add (local.get $xs) (i32.shl (i32.mul (local.get $h) (local.get $W)) (i32.const 2))))
            (local.set $j (i32.const 0))
            (block $jDone (loop $jLoop
              (br_if $jDone (i32.ge_u (local.get $j) (local.get $W)))
              (local.set $o (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))
              ;; 16 masks (x >= 0: -1) narrowed to bytes, then (mask & 2) - 1: +1 or -1
              (v128.store (i32.add (local.get $dst) (local.get $j))
                (i8x16.sub
                  (v128.and
                    (i8x16.narrow_i16x8_s
                      (i16x8.narrow_i32x4_s
                        (f32x4.ge (v128.load (local.get $o)) (v128.const f32x4 0 0 0 0))
                        (f32x4.ge (v128.load offset=16 (local.get $o)) (v128.const f32x4 0 0 0 0)))
                      (i16x8.narrow_i32x4_s
                        (f32x4.ge (v128.load offset=32 (local.get $o)) (v128.const f32x4 0 0 0 0))
                        (f32x4.ge (v128.load offset=48 (local.get $o)) (v128.const f32x4 0 0 0 0))))
                    (v128.const i8x16 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2))
                  (v128.const i8x16 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1)))
              (local.set $j (i32.add (local.get $j) (i32.const 16)))
              (br $jLoop)))
            ;; the lanes past the row's end read the next row: clear them
            (v128.store (i32.add (local.get $dst) (local.get $W)) (v128.const i32x4 0 0 0 0)))
          (else
            (local.set $j (i32.const 0))
            (block $jDone2 (loop $jLoop2
              (br_if $jDone2 (i32.ge_u (local.get $j) (local.get $W)))
              (local.set $o (i32.rem_u (local.get $j) (local.get $sw)))
              (i32.store8
                (i32.add
                  (i32.add (local.get $SP) (i32.mul (i32.add (i32.mul (local.get $h) (local.get $sw)) (local.get $o)) (local.get $Lp)))
                  (i32.add (i32.load offset=44 (local.get $geo)) (i32.div_u (i32.sub (local.get $j) (local.get $o)) (local.get $sw))))
                (select (i32.const 1) (i32.const -1)
                  (f32.ge (f32.load (i32.add (local.get $xs) (i32.shl (i32.add (i32.mul (local.get $h) (local.get $W)) (local.get $j)) (i32.const 2))))
                    (f32.const 0))))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br $jLoop2)))))
        (local.set $h (i32.add (local.get $h) (i32.const 1)))
        (br $hLoop)))
      (local.set $a (f64x2.splat (f64.promote_f32 (f32.load (i32.add (local.get $A) (i32.shl (local.get $c) (i32.const 2)))))))
      (local.set $b (f64x2.splat (f64.promote_f32 (f32.load (i32.add (local.get $B) (i32.shl (local.get $c) (i32.const 2)))))))
      (local.set $rr (f64x2.splat (f64.promote_f32 (f32.load (i32.add (local.get $R) (i32.shl (local.get $c) (i32.const 2)))))))
      (local.set $wm (i32.add (local.get $WM) (i32.mul (local.get $c) (i32.mul (local.get $Rr) (local.get $S)))))
      (local.set $p (i32.const 0))
      (block $pDone (loop $pLoop
        (br_if $pDone (i32.ge_u (local.get $p) (local.get $P)))
        (local.set $q (i32.const 0))
        (block $qDone (loop $qLoop
          (br_if $qDone (i32.ge_u (local.get $q) (local.get $Q)))
          (local.set $acc (v128.const i32x4 0 0 0 0))
          (local.set $r (i32.const 0))
          (block $rDone (loop $rLoop
            (br_if $rDone (i32.ge_u (local.get $r) (local.get $Rr)))
            (local.set $h (i32.add (i32.sub (i32.mul (local.get $p) (local.get $sh)) (local.get $ph)) (i32.mul (local.get $r) (local.get $dh))))
            ;; the row group of input row h (its sw phase rows), or the zero rows
            (local.set $row (i32.add (local.get $SP) (i32.mul (i32.mul
              (select (local.get $h) (local.get $H) (i32.lt_u (local.get $h) (local.get $H)))
              (local.get $sw)) (local.get $Lp))))
            (local.set $t (i32.const 0))
            (block $tDone (loop $tLoop
              (br_if $tDone (i32.ge_u (local.get $t) (local.get $S)))
              (local.set $o (i32.add (local.get $geo) (i32.shl (local.get $t) (i32.const 2))))
              (local.set $v (v128.load (i32.add (i32.add (local.get $row) (local.get $q))
                (i32.add (i32.load offset=64 (local.get $o)) (i32.mul (i32.load offset=192 (local.get $o)) (local.get $Lp))))))
              (local.set $m (i8x16.splat (i32.load8_s (i32.add (local.get $wm) (i32.add (i32.mul (local.get $r) (local.get $S)) (local.get $t))))))
              (local.set $acc (i8x16.add (local.get $acc) (i8x16.sub (v128.xor (local.get $v) (local.get $m)) (local.get $m))))
              (local.set $t (i32.add (local.get $t) (i32.const 1)))
              (br $tLoop)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rLoop)))
          ;; the epilogue, four outputs at a time
          (local.set $o (i32.add (i32.mul (local.get $c) (local.get $PQ4))
            (i32.shl (i32.add (i32.mul (local.get $p) (local.get $Q)) (local.get $q)) (i32.const 2))))
          (call $epilogue4 (i32x4.extend_low_i16x8_s (i16x8.extend_low_i8x16_s (local.get $acc)))
            (local.get $a) (local.get $b) (local.get $rr) (i32.add (local.get $RES) (local.get $o)) (i32.add (local.get $Y) (local.get $o)) (local.get $hasRes))
          (if (i32.lt_u (i32.add (local.get $q) (i32.const 4)) (local.get $Q)) (then
            (call $epilogue4 (i32x4.extend_high_i16x8_s (i16x8.extend_low_i8x16_s (local.get $acc)))
              (local.get $a) (local.get $b) (local.get $rr) (i32.add (local.get $RES) (i32.add (local.get $o) (i32.const 16)))
              (i32.add (local.get $Y) (i32.add (local.get $o) (i32.const 16))) (local.get $hasRes))))
          (if (i32.lt_u (i32.add (local.get $q) (i32.const 8)) (local.get $Q)) (then
            (call $epilogue4 (i32x4.extend_low_i16x8_s (i16x8.extend_high_i8x16_s (local.get $acc)))
              (local.get $a) (local.get $b) (local.get $rr) (i32.add (local.get $RES) (i32.add (local.get $o) (i32.const 32)))
              (i32.add (local.get $Y) (i32.add (local.get $o) (i32.const 32))) (local.get $hasRes))))
          (if (i32.lt_u (i32.add (local.get $q) (i32.const 12)) (local.get $Q)) (then
            (call $epilogue4 (i32x4.extend_high_i16x8_s (i16x8.extend_high_i8x16_s (local.get $acc)))
              (local.get $a) (local.get $b) (local.get $rr) (i32.add (local.get $RES) (i32.add (local.get $o) (i32.const 48)))
              (i32.add (local.get $Y) (i32.add (local.get $o) (i32.const 48))) (local.get $hasRes))))
          (local.set $q (i32.add (local.get $q) (i32.const 16)))
          (br $qLoop)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $pLoop)))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (br $cLoop)))
  )
  ;; Max pooling for inference (pool-infer.ts), separable, for `planes` planes: a pass along the rows
  ;; into T (H x Q per plane), then one down the columns. A whole 3-wide (or 3-tall) window takes
  ;; max(max(a, b), c), as Math.max(a, b, c) (NaN if any is NaN; +0 above -0), four at a time where
  ;; the stride is 1 or 2; a clipped window keeps the first value and takes each later one that is greater
  ;; (the TypeScript loop's `if (v > m) m = v`); an empty window gives -Infinity along a row and 0 down
  ;; a column, and a column wholly in the padding gives 0.
  ;; geo (int32): H W kH kW sh sw padH padW P Q. Y and T take writes up to 3 floats past their end.
  (func (export "maxPool") (param $X i32) (param $Y i32) (param $T i32) (param $geo i32) (param $planes i32)
    (local $H i32) (local $W i32) (local $kH i32) (local $kW i32) (local $sh i32) (local $sw i32)
    (local $padH i32) (local $padW i32) (local $P i32) (local $Q i32)
    (local $pl i32) (local $x i32) (local $y i32) (local $h i32) (local $q i32) (local $w0 i32) (local $ws i32) (local $we i32)
    (local $i i32) (local $m f32) (local $v f32) (local $p i32) (local $hs i32) (local $he i32) (local $o i32) (local $t0 i32)
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
    (block $plDone (loop $plLoop
      (br_if $plDone (i32.ge_u (local.get $pl) (local.get $planes)))
      (local.set $x (i32.add (local.get $X) (i32.shl (i32.mul (local.get $pl) (i32.mul (local.get $H) (local.get $W))) (i32.const 2))))
      (local.set $y (i32.add (local.get $Y) (i32.shl (i32.mul (local.get $pl) (i32.mul (local.get $P) (local.get $Q))) (i32.const 2))))
      ;; along the rows: T[h][q] = max of x[h][ws..we)
      (local.set $h (i32.const 0))
      (block $hDone (loop $hLoop
        (br_if $hDone (i32.ge_u (local.get $h) (local.get $H)))
        (local.set $q (i32.const 0))
        (block $qDone (loop $qLoop
          (br_if $qDone (i32.ge_u (local.get $q) (local.get $Q)))
          (local.set $w0 (i32.sub (i32.mul (local.get $q) (local.get $sw)) (local.get $padW)))
          ;; i: the address of x[h][w0]
          (local.set $i (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (local.get $h) (local.get $W)) (local.get $w0)) (i32.const 2))))
          (local.set $o (i32.add (local.get $T) (i32.shl (i32.add (i32.mul (local.get $h) (local.get $Q)) (local.get $q)) (i32.const 2))))
          (if (i32.and (i32.and (i32.eq (local.get $kW) (i32.const 3)) (i32.eq (local.get $sw) (i32.const 1)))
                (i32.and (i32.ge_s (local.get $w0) (i32.const 0)) (i32.le_s (i32.add (local.get $w0) (i32.const 6)) (local.get $W))))
            (then ;; four whole windows at stride 1
              (v128.store (local.get $o) (f32x4.max (f32x4.max (v128.load (local.get $i)) (v128.load offset=4 (local.get $i))) (v128.load offset=8 (local.get $i))))
              (local.set $q (i32.add (local.get $q) (i32.const 4)))
              (br $qLoop)))
          (if (i32.and (i32.and (i32.eq (local.get $kW) (i32.const 3)) (i32.eq (local.get $sw) (i32.const 2)))
                (i32.and (i32.ge_s (local.get $w0) (i32.const 0)) (i32.le_s (i32.add (local.get $w0) (i32.const 10)) (local.get $W))))
            (then ;; four whole windows at stride 2: x[w0 + 2j], x[w0 + 2j + 1], x[w0 + 2j + 2] by lane
              (v128.store (local.get $o) (f32x4.max
                (f32x4.max
                  (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load (local.get $i)) (v128.load offset=16 (local.get $i)))
                  (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (v128.load (local.get $i)) (v128.load offset=16 (local.get $i))))
                (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=8 (local.get $i)) (v128.load offset=24 (local.get $i)))))
              (local.set $q (i32.add (local.get $q) (i32.const 4)))
              (br $qLoop)))
          (if (i32.and (i32.eq (local.get $kW) (i32.const 3))
                (i32.and (i32.ge_s (local.get $w0) (i32.const 0)) (i32.le_s (i32.add (local.get $w0) (i32.const 3)) (local.get $W))))
            (then
              (f32.store (local.get $o) (f32.max (f32.max (f32.load (local.get $i)) (f32.load offset=4 (local.get $i))) (f32.load offset=8 (local.get $i)))))
            (else
              (local.set $ws (select (local.get $w0) (i32.const 0) (i32.gt_s (local.get $w0) (i32.const 0))))
              (local.set $we (i32.add (local.get $w0) (local.get $kW)))
              (if (i32.gt_s (local.get $we) (local.get $W)) (then (local.set $we (local.get $W))))
              (local.set $m (f32.const -inf))
              (if (i32.lt_s (local.get $ws) (local.get $we)) (then
                (local.set $i (i32.add (local.get $x) (i32.shl (i32.mul (local.get $h) (local.get $W)) (i32.const 2))))
                (local.set $m (f32.load (i32.add (local.get $i) (i32.shl (local.get $ws) (i32.const 2)))))
                (block $wDone (loop $wLoop
                  (local.set $ws (i32.add (local.get $ws) (i32.const 1)))
                  (br_if $wDone (i32.ge_s (local.get $ws) (local.get $we)))
                  (local.set $v (f32.load (i32.add (local.get $i) (i32.shl (local.get $ws) (i32.const 2)))))
                  (if (f32.gt (local.get $v) (local.get $m)) (then (local.set $m (local.get $v))))
                  (br $wLoop)))))
              (f32.store (local.get $o) (local.get $m))))
          (local.set $q (i32.add (local.get $q) (i32.const 1)))
          (br $qLoop)))
        (local.set $h (i32.add (local.get $h) (i32.const 1)))
        (br $hLoop)))
      ;; down the columns
      (local.set $p (i32.const 0))
      (block $pDone (loop $pLoop
        (br_if $pDone (i32.ge_u (local.get $p) (local.get $P)))
        (local.set $hs (i32.sub (i32.mul (local.get $p) (local.get $sh)) (local.get $padH)))
        (local.set $he (i32.add (local.get $hs) (local.get $kH)))
        (if (i32.lt_s (local.get $hs) (i32.const 0)) (then (local.set $hs (i32.const 0))))
        (if (i32.gt_s (local.get $he) (local.get $H)) (then (local.set $he (local.get $H))))
        (local.set $o (i32.add (local.get $y) (i32.shl (i32.mul (local.get $p) (local.get $Q)) (i32.const 2))))
        (local.set $t0 (i32.add (local.get $T) (i32.shl (i32.mul (local.get $hs) (local.get $Q)) (i32.const 2))))
        (local.set $q (i32.const 0))
        (block $cDone (loop $cLoop
          (br_if $cDone (i32.ge_u (local.get $q) (local.get $Q)))
          (local.set $i (i32.add (local.get $t0) (i32.shl (local.get $q) (i32.const 2))))
          (if (i32.ge_s (local.get $hs) (local.get $he))
            (then (f32.store (i32.add (local.get $o) (i32.shl (local.get $q) (i32.const 2))) (f32.const 0)))
            (else (if (i32.eq (i32.sub (local.get $he) (local.get $hs)) (i32.const 3))
              (then ;; four columns; lanes past Q land in the next row, which is written after
                (v128.store (i32.add (local.get $o) (i32.shl (local.get $q) (i32.const 2)))
                  (f32x4.max (f32x4.max (v128.load (local.get $i))
                    (v128.load (i32.add (local.get $i) (i32.shl (local.get $Q) (i32.const 2)))))
                    (v128.load (i32.add (local.get $i) (i32.shl (local.get $Q) (i32.const 3))))))
                (local.set $q (i32.add (local.get $q) (i32.const 4)))
                (br $cLoop))
              (else
                (local.set $m (f32.load (local.get $i)))
                (local.set $h (i32.add (local.get $hs) (i32.const 1)))
                (block $hhDone (loop $hhLoop
                  (br_if $hhDone (i32.ge_s (local.get $h) (local.get $he)))
                  (local.set $i (i32.add (local.get $i) (i32.shl (local.get $Q) (i32.const 2))))
                  (local.set $v (f32.load (local.get $i)))
                  (if (f32.gt (local.get $v) (local.get $m)) (then (local.set $m (local.get $v))))
                  (local.set $h (i32.add (local.get $h) (i32.const 1)))
                  (br $hhLoop)))
                (f32.store (i32.add (local.get $o) (i32.shl (local.get $q) (i32.const 2))) (local.get $m))))))
          (local.set $q (i32.add (local.get $q) (i32.const 1)))
          (br $cLoop)))
        ;; a column wholly in the padding: 0
        (if (i32.ge_s (local.get $padW) (local.get $kW)) (then
          (local.set $q (i32.const 0))
          (block $eDone (loop $eLoop
            (br_if $eDone (i32.ge_u (local.get $q) (local.get $Q)))
            (local.set $w0 (i32.sub (i32.mul (local.get $q) (local.get $sw)) (local.get $padW)))
            (local.set $ws (select (local.get $w0) (i32.const 0) (i32.gt_s (local.get $w0) (i32.const 0))))
            (local.set $we (i32.add (local.get $w0) (local.get $kW)))
            (if (i32.gt_s (local.get $we) (local.get $W)) (then (local.set $we (local.get $W))))
            (if (i32.ge_s (local.get $ws) (local.get $we)) (then
              (f32.store (i32.add (local.get $o) (i32.shl (local.get $q) (i32.const 2))) (f32.const 0))))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br $eLoop)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $pLoop)))
      (local.set $pl (i32.add (local.get $pl) (i32.const 1)))
      (br $plLoop)))
  )
