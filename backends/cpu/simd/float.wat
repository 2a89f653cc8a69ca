;; Float kernels of training and inference: the GEMM's packed block, and the depthwise correlation.
;; The file holds functions only: assemble.mjs puts the .wat files of this folder into one module
;; (simd.ts loads it and holds the switch).
;;
;; Every kernel computes exactly what the plain TypeScript kernel beside it computes, with the same
;; floating-point operations in the same order: the float arithmetic is float64 (f64x2, two lanes),
;; as JavaScript's numbers are, and a value is rounded to float32 once, where the TypeScript kernel
;; stores it into a Float32Array. So the two paths give bit-identical outputs but for the sign and
;; payload of a NaN, which engines and CPUs set as they like (test/backends/simd.test.ts). Addresses
;; are in bytes; the caller copies its data in and out (the memory is private to a thread).

  ;; The float GEMM's inner block (gemm.ts): for every 4x4 tile of an mc x nc block of C, the
  ;; micro-kernel's sixteen float64 sums over kc of A strip x B strip (packed k-major as float64:
  ;; value (lane l, k) at k * 4 + l), then C += sum, rounded to float32 once, as `C[co] += c00`.
  ;; pa: the packed A block (strip ir / 4 at pa + ir * kc * 8); pb: the packed B block (strip jr / 4
  ;; at pb + jr * kc * 8); cb: the C block, float32, row stride ldcb floats; tile: 128 bytes of scratch
  ;; for the edge tiles (rows mr < 4 or columns nr < 4 of the block's last strips).
  (func (export "gemmBlock") (param $pa i32) (param $pb i32) (param $kc i32) (param $mc i32) (param $nc i32)
    (param $cb i32) (param $ldcb i32) (param $tile i32)
    (local $ir i32) (local $jr i32) (local $p i32) (local $ao i32) (local $bo i32) (local $co i32) (local $ld4 i32)
    (local $mr i32) (local $nr i32) (local $i i32) (local $j i32) (local $t i32)
    (local $a v128) (local $b01 v128) (local $b23 v128)
    (local $c00 v128) (local $c02 v128) (local $c10 v128) (local $c12 v128)
    (local $c20 v128) (local $c22 v128) (local $c30 v128) (local $c32 v128)
    (local.set $ld4 (i32.shl (local.get $ldcb) (i32.const 2)))
    (block $jDone (loop $jLoop
      (br_if $jDone (i32.ge_u (local.get $jr) (local.get $nc)))
      (local.set $ir (i32.const 0))
      (block $iDone (loop $iLoop
        (br_if $iDone (i32.ge_u (local.get $ir) (local.get $mc)))
        (local.set $ao (i32.add (local.get $pa) (i32.shl (i32.mul (local.get $ir) (local.get $kc)) (i32.const 3))))
        (local.set $bo (i32.add (local.get $pb) (i32.shl (i32.mul (local.get $jr) (local.get $kc)) (i32.const 3))))
        (local.set $c00 (v128.const i64x2 0 0)) (local.set $c02 (v128.const i64x2 0 0))
        (local.set $c10 (v128.const i64x2 0 0)) (local.set $c12 (v128.const i64x2 0 0))
        (local.set $c20 (v128.const i64x2 0 0)) (local.set $c22 (v128.const i64x2 0 0))
        (local.set $c30 (v128.const i64x2 0 0)) (local.set $c32 (v128.const i64x2 0 0))
        (local.set $p (local.get $kc))
        (block $pDone (loop $pLoop
          (br_if $pDone (i32.eqz (local.get $p)))
          (local.set $b01 (v128.load (local.get $bo)))
          (local.set $b23 (v128.load offset=16 (local.get $bo)))
          (local.set $a (v128.load64_splat (local.get $ao)))
          (local.set $c00 (f64x2.add (local.get $c00) (f64x2.mul (local.get $a) (local.get $b01))))
          (local.set $c02 (f64x2.add (local.get $c02) (f64x2.mul (local.get $a) (local.get $b23))))
          (local.set $a (v128.load64_splat offset=8 (local.get $ao)))
          (local.set $c10 (f64x2.add (local.get $c10) (f64x2.mul (local.get $a) (local.get $b01))))
          (local.set $c12 (f64x2.add (local.get $c12) (f64x2.mul (local.get $a) (local.get $b23))))
          (local.set $a (v128.load64_splat offset=16 (local.get $ao)))
          (local.set $c20 (f64x2.add (local.get $c20) (f64x2.mul (local.get $a) (local.get $b01))))
          (local.set $c22 (f64x2.add (local.get $c22) (f64x2.mul (local.get $a) (local.get $b23))))
          (local.set $a (v128.load64_splat offset=24 (local.get $ao)))
          (local.set $c30 (f64x2.add (local.get $c30) (f64x2.mul (local.get $a) (local.get $b01))))
          (local.set $c32 (f64x2.add (local.get $c32) (f64x2.mul (local.get $a) (local.get $b23))))
          (local.set $ao (i32.add (local.get $ao) (i32.const 32)))
          (local.set $bo (i32.add (local.get $bo) (i32.const 32)))
          (local.set $p (i32.sub (local.get $p) (i32.const 1)))
          (br $pLoop)))
        (local.set $co (i32.add (local.get $cb) (i32.shl (i32.add (i32.mul (local.get $ir) (local.get $ldcb)) (local.get $jr)) (i32.const 2))))
        (local.set $mr (i32.sub (local.get $mc) (local.get $ir)))
        (local.set $nr (i32.sub (local.get $nc) (local.get $jr)))
        (if (i32.and (i32.ge_u (local.get $mr) (i32.const 4)) (i32.ge_u (local.get $nr) (i32.const 4)))
          (then
            (call $addRow (local.get $co) (local.get $c00) (local.get $c02))
            (call $addRow (i32.add (local.get $co) (local.get $ld4)) (local.get $c10) (local.get $c12))
            (call $addRow (i32.add (local.get $co) (i32.shl (local.get $ld4) (i32.const 1))) (local.get $c20) (local.get $c22))
            (call $addRow (i32.add (local.get $co) (i32.mul (local.get $ld4) (i32.const 3))) (local.get $c30) (local.get $c32)))
          (else ;; an edge tile: the sums to scratch, then the cells inside C one by one
            (v128.store (local.get $tile) (local.get $c00)) (v128.store offset=16 (local.get $tile) (local.get $c02))
            (v128.store offset=32 (local.get $tile) (local.get $c10)) (v128.store offset=48 (local.get $tile) (local.get $c12))
            (v128.store offset=64 (local.get $tile) (local.get $c20)) (v128.store offset=80 (local.get $tile) (local.get $c22))
            (v128.store offset=96 (local.get $tile) (local.get $c30)) (v128.store offset=112 (local.get $tile) (local.get $c32))
            (if (i32.gt_u (local.get $mr) (i32.const 4)) (then (local.set $mr (i32.const 4))))
            (if (i32.gt_u (local.get $nr) (i32.const 4)) (then (local.set $nr (i32.const 4))))
            (local.set $i (i32.const 0))
            (block $eiDone (loop $eiLoop
              (br_if $eiDone (i32.ge_u (local.get $i) (local.get $mr)))
              (local.set $j (i32.const 0))
              (block $ejDone (loop $ejLoop
                (br_if $ejDone (i32.ge_u (local.get $j) (local.get $nr)))
                (local.set $t (i32.add (local.get $co) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $ldcb)) (local.get $j)) (i32.const 2))))
                (f32.store (local.get $t) (f32.demote_f64 (f64.add (f64.promote_f32 (f32.load (local.get $t)))
                  (f64.load (i32.add (local.get $tile) (i32.shl (i32.add (i32.shl (local.get $i) (i32.const 2)) (local.get $j)) (i32.const 3)))))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $ejLoop)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $eiLoop)))))
        (local.set $ir (i32.add (local.get $ir) (i32.const 4)))
        (br $iLoop)))
      (local.set $jr (i32.add (local.get $jr) (i32.const 4)))
      (br $jLoop)))
  )

  ;; C[0..3] (float32 at c) += s01, s23 (float64 sums), each rounded once
  ;; @inline (assemble.mjs writes it out at each call)
  (func $addRow (param $c i32) (param $s01 v128) (param $s23 v128)
    (local $v v128)
    (local.set $v (v128.load (local.get $c)))
    (v128.store (local.get $c) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      (f32x4.demote_f64x2_zero (f64x2.add (f64x2.promote_low_f32x4 (local.get $v)) (local.get $s01)))
      (f32x4.demote_f64x2_zero (f64x2.add (f64x2.promote_low_f32x4
        (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))) (local.get $s23)))))
  )
;; The GEMM's block with float32 sums (gemm.ts, gemmSettings.sums = 'float32'): for every tile of
  ;; C, the sums over kc of A strip x B strip in float32 (each product rounded to float32, then each
  ;; addition, in k order), then C = f32(C + sum): what gemm.ts `kernel4x4F32` computes with
  ;; Math.fround at each step, four lanes at a time. A is a float32 panel (narrowF64 below): value
  ;; (lane l, k) of a strip at k * 4 + l. B's columns j..j+3 at depth k are four floats at pb +
  ;; (j / 4) * bJ + k * bK bytes: a packed panel (bJ = kc * 16, bK = 16), or B's rows as they are (bJ =
  ;; 16, bK = 4 * row stride; gemm.ts stages them so, with room for the reads past the last column).
  ;; Tiles are 4 x 8 (two groups of four columns: eight sums in flight, where four would wait on the
  ;; adds' latency) while eight columns remain, then 4 x 4. tile: 128 bytes of scratch for edge tiles
  ;; (rows mr < 4, columns < 4).
  (func (export "gemmBlockF32") (param $pa i32) (param $pb i32) (param $bJ i32) (param $bK i32) (param $kc i32) (param $mc i32) (param $nc i32)
    (param $cb i32) (param $ldcb i32) (param $tile i32)
    (local $ir i32) (local $jr i32) (local $p i32) (local $ao i32) (local $bo i32) (local $co i32) (local $ld4 i32)
    (local $mr i32) (local $nr i32) (local $t i32)
    (local $a v128) (local $b0 v128) (local $b1 v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local $d0 v128) (local $d1 v128) (local $d2 v128) (local $d3 v128)
    (local.set $ld4 (i32.shl (local.get $ldcb) (i32.const 2)))
    (block $jDone (loop $jLoop
      (br_if $jDone (i32.ge_u (local.get $jr) (local.get $nc)))
      (local.set $nr (i32.sub (local.get $nc) (local.get $jr)))
      (local.set $ir (i32.const 0))
      (block $iDone (loop $iLoop
        (br_if $iDone (i32.ge_u (local.get $ir) (local.get $mc)))
        (local.set $mr (i32.sub (local.get $mc) (local.get $ir)))
        (local.set $ao (i32.add (local.get $pa) (i32.shl (i32.mul (local.get $ir) (local.get $kc)) (i32.const 2))))
        (local.set $bo (i32.add (local.get $pb) (i32.mul (i32.shr_u (local.get $jr) (i32.const 2)) (local.get $bJ))))
        (local.set $co (i32.add (local.get $cb) (i32.shl (i32.add (i32.mul (local.get $ir) (local.get $ldcb)) (local.get $jr)) (i32.const 2))))
        (local.set $c0 (v128.const i64x2 0 0)) (local.set $c1 (v128.const i64x2 0 0)) (local.set $c2 (v128.const i64x2 0 0)) (local.set $c3 (v128.const i64x2 0 0)) (local.set $d0 (v128.const i64x2 0 0)) (local.set $d1 (v128.const i64x2 0 0)) (local.set $d2 (v128.const i64x2 0 0)) (local.set $d3 (v128.const i64x2 0 0))
        (local.set $p (local.get $kc))
        (if (i32.ge_u (local.get $nr) (i32.const 8))
          (then
            (block $pDone (loop $pLoop
              (br_if $pDone (i32.eqz (local.get $p)))
              (local.set $b0 (v128.load (local.get $bo)))
              (local.set $b1 (v128.load (i32.add (local.get $bo) (local.get $bJ))))
              (local.set $a (v128.load32_splat (local.get $ao)))
              (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $a) (local.get $b0))))
              (local.set $d0 (f32x4.add (local.get $d0) (f32x4.mul (local.get $a) (local.get $b1))))
              (local.set $a (v128.load32_splat offset=4 (local.get $ao)))
              (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $a) (local.get $b0))))
              (local.set $d1 (f32x4.add (local.get $d1) (f32x4.mul (local.get $a) (local.get $b1))))
              (local.set $a (v128.load32_splat offset=8 (local.get $ao)))
              (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $a) (local.get $b0))))
              (local.set $d2 (f32x4.add (local.get $d2) (f32x4.mul (local.get $a) (local.get $b1))))
              (local.set $a (v128.load32_splat offset=12 (local.get $ao)))
              (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $a) (local.get $b0))))
              (local.set $d3 (f32x4.add (local.get $d3) (f32x4.mul (local.get $a) (local.get $b1))))
              (local.set $ao (i32.add (local.get $ao) (i32.const 16)))
              (local.set $bo (i32.add (local.get $bo) (local.get $bK)))
              (local.set $p (i32.sub (local.get $p) (i32.const 1)))
              (br $pLoop)))
            (if (i32.ge_u (local.get $mr) (i32.const 4))
              (then
                (local.set $t (local.get $co))
                (v128.store (local.get $t) (f32x4.add (v128.load (local.get $t)) (local.get $c0)))
                (v128.store offset=16 (local.get $t) (f32x4.add (v128.load offset=16 (local.get $t)) (local.get $d0)))
                (local.set $t (i32.add (local.get $co) (local.get $ld4)))
                (v128.store (local.get $t) (f32x4.add (v128.load (local.get $t)) (local.get $c1)))
                (v128.store offset=16 (local.get $t) (f32x4.add (v128.load offset=16 (local.get $t)) (local.get $d1)))
                (local.set $t (i32.add (local.get $co) (i32.shl (local.get $ld4) (i32.const 1))))
                (v128.store (local.get $t) (f32x4.add (v128.load (local.get $t)) (local.get $c2)))
                (v128.store offset=16 (local.get $t) (f32x4.add (v128.load offset=16 (local.get $t)) (local.get $d2)))
                (local.set $t (i32.add (local.get $co) (i32.mul (local.get $ld4) (i32.const 3))))
                (v128.store (local.get $t) (f32x4.add (v128.load (local.get $t)) (local.get $c3)))
                (v128.store offset=16 (local.get $t) (f32x4.add (v128.load offset=16 (local.get $t)) (local.get $d3))))
              (else
                (v128.store offset=0 (local.get $tile) (local.get $c0))
                (v128.store offset=16 (local.get $tile) (local.get $c1))
                (v128.store offset=32 (local.get $tile) (local.get $c2))
                (v128.store offset=48 (local.get $tile) (local.get $c3))
                (v128.store offset=64 (local.get $tile) (local.get $d0))
                (v128.store offset=80 (local.get $tile) (local.get $d1))
                (v128.store offset=96 (local.get $tile) (local.get $d2))
                (v128.store offset=112 (local.get $tile) (local.get $d3))
                (call $edgeF32 (local.get $co) (local.get $ldcb) (local.get $tile) (local.get $mr) (i32.const 8)))))
          (else
            (block $qDone (loop $qLoop
              (br_if $qDone (i32.eqz (local.get $p)))
              (local.set $b0 (v128.load (local.get $bo)))
              (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (v128.load32_splat (local.get $ao)) (local.get $b0))))
              (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (v128.load32_splat offset=4 (local.get $ao)) (local.get $b0))))
              (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (v128.load32_splat offset=8 (local.get $ao)) (local.get $b0))))
              (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (v128.load32_splat offset=12 (local.get $ao)) (local.get $b0))))
              (local.set $ao (i32.add (local.get $ao) (i32.const 16)))
              (local.set $bo (i32.add (local.get $bo) (local.get $bK)))
              (local.set $p (i32.sub (local.get $p) (i32.const 1)))
              (br $qLoop)))
            (if (i32.and (i32.ge_u (local.get $mr) (i32.const 4)) (i32.ge_u (local.get $nr) (i32.const 4)))
              (then
                (local.set $t (local.get $co))
                (v128.store (local.get $t) (f32x4.add (v128.load (local.get $t)) (local.get $c0)))
                (local.set $t (i32.add (local.get $co) (local.get $ld4)))
                (v128.store (local.get $t) (f32x4.add (v128.load (local.get $t)) (local.get $c1)))
                (local.set $t (i32.add (local.get $co) (i32.shl (local.get $ld4) (i32.const 1))))
                (v128.store (local.get $t) (f32x4.add (v128.load (local.get $t)) (local.get $c2)))
                (local.set $t (i32.add (local.get $co) (i32.mul (local.get $ld4) (i32.const 3))))
                (v128.store (local.get $t) (f32x4.add (v128.load (local.get $t)) (local.get $c3))))
              (else
                (v128.store offset=0 (local.get $tile) (local.get $c0))
                (v128.store offset=16 (local.get $tile) (local.get $c1))
                (v128.store offset=32 (local.get $tile) (local.get $c2))
                (v128.store offset=48 (local.get $tile) (local.get $c3))
                (if (i32.gt_u (local.get $mr) (i32.const 4)) (then (local.set $mr (i32.const 4))))
                (if (i32.gt_u (local.get $nr) (i32.const 4)) (then (local.set $nr (i32.const 4))))
                (call $edgeF32 (local.get $co) (local.get $ldcb) (local.get $tile) (local.get $mr) (local.get $nr))))))
        (local.set $ir (i32.add (local.get $ir) (i32.const 4)))
        (br $iLoop)))
      (local.set $jr (i32.add (local.get $jr) (select (i32.const 8) (i32.const 4) (i32.ge_u (local.get $nr) (i32.const 8)))))
      (br $jLoop)))
  )

  ;; C[i][j] += tile sums for i < mr, j < nr of an edge tile (gemmBlockF32): row i's columns 0-3 at
  ;; tile + 16 i, columns 4-7 at tile + 64 + 16 i; float32 additions, one per cell.
  (func $edgeF32 (param $co i32) (param $ldcb i32) (param $tile i32) (param $mr i32) (param $nr i32)
    (local $i i32) (local $j i32) (local $t i32)
    (block $iDone (loop $iLoop
      (br_if $iDone (i32.ge_u (local.get $i) (local.get $mr)))
      (local.set $j (i32.const 0))
      (block $jDone (loop $jLoop
        (br_if $jDone (i32.ge_u (local.get $j) (local.get $nr)))
        (local.set $t (i32.add (local.get $co) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $ldcb)) (local.get $j)) (i32.const 2))))
        (f32.store (local.get $t) (f32.add (f32.load (local.get $t))
          (f32.load (i32.add (local.get $tile) (i32.add (i32.shl (local.get $i) (i32.const 4))
            (select (i32.add (i32.const 48) (i32.shl (local.get $j) (i32.const 2))) (i32.shl (local.get $j) (i32.const 2))
              (i32.ge_u (local.get $j) (i32.const 4))))))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $jLoop)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $iLoop)))
  )

  ;; dst[0..n) (float32) = src[0..n) (float64), each rounded once; n a multiple of 4 (a packed panel
  ;; of whole strips, for gemmBlockF32: its values are float32 already, so nothing changes).
  (func (export "narrowF64") (param $src i32) (param $dst i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $loop
      (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
      (v128.store (local.get $dst) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
        (f32x4.demote_f64x2_zero (v128.load (local.get $src)))
        (f32x4.demote_f64x2_zero (v128.load offset=16 (local.get $src)))))
      (local.set $src (i32.add (local.get $src) (i32.const 32)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
      (br $loop)))
  )

  ;; The float depthwise correlation of one plane at stride 1 (depthwise.ts `correlate`): for each
  ;; output, the sum over the T taps, in tap order, of k[t] * plane[p * Wp + q + off[t]] in float64;
  ;; `zeroFirst` starts the sum at 0 (0 + k0 x0 + ...), else at the first product (as the 3x3 code);
  ;; `accumulate`: out = f32(out + sum), else out = f32(sum). Four outputs at a time, the row's last
  ;; ones one by one. plane: float32 rows of Wp; taps: T float64; offs: T int32 (in floats); out: P x Q.
  ;; wide: where a 3x3 kernel (T = 9, zeroFirst 0) may write the plane widened to float64 (8 bytes a
  ;; value, rows of Wp, with room for four values past the plane), or 0: with it, eight outputs at a
  ;; time from the float64 plane (each value is widened once instead of at each of its nine taps, and
  ;; four sums are in flight), the row's last ones as above. Widening is exact: the same bits.
  (func (export "dwCorrelate") (param $plane i32) (param $Wp i32) (param $taps i32) (param $offs i32) (param $T i32)
    (param $P i32) (param $Q i32) (param $out i32) (param $zeroFirst i32) (param $accumulate i32) (param $wide i32)
    (local $p i32) (local $q i32) (local $t i32) (local $row i32) (local $a i32) (local $o i32)
    (local $k v128) (local $v v128) (local $lo v128) (local $hi v128) (local $s f64) (local $kd f64) (local $x f64)
    ;; the 3x3 kernel (T = 9, the sum started at the first product): eight outputs at a time, the taps
    ;; and their offsets in locals (four sums in flight, where two waited on the adds' latency)
    (local $fast i32) (local $w v128) (local $b i32) (local $lo0 v128) (local $hi0 v128) (local $lo1 v128) (local $hi1 v128)
    (local $k0 v128) (local $k1 v128) (local $k2 v128) (local $k3 v128) (local $k4 v128) (local $k5 v128) (local $k6 v128) (local $k7 v128) (local $k8 v128)
    (local $o0 i32) (local $o1 i32) (local $o2 i32) (local $o3 i32) (local $o4 i32) (local $o5 i32) (local $o6 i32) (local $o7 i32) (local $o8 i32)
    (local.set $fast (i32.and (i32.and (i32.eq (local.get $T) (i32.const 9)) (i32.eqz (local.get $zeroFirst))) (i32.ne (local.get $wide) (i32.const 0))))
    (if (local.get $fast)
      (then
        (local.set $k0 (v128.load64_splat offset=0 (local.get $taps)))
        (local.set $o0 (i32.shl (i32.load offset=0 (local.get $offs)) (i32.const 3)))
        (local.set $k1 (v128.load64_splat offset=8 (local.get $taps)))
        (local.set $o1 (i32.shl (i32.load offset=4 (local.get $offs)) (i32.const 3)))
        (local.set $k2 (v128.load64_splat offset=16 (local.get $taps)))
        (local.set $o2 (i32.shl (i32.load offset=8 (local.get $offs)) (i32.const 3)))
        (local.set $k3 (v128.load64_splat offset=24 (local.get $taps)))
        (local.set $o3 (i32.shl (i32.load offset=12 (local.get $offs)) (i32.const 3)))
        (local.set $k4 (v128.load64_splat offset=32 (local.get $taps)))
        (local.set $o4 (i32.shl (i32.load offset=16 (local.get $offs)) (i32.const 3)))
        (local.set $k5 (v128.load64_splat offset=40 (local.get $taps)))
        (local.set $o5 (i32.shl (i32.load offset=20 (local.get $offs)) (i32.const 3)))
        (local.set $k6 (v128.load64_splat offset=48 (local.get $taps)))
        (local.set $o6 (i32.shl (i32.load offset=24 (local.get $offs)) (i32.const 3)))
        (local.set $k7 (v128.load64_splat offset=56 (local.get $taps)))
        (local.set $o7 (i32.shl (i32.load offset=28 (local.get $offs)) (i32.const 3)))
        (local.set $k8 (v128.load64_splat offset=64 (local.get $taps)))
        (local.set $o8 (i32.shl (i32.load offset=32 (local.get $offs)) (i32.const 3)))
        ;; the plane widened to float64 once (each value is read by nine taps): rows of Wp float64
        ;; from $wide; the rows are as many as the plane holds, (P - 1) + 2 dh + 1
        (local.set $t (i32.mul (local.get $Wp) (i32.add (local.get $P) (i32.div_u (local.get $o6) (i32.shl (local.get $Wp) (i32.const 3))))))
        (call $widen (local.get $plane) (local.get $wide) (local.get $t))))
    (block $pDone (loop $pLoop
      (br_if $pDone (i32.ge_u (local.get $p) (local.get $P)))
      (local.set $row (i32.add (local.get $plane) (i32.shl (i32.mul (local.get $p) (local.get $Wp)) (i32.const 2))))
      (local.set $q (i32.const 0))
      (if (local.get $fast) (then
        (block $q8Done (loop $q8Loop
          (br_if $q8Done (i32.gt_u (i32.add (local.get $q) (i32.const 8)) (local.get $Q)))
          (local.set $a (i32.add (i32.add (local.get $wide) (i32.shl (i32.mul (local.get $p) (local.get $Wp)) (i32.const 3))) (i32.shl (local.get $q) (i32.const 3))))
          (local.set $b (i32.add (local.get $a) (local.get $o0)))
          (local.set $lo0 (f64x2.mul (local.get $k0) (v128.load offset=0 (local.get $b))))
          (local.set $hi0 (f64x2.mul (local.get $k0) (v128.load offset=16 (local.get $b))))
          (local.set $lo1 (f64x2.mul (local.get $k0) (v128.load offset=32 (local.get $b))))
          (local.set $hi1 (f64x2.mul (local.get $k0) (v128.load offset=48 (local.get $b))))
          (local.set $b (i32.add (local.get $a) (local.get $o1)))
          (local.set $lo0 (f64x2.add (local.get $lo0) (f64x2.mul (local.get $k1) (v128.load offset=0 (local.get $b)))))
          (local.set $hi0 (f64x2.add (local.get $hi0) (f64x2.mul (local.get $k1) (v128.load offset=16 (local.get $b)))))
          (local.set $lo1 (f64x2.add (local.get $lo1) (f64x2.mul (local.get $k1) (v128.load offset=32 (local.get $b)))))
          (local.set $hi1 (f64x2.add (local.get $hi1) (f64x2.mul (local.get $k1) (v128.load offset=48 (local.get $b)))))
          (local.set $b (i32.add (local.get $a) (local.get $o2)))
          (local.set $lo0 (f64x2.add (local.get $lo0) (f64x2.mul (local.get $k2) (v128.load offset=0 (local.get $b)))))
          (local.set $hi0 (f64x2.add (local.get $hi0) (f64x2.mul (local.get $k2) (v128.load offset=16 (local.get $b)))))
          (local.set $lo1 (f64x2.add (local.get $lo1) (f64x2.mul (local.get $k2) (v128.load offset=32 (local.get $b)))))
          (local.set $hi1 (f64x2.add (local.get $hi1) (f64x2.mul (local.get $k2) (v128.load offset=48 (local.get $b)))))
          (local.set $b (i32.add (local.get $a) (local.get $o3)))
          (local.set $lo0 (f64x2.add (local.get $lo0) (f64x2.mul (local.get $k3) (v128.load offset=0 (local.get $b)))))
          (local.set $hi0 (f64x2.add (local.get $hi0) (f64x2.mul (local.get $k3) (v128.load offset=16 (local.get $b)))))
          (local.set $lo1 (f64x2.add (local.get $lo1) (f64x2.mul (local.get $k3) (v128.load offset=32 (local.get $b)))))
          (local.set $hi1 (f64x2.add (local.get $hi1) (f64x2.mul (local.get $k3) (v128.load offset=48 (local.get $b)))))
          (local.set $b (i32.add (local.get $a) (local.get $o4)))
          (local.set $lo0 (f64x2.add (local.get $lo0) (f64x2.mul (local.get $k4) (v128.load offset=0 (local.get $b)))))
          (local.set $hi0 (f64x2.add (local.get $hi0) (f64x2.mul (local.get $k4) (v128.load offset=16 (local.get $b)))))
          (local.set $lo1 (f64x2.add (local.get $lo1) (f64x2.mul (local.get $k4) (v128.load offset=32 (local.get $b)))))
          (local.set $hi1 (f64x2.add (local.get $hi1) (f64x2.mul (local.get $k4) (v128.load offset=48 (local.get $b)))))
          (local.set $b (i32.add (local.get $a) (local.get $o5)))
          (local.set $lo0 (f64x2.add (local.get $lo0) (f64x2.mul (local.get $k5) (v128.load offset=0 (local.get $b)))))
          (local.set $hi0 (f64x2.add (local.get $hi0) (f64x2.mul (local.get $k5) (v128.load offset=16 (local.get $b)))))
          (local.set $lo1 (f64x2.add (local.get $lo1) (f64x2.mul (local.get $k5) (v128.load offset=32 (local.get $b)))))
          (local.set $hi1 (f64x2.add (local.get $hi1) (f64x2.mul (local.get $k5) (v128.load offset=48 (local.get $b)))))
          (local.set $b (i32.add (local.get $a) (local.get $o6)))
          (local.set $lo0 (f64x2.add (local.get $lo0) (f64x2.mul (local.get $k6) (v128.load offset=0 (local.get $b)))))
          (local.set $hi0 (f64x2.add (local.get $hi0) (f64x2.mul (local.get $k6) (v128.load offset=16 (local.get $b)))))
          (local.set $lo1 (f64x2.add (local.get $lo1) (f64x2.mul (local.get $k6) (v128.load offset=32 (local.get $b)))))
          (local.set $hi1 (f64x2.add (local.get $hi1) (f64x2.mul (local.get $k6) (v128.load offset=48 (local.get $b)))))
          (local.set $b (i32.add (local.get $a) (local.get $o7)))
          (local.set $lo0 (f64x2.add (local.get $lo0) (f64x2.mul (local.get $k7) (v128.load offset=0 (local.get $b)))))
          (local.set $hi0 (f64x2.add (local.get $hi0) (f64x2.mul (local.get $k7) (v128.load offset=16 (local.get $b)))))
          (local.set $lo1 (f64x2.add (local.get $lo1) (f64x2.mul (local.get $k7) (v128.load offset=32 (local.get $b)))))
          (local.set $hi1 (f64x2.add (local.get $hi1) (f64x2.mul (local.get $k7) (v128.load offset=48 (local.get $b)))))
          (local.set $b (i32.add (local.get $a) (local.get $o8)))
          (local.set $lo0 (f64x2.add (local.get $lo0) (f64x2.mul (local.get $k8) (v128.load offset=0 (local.get $b)))))
          (local.set $hi0 (f64x2.add (local.get $hi0) (f64x2.mul (local.get $k8) (v128.load offset=16 (local.get $b)))))
          (local.set $lo1 (f64x2.add (local.get $lo1) (f64x2.mul (local.get $k8) (v128.load offset=32 (local.get $b)))))
          (local.set $hi1 (f64x2.add (local.get $hi1) (f64x2.mul (local.get $k8) (v128.load offset=48 (local.get $b)))))
          (local.set $o (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $p) (local.get $Q)) (local.get $q)) (i32.const 2))))
          (if (local.get $accumulate) (then
            (local.set $v (v128.load (local.get $o)))
            (local.set $w (v128.load offset=16 (local.get $o)))
            (local.set $lo0 (f64x2.add (f64x2.promote_low_f32x4 (local.get $v)) (local.get $lo0)))
            (local.set $hi0 (f64x2.add (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))) (local.get $hi0)))
            (local.set $lo1 (f64x2.add (f64x2.promote_low_f32x4 (local.get $w)) (local.get $lo1)))
            (local.set $hi1 (f64x2.add (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $w) (local.get $w))) (local.get $hi1)))))
          (v128.store (local.get $o) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (local.get $lo0)) (f32x4.demote_f64x2_zero (local.get $hi0))))
          (v128.store offset=16 (local.get $o) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (local.get $lo1)) (f32x4.demote_f64x2_zero (local.get $hi1))))
          (local.set $q (i32.add (local.get $q) (i32.const 8)))
          (br $q8Loop)))))
      (block $qDone (loop $qLoop
        (br_if $qDone (i32.gt_u (i32.add (local.get $q) (i32.const 4)) (local.get $Q)))
        (local.set $lo (v128.const i64x2 0 0))
        (local.set $hi (v128.const i64x2 0 0))
        (local.set $t (i32.const 0))
        (block $tDone (loop $tLoop
          (br_if $tDone (i32.ge_u (local.get $t) (local.get $T)))
          (local.set $k (v128.load64_splat (i32.add (local.get $taps) (i32.shl (local.get $t) (i32.const 3)))))
          (local.set $v (v128.load (i32.add (local.get $row)
            (i32.shl (i32.add (local.get $q) (i32.load (i32.add (local.get $offs) (i32.shl (local.get $t) (i32.const 2))))) (i32.const 2)))))
          (if (i32.or (local.get $t) (local.get $zeroFirst))
            (then
              (local.set $lo (f64x2.add (local.get $lo) (f64x2.mul (local.get $k) (f64x2.promote_low_f32x4 (local.get $v)))))
              (local.set $hi (f64x2.add (local.get $hi) (f64x2.mul (local.get $k)
                (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))))
            (else
              (local.set $lo (f64x2.mul (local.get $k) (f64x2.promote_low_f32x4 (local.get $v))))
              (local.set $hi (f64x2.mul (local.get $k)
                (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))))
          (local.set $t (i32.add (local.get $t) (i32.const 1)))
          (br $tLoop)))
        (local.set $o (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $p) (local.get $Q)) (local.get $q)) (i32.const 2))))
        (if (local.get $accumulate) (then
          (local.set $v (v128.load (local.get $o)))
          (local.set $lo (f64x2.add (f64x2.promote_low_f32x4 (local.get $v)) (local.get $lo)))
          (local.set $hi (f64x2.add (f64x2.promote_low_f32x4
            (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))) (local.get $hi)))))
        (v128.store (local.get $o) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (local.get $lo)) (f32x4.demote_f64x2_zero (local.get $hi))))
        (local.set $q (i32.add (local.get $q) (i32.const 4)))
        (br $qLoop)))
      ;; the row's last outputs, one at a time
      (block $rDone (loop $rLoop
        (br_if $rDone (i32.ge_u (local.get $q) (local.get $Q)))
        (local.set $s (f64.const 0))
        (local.set $t (i32.const 0))
        (block $t2Done (loop $t2Loop
          (br_if $t2Done (i32.ge_u (local.get $t) (local.get $T)))
          (local.set $kd (f64.load (i32.add (local.get $taps) (i32.shl (local.get $t) (i32.const 3)))))
          (local.set $x (f64.promote_f32 (f32.load (i32.add (local.get $row)
            (i32.shl (i32.add (local.get $q) (i32.load (i32.add (local.get $offs) (i32.shl (local.get $t) (i32.const 2))))) (i32.const 2))))))
          (local.set $s (select (f64.add (local.get $s) (f64.mul (local.get $kd) (local.get $x))) (f64.mul (local.get $kd) (local.get $x))
            (i32.or (local.get $t) (local.get $zeroFirst))))
          (local.set $t (i32.add (local.get $t) (i32.const 1)))
          (br $t2Loop)))
        (local.set $o (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $p) (local.get $Q)) (local.get $q)) (i32.const 2))))
        (if (local.get $accumulate) (then (local.set $s (f64.add (f64.promote_f32 (f32.load (local.get $o))) (local.get $s)))))
        (f32.store (local.get $o) (f32.demote_f64 (local.get $s)))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $rLoop)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $pLoop)))
  )

;; dst (float64) = src (float32), n values (n rounded up to a multiple of 4: the caller leaves room)
  ;; @inline (assemble.mjs writes it out at each call)
  (func $widen (param $src i32) (param $dst i32) (param $n i32)
    (local $v v128) (local $end i32)
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
      (local.set $v (v128.load (local.get $src)))
      (v128.store (local.get $dst) (f64x2.promote_low_f32x4 (local.get $v)))
      (v128.store offset=16 (local.get $dst) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
      (local.set $src (i32.add (local.get $src) (i32.const 16)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
      (br $l)))
  )

  ;; The depthwise filter gradient's sums over one image (depthwise.ts depthwiseBackwardFilterChunk):
  ;; for each tap t, acc[t][j] (float64, at acc + (4t + j) * 8) += dy[p, q] * x[p·sh·Wp + q·sw + offs[t]]
  ;; over the rows p, then the columns q ≡ j (mod 4) of each row in order: four partial sums per tap,
  ;; the lanes of two f64x2 (the products of two float32 are exact in float64). The plane x is `padPlane`'s
  ;; (Wp wide), dy is P x Q at $dy. sw is 1 or 2 (at 2 the vector loads read one value past a row's last
  ;; tap: the caller leaves room). A row's last Q mod 4 columns are added one at a time, in order.
  ;; wide (0: none) and planeN: for a 3x3 kernel at sw 1, where the plane's planeN values and dy may be
  ;; written widened to float64 (8 bytes a value, each with room for four more): then three taps (a
  ;; row of the kernel) are summed at a time from the widened arrays, dy read once for the three and
  ;; six sums in flight; each partial sum gets the same terms in the same order.
  (func (export "dwFilterGrad") (param $plane i32) (param $Wp i32) (param $sh i32) (param $sw i32) (param $dy i32)
    (param $P i32) (param $Q i32) (param $offs i32) (param $T i32) (param $acc i32) (param $wide i32) (param $planeN i32)
    (local $t i32) (local $p i32) (local $q i32) (local $a i32) (local $xr i32) (local $dr i32) (local $Q4 i32)
    (local $lo v128) (local $hi v128) (local $d v128) (local $x v128) (local $j i32)
    (local $wdy i32) (local $xr0 i32) (local $xr1 i32) (local $xr2 i32) (local $d0 v128) (local $d1 v128)
    (local $lo0 v128) (local $hi0 v128) (local $lo1 v128) (local $hi1 v128) (local $lo2 v128) (local $hi2 v128)
    (local.set $Q4 (i32.and (local.get $Q) (i32.const -4)))
    ;; 3x3 at column stride 1 with room to widen ($wide, $planeN values of the plane): the plane and dy
    ;; widened to float64 once (each value is read by nine taps), then a row of three taps at a time,
    ;; six sums in flight, dy read once for the three; the same sums in the same order
    (if (i32.and (i32.and (i32.eq (local.get $T) (i32.const 9)) (i32.eq (local.get $sw) (i32.const 1))) (i32.ne (local.get $wide) (i32.const 0)))
      (then
        (local.set $wdy (i32.add (local.get $wide) (i32.shl (i32.add (local.get $planeN) (i32.const 4)) (i32.const 3))))
        (call $widen (local.get $plane) (local.get $wide) (local.get $planeN))
        (call $widen (local.get $dy) (local.get $wdy) (i32.mul (local.get $P) (local.get $Q)))
        (block $gDone (loop $gLoop
          (br_if $gDone (i32.ge_u (local.get $t) (i32.const 9)))
          (local.set $a (i32.add (local.get $acc) (i32.shl (local.get $t) (i32.const 5))))
        (local.set $lo0 (v128.load offset=0 (local.get $a)))
        (local.set $hi0 (v128.load offset=16 (local.get $a)))
        (local.set $lo1 (v128.load offset=32 (local.get $a)))
        (local.set $hi1 (v128.load offset=48 (local.get $a)))
        (local.set $lo2 (v128.load offset=64 (local.get $a)))
        (local.set $hi2 (v128.load offset=80 (local.get $a)))
          (local.set $p (i32.const 0))
          (block $p3Done (loop $p3Loop
            (br_if $p3Done (i32.ge_u (local.get $p) (local.get $P)))
          (local.set $xr0 (i32.add (local.get $wide) (i32.shl (i32.add (i32.mul (i32.mul (local.get $p) (local.get $sh)) (local.get $Wp))
            (i32.load (i32.add (local.get $offs) (i32.shl (i32.add (local.get $t) (i32.const 0)) (i32.const 2))))) (i32.const 3))))
          (local.set $xr1 (i32.add (local.get $wide) (i32.shl (i32.add (i32.mul (i32.mul (local.get $p) (local.get $sh)) (local.get $Wp))
            (i32.load (i32.add (local.get $offs) (i32.shl (i32.add (local.get $t) (i32.const 1)) (i32.const 2))))) (i32.const 3))))
          (local.set $xr2 (i32.add (local.get $wide) (i32.shl (i32.add (i32.mul (i32.mul (local.get $p) (local.get $sh)) (local.get $Wp))
            (i32.load (i32.add (local.get $offs) (i32.shl (i32.add (local.get $t) (i32.const 2)) (i32.const 2))))) (i32.const 3))))
            (local.set $dr (i32.add (local.get $wdy) (i32.shl (i32.mul (local.get $p) (local.get $Q)) (i32.const 3))))
            (local.set $q (i32.const 0))
            (block $q3Done (loop $q3Loop
              (br_if $q3Done (i32.ge_u (local.get $q) (local.get $Q4)))
              (local.set $d0 (v128.load (i32.add (local.get $dr) (i32.shl (local.get $q) (i32.const 3)))))
              (local.set $d1 (v128.load offset=16 (i32.add (local.get $dr) (i32.shl (local.get $q) (i32.const 3)))))
          (local.set $lo0 (f64x2.add (local.get $lo0) (f64x2.mul (local.get $d0) (v128.load (i32.add (local.get $xr0) (i32.shl (local.get $q) (i32.const 3)))))))
          (local.set $hi0 (f64x2.add (local.get $hi0) (f64x2.mul (local.get $d1) (v128.load offset=16 (i32.add (local.get $xr0) (i32.shl (local.get $q) (i32.const 3)))))))
          (local.set $lo1 (f64x2.add (local.get $lo1) (f64x2.mul (local.get $d0) (v128.load (i32.add (local.get $xr1) (i32.shl (local.get $q) (i32.const 3)))))))
          (local.set $hi1 (f64x2.add (local.get $hi1) (f64x2.mul (local.get $d1) (v128.load offset=16 (i32.add (local.get $xr1) (i32.shl (local.get $q) (i32.const 3)))))))
          (local.set $lo2 (f64x2.add (local.get $lo2) (f64x2.mul (local.get $d0) (v128.load (i32.add (local.get $xr2) (i32.shl (local.get $q) (i32.const 3)))))))
          (local.set $hi2 (f64x2.add (local.get $hi2) (f64x2.mul (local.get $d1) (v128.load offset=16 (i32.add (local.get $xr2) (i32.shl (local.get $q) (i32.const 3)))))))
              (local.set $q (i32.add (local.get $q) (i32.const 4)))
              (br $q3Loop)))
            (if (i32.lt_u (local.get $q) (local.get $Q)) (then
        (v128.store offset=0 (local.get $a) (local.get $lo0))
        (v128.store offset=16 (local.get $a) (local.get $hi0))
        (v128.store offset=32 (local.get $a) (local.get $lo1))
        (v128.store offset=48 (local.get $a) (local.get $hi1))
        (v128.store offset=64 (local.get $a) (local.get $lo2))
        (v128.store offset=80 (local.get $a) (local.get $hi2))
              (block $r3Done (loop $r3Loop
                (br_if $r3Done (i32.ge_u (local.get $q) (local.get $Q)))
              (local.set $j (i32.add (local.get $a) (i32.add (i32.const 0) (i32.shl (i32.and (local.get $q) (i32.const 3)) (i32.const 3)))))
              (f64.store (local.get $j) (f64.add (f64.load (local.get $j)) (f64.mul
                (f64.load (i32.add (local.get $dr) (i32.shl (local.get $q) (i32.const 3))))
                (f64.load (i32.add (local.get $xr0) (i32.shl (local.get $q) (i32.const 3)))))))
              (local.set $j (i32.add (local.get $a) (i32.add (i32.const 32) (i32.shl (i32.and (local.get $q) (i32.const 3)) (i32.const 3)))))
              (f64.store (local.get $j) (f64.add (f64.load (local.get $j)) (f64.mul
                (f64.load (i32.add (local.get $dr) (i32.shl (local.get $q) (i32.const 3))))
                (f64.load (i32.add (local.get $xr1) (i32.shl (local.get $q) (i32.const 3)))))))
              (local.set $j (i32.add (local.get $a) (i32.add (i32.const 64) (i32.shl (i32.and (local.get $q) (i32.const 3)) (i32.const 3)))))
              (f64.store (local.get $j) (f64.add (f64.load (local.get $j)) (f64.mul
                (f64.load (i32.add (local.get $dr) (i32.shl (local.get $q) (i32.const 3))))
                (f64.load (i32.add (local.get $xr2) (i32.shl (local.get $q) (i32.const 3)))))))
                (local.set $q (i32.add (local.get $q) (i32.const 1)))
                (br $r3Loop)))
        (local.set $lo0 (v128.load offset=0 (local.get $a)))
        (local.set $hi0 (v128.load offset=16 (local.get $a)))
        (local.set $lo1 (v128.load offset=32 (local.get $a)))
        (local.set $hi1 (v128.load offset=48 (local.get $a)))
        (local.set $lo2 (v128.load offset=64 (local.get $a)))
        (local.set $hi2 (v128.load offset=80 (local.get $a)))))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $p3Loop)))
        (v128.store offset=0 (local.get $a) (local.get $lo0))
        (v128.store offset=16 (local.get $a) (local.get $hi0))
        (v128.store offset=32 (local.get $a) (local.get $lo1))
        (v128.store offset=48 (local.get $a) (local.get $hi1))
        (v128.store offset=64 (local.get $a) (local.get $lo2))
        (v128.store offset=80 (local.get $a) (local.get $hi2))
          (local.set $t (i32.add (local.get $t) (i32.const 3)))
          (br $gLoop)))
        (return)))
    (block $tDone (loop $tLoop
      (br_if $tDone (i32.ge_u (local.get $t) (local.get $T)))
      (local.set $a (i32.add (local.get $acc) (i32.shl (local.get $t) (i32.const 5))))
      (local.set $lo (v128.load (local.get $a)))
      (local.set $hi (v128.load offset=16 (local.get $a)))
      (local.set $p (i32.const 0))
      (block $pDone (loop $pLoop
        (br_if $pDone (i32.ge_u (local.get $p) (local.get $P)))
        (local.set $xr (i32.add (local.get $plane) (i32.shl (i32.add (i32.mul (i32.mul (local.get $p) (local.get $sh)) (local.get $Wp))
          (i32.load (i32.add (local.get $offs) (i32.shl (local.get $t) (i32.const 2))))) (i32.const 2))))
        (local.set $dr (i32.add (local.get $dy) (i32.shl (i32.mul (local.get $p) (local.get $Q)) (i32.const 2))))
        (local.set $q (i32.const 0))
        (block $qDone (loop $qLoop
          (br_if $qDone (i32.ge_u (local.get $q) (local.get $Q4)))
          (local.set $d (v128.load (i32.add (local.get $dr) (i32.shl (local.get $q) (i32.const 2)))))
          (if (i32.eq (local.get $sw) (i32.const 1))
            (then (local.set $x (v128.load (i32.add (local.get $xr) (i32.shl (local.get $q) (i32.const 2))))))
            (else (local.set $x (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
              (v128.load (i32.add (local.get $xr) (i32.shl (local.get $q) (i32.const 3))))
              (v128.load offset=16 (i32.add (local.get $xr) (i32.shl (local.get $q) (i32.const 3))))))))
          (local.set $lo (f64x2.add (local.get $lo) (f64x2.mul (f64x2.promote_low_f32x4 (local.get $d)) (f64x2.promote_low_f32x4 (local.get $x)))))
          (local.set $hi (f64x2.add (local.get $hi) (f64x2.mul
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $d) (local.get $d)))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x))))))
          (local.set $q (i32.add (local.get $q) (i32.const 4)))
          (br $qLoop)))
        ;; the row's last columns, one at a time into their lanes (through memory)
        (if (i32.lt_u (local.get $q) (local.get $Q)) (then
          (v128.store (local.get $a) (local.get $lo))
          (v128.store offset=16 (local.get $a) (local.get $hi))
          (block $rDone (loop $rLoop
            (br_if $rDone (i32.ge_u (local.get $q) (local.get $Q)))
            (local.set $j (i32.add (local.get $a) (i32.shl (i32.and (local.get $q) (i32.const 3)) (i32.const 3))))
            (f64.store (local.get $j) (f64.add (f64.load (local.get $j)) (f64.mul
              (f64.promote_f32 (f32.load (i32.add (local.get $dr) (i32.shl (local.get $q) (i32.const 2)))))
              (f64.promote_f32 (f32.load (i32.add (local.get $xr) (i32.shl (i32.mul (local.get $q) (local.get $sw)) (i32.const 2))))))))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br $rLoop)))
          (local.set $lo (v128.load (local.get $a)))
          (local.set $hi (v128.load offset=16 (local.get $a)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $pLoop)))
      (v128.store (local.get $a) (local.get $lo))
      (v128.store offset=16 (local.get $a) (local.get $hi))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br $tLoop)))
  )

  ;; The GEMM's panel packing (gemm.ts StridedPanel.pack) from a staged copy of the panel: value
  ;; (lane l, depth k) = src[k * ld + l] (`laneMajor` 0) or src[l * ld + k] (1), float32; written
  ;; widened to float64 as strips of 4 lanes (strip t at dst + t * kc * 32, value (l, k) at
  ;; + k * 32 + (l % 4) * 8), the lanes from `lanes` up to a multiple of 4 zero.
  (func (export "packPanel") (param $src i32) (param $ld i32) (param $laneMajor i32) (param $dst i32) (param $kc i32) (param $lanes i32)
    (local $t i32) (local $k i32) (local $l i32) (local $d i32) (local $s i32) (local $v v128) (local $strips i32)
    (local.set $strips (i32.shr_u (i32.add (local.get $lanes) (i32.const 3)) (i32.const 2)))
    (block $tDone (loop $tLoop
      (br_if $tDone (i32.ge_u (local.get $t) (local.get $strips)))
      (local.set $d (i32.add (local.get $dst) (i32.mul (local.get $t) (i32.shl (local.get $kc) (i32.const 5)))))
      (if (i32.and (i32.eqz (local.get $laneMajor)) (i32.le_u (i32.shl (i32.add (local.get $t) (i32.const 1)) (i32.const 2)) (local.get $lanes)))
        (then ;; four whole lanes, contiguous at each depth: one load, two stores
          (local.set $s (i32.add (local.get $src) (i32.shl (local.get $t) (i32.const 4))))
          (local.set $k (i32.const 0))
          (block $kDone (loop $kLoop
            (br_if $kDone (i32.ge_u (local.get $k) (local.get $kc)))
            (local.set $v (v128.load (local.get $s)))
            (v128.store (local.get $d) (f64x2.promote_low_f32x4 (local.get $v)))
            (v128.store offset=16 (local.get $d)
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
            (local.set $s (i32.add (local.get $s) (i32.shl (local.get $ld) (i32.const 2))))
            (local.set $d (i32.add (local.get $d) (i32.const 32)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $kLoop))))
        (else (if (i32.and (local.get $laneMajor) (i32.le_u (i32.shl (i32.add (local.get $t) (i32.const 1)) (i32.const 2)) (local.get $lanes)))
        (then ;; four whole lanes, each contiguous in depth: four rows read side by side
          (local.set $s (i32.add (local.get $src) (i32.shl (i32.mul (i32.shl (local.get $t) (i32.const 2)) (local.get $ld)) (i32.const 2))))
          (local.set $l (i32.shl (local.get $ld) (i32.const 2)))
          (local.set $k (i32.const 0))
          (block $kDone3 (loop $kLoop3
            (br_if $kDone3 (i32.ge_u (local.get $k) (local.get $kc)))
            (f64.store (local.get $d) (f64.promote_f32 (f32.load (local.get $s))))
            (f64.store offset=8 (local.get $d) (f64.promote_f32 (f32.load (i32.add (local.get $s) (local.get $l)))))
            (f64.store offset=16 (local.get $d) (f64.promote_f32 (f32.load (i32.add (local.get $s) (i32.shl (local.get $l) (i32.const 1))))))
            (f64.store offset=24 (local.get $d) (f64.promote_f32 (f32.load (i32.add (local.get $s) (i32.mul (local.get $l) (i32.const 3))))))
            (local.set $s (i32.add (local.get $s) (i32.const 4)))
            (local.set $d (i32.add (local.get $d) (i32.const 32)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $kLoop3))))
        (else ;; lane by lane
          (local.set $l (i32.const 0))
          (block $lDone (loop $lLoop
            (br_if $lDone (i32.ge_u (local.get $l) (i32.const 4)))
            (local.set $k (i32.const 0))
            (block $kDone2 (loop $kLoop2
              (br_if $kDone2 (i32.ge_u (local.get $k) (local.get $kc)))
              (f64.store (i32.add (i32.add (local.get $d) (i32.shl (local.get $k) (i32.const 5))) (i32.shl (local.get $l) (i32.const 3)))
                (if (result f64) (i32.lt_u (i32.add (i32.shl (local.get $t) (i32.const 2)) (local.get $l)) (local.get $lanes))
                  (then (f64.promote_f32 (f32.load (i32.add (local.get $src) (i32.shl
                    (if (result i32) (local.get $laneMajor)
                      (then (i32.add (i32.mul (i32.add (i32.shl (local.get $t) (i32.const 2)) (local.get $l)) (local.get $ld)) (local.get $k)))
                      (else (i32.add (i32.mul (local.get $k) (local.get $ld)) (i32.add (i32.shl (local.get $t) (i32.const 2)) (local.get $l)))))
                    (i32.const 2))))))
                  (else (f64.const 0))))
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (br $kLoop2)))
            (local.set $l (i32.add (local.get $l) (i32.const 1)))
            (br $lLoop)))))))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br $tLoop)))
  )

  ;; A plane of H x W floats at raw, zero-padded (or cropped, for a negative padding) into Hp x Wp at
  ;; plane: plane[i][j] = raw[i - ph][j - pw] where that lies inside raw, else 0 (depthwise.ts padPlane).
  (func (export "padPlane") (param $raw i32) (param $H i32) (param $W i32) (param $plane i32) (param $Hp i32) (param $Wp i32) (param $ph i32) (param $pw i32)
    (local $i i32) (local $iEnd i32) (local $jLo i32) (local $jHi i32)
    (memory.fill (local.get $plane) (i32.const 0) (i32.shl (i32.mul (local.get $Hp) (local.get $Wp)) (i32.const 2)))
    (local.set $jLo (select (local.get $pw) (i32.const 0) (i32.gt_s (local.get $pw) (i32.const 0))))
    (local.set $jHi (i32.add (local.get $pw) (local.get $W)))
    (if (i32.gt_s (local.get $jHi) (local.get $Wp)) (then (local.set $jHi (local.get $Wp))))
    (if (i32.le_s (local.get $jHi) (local.get $jLo)) (then (return)))
    (local.set $i (select (local.get $ph) (i32.const 0) (i32.gt_s (local.get $ph) (i32.const 0))))
    (local.set $iEnd (i32.add (local.get $ph) (local.get $H)))
    (if (i32.gt_s (local.get $iEnd) (local.get $Hp)) (then (local.set $iEnd (local.get $Hp))))
    (block $done (loop $l
      (br_if $done (i32.ge_s (local.get $i) (local.get $iEnd)))
      (memory.copy
        (i32.add (local.get $plane) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $Wp)) (local.get $jLo)) (i32.const 2)))
        (i32.add (local.get $raw) (i32.shl (i32.sub (i32.add (i32.mul (i32.sub (local.get $i) (local.get $ph)) (local.get $W)) (local.get $jLo)) (local.get $pw)) (i32.const 2)))
        (i32.shl (i32.sub (local.get $jHi) (local.get $jLo)) (i32.const 2)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
  )
