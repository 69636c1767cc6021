import CKernels
import XCTest
@testable import Tensor

/// The fast kernels against the plain reference code, for every supported type.
final class KernelTests: XCTestCase {
    static let quantTypes: [GGMLType] = [.q4_0, .q4_1, .q5_0, .q8_0, .q4_K, .q5_K, .q6_K]
    typealias Kernel = @convention(c) (Int32, UnsafeRawPointer?, Int, Int32, UnsafePointer<strata_q8_act>?, UnsafeMutablePointer<Float>?) -> Void
    static let variants: [GGMLType: (generic: Kernel, avx2: Kernel)] = [
        .q4_0: (strata_rows_q4_0_generic, strata_rows_q4_0_avx2), .q4_1: (strata_rows_q4_1_generic, strata_rows_q4_1_avx2),
        .q5_0: (strata_rows_q5_0_generic, strata_rows_q5_0_avx2), .q8_0: (strata_rows_q8_0_generic, strata_rows_q8_0_avx2),
        .q4_K: (strata_rows_q4_K_generic, strata_rows_q4_K_avx2), .q5_K: (strata_rows_q5_K_generic, strata_rows_q5_K_avx2),
        .q6_K: (strata_rows_q6_K_generic, strata_rows_q6_K_avx2),
    ]

    /// C kernels vs their Swift twins on the same quantized activations: the portable C is
    /// bit-identical (same operation order, no FMA contraction); AVX2 sums blocks in 8 lanes
    /// with FMA, so it may differ by float re-association only: 1e-5 of Σ|block terms|.
    func testCKernelsMatchSwiftTwins() throws {
        let rows = 8, cols = 512
        for type in Self.quantTypes {
            let w = try RandomWeights(type, rows: rows, cols: cols, seed: 7 &+ UInt64(type.rawValue))
            let x = randomVector(cols, seed: 99, scale: 3)
            let scratch = MatVecScratch(maxCols: cols)
            x.withUnsafeBufferPointer { scratch.quantize($0.baseAddress!, count: cols, format: w.matrix.activationFormat!, token: 0) }
            var act = scratch.activations(token: 0)
            var generic = [Float](repeating: 0, count: rows), avx = generic
            let (g, v) = Self.variants[type]!
            g(Int32(cols), w.matrix.data, w.matrix.rowBytes, Int32(rows), &act, &generic)
            v(Int32(cols), w.matrix.data, w.matrix.rowBytes, Int32(rows), &act, &avx)
            for r in 0..<rows {
                let twin = ReferenceDot.dot(type, count: cols, w.matrix.row(r), act)
                XCTAssertEqual(generic[r].bitPattern, twin.bitPattern, "\(type) row \(r): generic C \(generic[r]) vs Swift twin \(twin)")
                if strata_cpu_supports_avx2_fma() != 0 {
                    let magnitude = absoluteDot(w.matrix, r, act)
                    XCTAssertEqual(avx[r], twin, accuracy: 1e-5 * magnitude + 1e-6, "\(type) row \(r): AVX2 vs Swift twin")
                }
            }
            XCTAssertNotEqual(generic.filter { $0 != 0 }.count, 0, "\(type): kernels returned all zeros")
        }
    }

    typealias TileKernel = @convention(c) (Int32, UnsafeRawPointer?, Int, Int32, Int32, UnsafePointer<strata_q8_act>?,
                                           UnsafeMutablePointer<Float>?, Int, UnsafeMutableRawPointer?) -> Void
    static let tileVariants: [GGMLType: (generic: TileKernel, avx2: TileKernel)] = [
        .q4_1: (strata_tile_q4_1_generic, strata_tile_q4_1_avx2), .q4_K: (strata_tile_q4_K_generic, strata_tile_q4_K_avx2),
        .q6_K: (strata_tile_q6_K_generic, strata_tile_q6_K_avx2),
    ]

    /// The tile kernels (prefill: each row unpacked once for many tokens) give, token by
    /// token, exactly the row kernels' bits, portable and AVX2 alike: what a prompt computes
    /// is what decoding it token by token would. 96 columns: Q4_1's odd tail block.
    func testTileKernelsEqualRowKernelsBitForBit() throws {
        let rows = 37, tokens = 5
        for (type, tile) in Self.tileVariants {
            for cols in type == .q4_1 ? [96, 1024] : [256, 1024] {
                let w = try RandomWeights(type, rows: rows, cols: cols, seed: 11 &+ UInt64(cols))
                let scratch = quantizedTokens(tokens, cols: cols, for: w.matrix, seed: 21)
                let unpack = UnsafeMutableRawPointer.allocate(byteCount: strata_tile_scratch_bytes(Int32(cols)), alignment: 64)
                defer { unpack.deallocate() }
                let row = Self.variants[type]!
                let pairs: [(TileKernel, Kernel, String)] = [(tile.generic, row.generic, "generic")]
                    + (strata_cpu_supports_avx2_fma() != 0 ? [(tile.avx2, row.avx2, "AVX2")] : [])
                for (tileKernel, rowKernel, name) in pairs {
                    let ldy = rows + 3  // a stride wider than the rows, as matmul's y is
                    var y = [Float](repeating: .nan, count: tokens * ldy), one = [Float](repeating: 0, count: rows)
                    // Rows 1..<rows: an offset start, as a chunk of a pool's split has.
                    y.withUnsafeMutableBufferPointer {
                        tileKernel(Int32(cols), w.matrix.row(1), w.matrix.rowBytes, Int32(rows - 1), Int32(tokens),
                                   scratch.views, $0.baseAddress! + 1, ldy, unpack)
                    }
                    for t in 0..<tokens {
                        one.withUnsafeMutableBufferPointer { rowKernel(Int32(cols), w.matrix.data, w.matrix.rowBytes, Int32(rows), scratch.views + t, $0.baseAddress!) }
                        for r in 1..<rows {
                            XCTAssertEqual(y[t * ldy + r].bitPattern, one[r].bitPattern, "\(type) \(cols) cols \(name) token \(t) row \(r): tile \(y[t * ldy + r]) vs row \(one[r])")
                        }
                        XCTAssertTrue(y[t * ldy].isNaN && y[t * ldy + rows + 2].isNaN, "\(type) \(name): wrote outside its rows")
                    }
                    XCTAssertNotEqual(one.filter { $0 != 0 }.count, 0)
                }
            }
        }
    }

    /// A row's result does not depend on which rows share its kernel call: the AVX2 row kernels
    /// take several rows a step (Q4_1 four) and the rest one at a time, and the pool's split
    /// decides which a row gets, so every call shape must give every row the same bits. Calls
    /// of 1 to 9 rows from every start, against one call over all rows; odd block counts
    /// (Q4_1 at 96 columns) take the kernels' last-block paths.
    func testRowKernelsGiveEveryRowTheSameBitsWhateverTheCall() throws {
        guard strata_cpu_supports_avx2_fma() != 0 else { throw XCTSkip("no AVX2") }
        let rows = 23
        for type in Self.quantTypes {
            for cols in type.blockSize == 32 ? [96, 1024] : [256, 1536] {
                let w = try RandomWeights(type, rows: rows, cols: cols, seed: 77 &+ UInt64(cols))
                let scratch = quantizedTokens(1, cols: cols, for: w.matrix, seed: 13)
                let kernel = Self.variants[type]!.avx2
                var all = [Float](repeating: 0, count: rows)
                all.withUnsafeMutableBufferPointer { kernel(Int32(cols), w.matrix.data, w.matrix.rowBytes, Int32(rows), scratch.views, $0.baseAddress!) }
                for count in 1...9 {
                    for start in 0...(rows - count) {
                        var part = [Float](repeating: .nan, count: count)
                        part.withUnsafeMutableBufferPointer {
                            kernel(Int32(cols), w.matrix.row(start), w.matrix.rowBytes, Int32(count), scratch.views, $0.baseAddress!)
                        }
                        XCTAssertEqual(part.map(\.bitPattern), all[start..<(start + count)].map(\.bitPattern),
                                       "\(type) \(cols) cols: rows \(start)..<\(start + count) alone vs in one call")
                    }
                }
                XCTAssertNotEqual(all.filter { $0 != 0 }.count, 0)
            }
        }
    }

    /// The interleaved kernels (8 rows a step, the rest through the tile kernel) against the
    /// AVX2 row kernel token by token: the same integer sums scaled per block instead of per
    /// lane, so equal up to float re-association, 1e-5 of Σ|block terms|.
    func testInterleavedKernelsMatchRowKernels() throws {
        guard strata_cpu_supports_avx2_fma() != 0 else { throw XCTSkip("no AVX2") }
        let rows = 37, tokens = 5
        for (type, cols) in [(GGMLType.q4_K, 256), (.q4_K, 1536), (.q6_K, 256), (.q6_K, 1536), (.q4_1, 96), (.q4_1, 1536)] {
            let w = try RandomWeights(type, rows: rows, cols: cols, seed: 5 &+ UInt64(cols))
            let scratch = quantizedTokens(tokens, cols: cols, for: w.matrix, seed: 33)
            let unpack = UnsafeMutableRawPointer.allocate(byteCount: strata_tile_scratch_bytes(Int32(cols)), alignment: 64)
            defer { unpack.deallocate() }
            var y = [Float](repeating: .nan, count: tokens * rows), one = [Float](repeating: 0, count: rows)
            y.withUnsafeMutableBufferPointer {
                let kernel = type == .q4_K ? strata_gemm8_q4_K_avx2 : type == .q6_K ? strata_gemm8_q6_K_avx2 : strata_gemm8_q4_1_avx2
                kernel(Int32(cols), w.matrix.data, w.matrix.rowBytes, Int32(rows), Int32(tokens), scratch.views, $0.baseAddress!, rows, unpack)
            }
            for t in 0..<tokens {
                one.withUnsafeMutableBufferPointer { Self.variants[type]!.avx2(Int32(cols), w.matrix.data, w.matrix.rowBytes, Int32(rows), scratch.views + t, $0.baseAddress!) }
                for r in 0..<rows {
                    let magnitude = absoluteDot(w.matrix, r, scratch.views[t])
                    XCTAssertEqual(y[t * rows + r], one[r], accuracy: 1e-5 * magnitude + 1e-6, "\(type) \(cols) cols token \(t) row \(r)")
                }
            }
        }
    }

    /// The AVX-512 prompt kernels (16 rows a step, then 8, then the tile kernel) equal the AVX2
    /// eight-row kernels bit for bit, so a prompt's rounding does not depend on whether the CPU
    /// has AVX-512 (an evaluation resumed on another machine stays one table).
    func testAVX512InterleavedKernelsEqualAVX2BitForBit() throws {
        guard strata_cpu_supports_avx512bw() != 0 else { throw XCTSkip("no AVX-512BW on this CPU") }
        let rows = 61, tokens = 7   // 3×16 + 8 + 5: every path of the kernels
        for (type, cols) in [(GGMLType.q4_K, 256), (.q4_K, 1536), (.q4_K, 8960), (.q6_K, 256), (.q6_K, 8960), (.q4_1, 96), (.q4_1, 576), (.q4_1, 1536)] {
            let w = try RandomWeights(type, rows: rows, cols: cols, seed: 11 &+ UInt64(cols))
            let scratch = quantizedTokens(tokens, cols: cols, for: w.matrix, seed: 44)
            let unpack = UnsafeMutableRawPointer.allocate(byteCount: strata_tile_scratch_bytes(Int32(cols)), alignment: 64)
            defer { unpack.deallocate() }
            var wide = [Float](repeating: .nan, count: tokens * rows), narrow = wide
            wide.withUnsafeMutableBufferPointer {
                (type == .q4_K ? strata_gemm16_q4_K_avx512 : type == .q6_K ? strata_gemm16_q6_K_avx512 : strata_gemm16_q4_1_avx512)(Int32(cols), w.matrix.data, w.matrix.rowBytes, Int32(rows), Int32(tokens), scratch.views, $0.baseAddress!, rows, unpack)
            }
            narrow.withUnsafeMutableBufferPointer {
                (type == .q4_K ? strata_gemm8_q4_K_avx2 : type == .q6_K ? strata_gemm8_q6_K_avx2 : strata_gemm8_q4_1_avx2)(Int32(cols), w.matrix.data, w.matrix.rowBytes, Int32(rows), Int32(tokens), scratch.views, $0.baseAddress!, rows, unpack)
            }
            XCTAssertFalse(wide.contains { $0.isNaN }, "\(type) \(cols) cols: a result was never written")
            XCTAssertEqual(wide.map(\.bitPattern), narrow.map(\.bitPattern), "\(type) \(cols) cols")
        }
    }

    typealias GemmKernel = @convention(c) (Int32, UnsafeRawPointer?, Int, Int32, Int32, UnsafePointer<strata_q8_act>?,
                                           UnsafeMutablePointer<Float>?, Int, UnsafeMutableRawPointer?) -> Void
    static let avx2Gemm: [GGMLType: GemmKernel] = [.q4_K: strata_gemm8_q4_K_avx2, .q6_K: strata_gemm8_q6_K_avx2, .q4_1: strata_gemm8_q4_1_avx2]

    /// The VNNI kernels' code (vpdpbusd sums in int32 where maddubs sums in int16) with vpdpbusd
    /// emulated exactly in AVX2, against the maddubs kernels, on random operands and on the
    /// extremes (every weight at its largest, activations at ±127): bit for bit, because no
    /// maddubs pair saturates and no int16 sum wraps for these types (dot_vnni.c has the bounds).
    /// This runs on any AVX2 host; the real instructions are checked by the next test.
    func testVNNIEmulatedKernelsEqualAVX2BitForBit() throws {
        guard CPUFeatures.hasAVX2 else { throw XCTSkip("no AVX2 on this CPU") }
        let emulated: [GGMLType: GemmKernel] = [.q4_K: strata_gemm8_q4_K_vnni_emulated, .q6_K: strata_gemm8_q6_K_vnni_emulated,
                                                .q4_1: strata_gemm8_q4_1_vnni_emulated]
        try assertGemmKernelsEqualAVX2(emulated, label: "emulated VNNI")
    }

    /// The AVX-VNNI (8 rows) and AVX-512 VNNI (16 rows) kernels equal the AVX2 maddubs kernels bit
    /// for bit, so a prompt rounds the same on every kernel path (`STRATA_KERNELS`).
    func testVNNIKernelsEqualAVX2BitForBit() throws {
        var ran = false
        if strata_cpu_supports_avxvnni() != 0 {
            try assertGemmKernelsEqualAVX2([.q4_K: strata_gemm8_q4_K_avxvnni, .q6_K: strata_gemm8_q6_K_avxvnni, .q4_1: strata_gemm8_q4_1_avxvnni],
                                           label: "AVX-VNNI")
            ran = true
        }
        if strata_cpu_supports_avx512vnni() != 0 {
            try assertGemmKernelsEqualAVX2([.q4_K: strata_gemm16_q4_K_avx512vnni, .q6_K: strata_gemm16_q6_K_avx512vnni,
                                            .q4_1: strata_gemm16_q4_1_avx512vnni], label: "AVX-512 VNNI")
            ran = true
        }
        if !ran {
            throw XCTSkip("this CPU (\(CPUFeatures.cpuModel)) has neither AVX-512 VNNI nor AVX-VNNI: the VNNI kernels cannot run here "
                          + "(their arithmetic is checked by testVNNIEmulatedKernelsEqualAVX2BitForBit)")
        }
    }

    /// `kernels` against the eight-row AVX2 kernels, bit for bit, on random and extreme operands.
    private func assertGemmKernelsEqualAVX2(_ kernels: [GGMLType: GemmKernel], label: String) throws {
        let rows = 61, tokens = 7   // 3×16 + 8 + 5: every path of the 8- and 16-row kernels
        for extreme in [false, true] {
            for (type, cols) in [(GGMLType.q4_K, 256), (.q4_K, 1536), (.q6_K, 256), (.q6_K, 1536), (.q4_1, 96), (.q4_1, 576)] {
                let w = try RandomWeights(type, rows: rows, cols: cols, seed: 13 &+ UInt64(cols))
                if extreme { saturate(w) }
                let scratch = extreme ? extremeTokens(tokens, cols: cols, for: w.matrix) : quantizedTokens(tokens, cols: cols, for: w.matrix, seed: 45)
                let unpack = UnsafeMutableRawPointer.allocate(byteCount: strata_tile_scratch_bytes(Int32(cols)), alignment: 64)
                defer { unpack.deallocate() }
                var got = [Float](repeating: .nan, count: tokens * rows), want = got
                let (fast, avx2) = (kernels[type]!, Self.avx2Gemm[type]!)
                got.withUnsafeMutableBufferPointer { fast(Int32(cols), w.matrix.data, w.matrix.rowBytes, Int32(rows), Int32(tokens), scratch.views, $0.baseAddress!, rows, unpack) }
                want.withUnsafeMutableBufferPointer { avx2(Int32(cols), w.matrix.data, w.matrix.rowBytes, Int32(rows), Int32(tokens), scratch.views, $0.baseAddress!, rows, unpack) }
                XCTAssertFalse(got.contains { $0.isNaN }, "\(label) \(type) \(cols) cols: a result was never written")
                XCTAssertEqual(got.map(\.bitPattern), want.map(\.bitPattern), "\(label) \(type) \(cols) cols\(extreme ? ", extreme operands" : "")")
            }
        }
    }

    /// Sets every quantized weight of `w` to its largest value (nibbles 15, Q6_K 63) and every
    /// K-quant scale to its largest magnitude (Q4_K 63, Q6_K −128), leaving the f16 factors.
    private func saturate(_ w: RandomWeights) {
        let m = w.matrix, blocks = m.rows * m.cols / m.type.blockSize, size = m.type.typeSize
        for b in 0..<blocks {
            let block = w.bytes + b * size
            switch m.type {
            case .q4_1: (block + 4).initializeMemory(as: UInt8.self, repeating: 0xFF, count: 16)
            case .q4_K: (block + 4).initializeMemory(as: UInt8.self, repeating: 0xFF, count: 140)
            case .q6_K:
                block.initializeMemory(as: UInt8.self, repeating: 0xFF, count: 192)
                (block + 192).initializeMemory(as: UInt8.self, repeating: 0x80, count: 16)
            default: fatalError("no extreme blocks for \(m.type)")
            }
        }
    }

    /// Activations at the ends of their range: token 0 all +127, token 1 all −127, the rest
    /// alternating in sign (so the pairs maddubs sums have equal and opposite signs too).
    private func extremeTokens(_ tokens: Int, cols: Int, for m: WeightMatrix) -> MatVecScratch {
        var x = [Float](repeating: 0, count: tokens * cols)
        for t in 0..<tokens {
            for i in 0..<cols { x[t * cols + i] = t == 0 ? 1 : t == 1 ? -1 : ((i / (t - 1)) % 2 == 0 ? 1 : -1) }
        }
        let scratch = MatVecScratch(maxCols: cols)
        scratch.reserve(tokens: tokens)
        x.withUnsafeBufferPointer { xp in
            for t in 0..<tokens { scratch.quantize(xp.baseAddress! + t * cols, count: cols, format: m.activationFormat!, token: t) }
        }
        return scratch
    }

    /// `tokens` random activation rows quantized for `m`'s kernels, one view per token.
    private func quantizedTokens(_ tokens: Int, cols: Int, for m: WeightMatrix, seed: UInt64) -> MatVecScratch {
        let x = randomVector(tokens * cols, seed: seed, scale: 3)
        let scratch = MatVecScratch(maxCols: cols)
        scratch.reserve(tokens: tokens)
        x.withUnsafeBufferPointer { xp in
            for t in 0..<tokens { scratch.quantize(xp.baseAddress! + t * cols, count: cols, format: m.activationFormat!, token: t) }
        }
        return scratch
    }

    /// Σ|w|·|d·q| over the row: the scale of the float sums being re-associated.
    private func absoluteDot(_ m: WeightMatrix, _ r: Int, _ a: strata_q8_act) -> Float {
        var w = [Float](repeating: 0, count: m.cols)
        w.withUnsafeMutableBufferPointer { ReferenceDequant.row(m.type, m.row(r), $0.baseAddress!, count: m.cols) }
        let block = m.activationBlock
        return (0..<m.cols).reduce(0) { $0 + abs(w[$1]) * abs(a.d[$1 / block] * Float(a.q[$1])) }
    }

    /// matvec vs reference dequantization + a Double dot product, for every type and both
    /// thread counts. Quantized types are bounded by the activation quantization error: each
    /// activation is off by at most half a step, d/2 = max|x in its block|/254, so
    /// |error| ≤ Σ|w_i|·d_i/2 (plus 1e-5 relative for float rounding). Float types: 1e-5.
    func testMatvecMatchesReference() throws {
        let pools = [ThreadPool(threads: 1), ThreadPool(threads: 2)]
        for type in WeightMatrix.supportedTypes {
            let rows = 67, cols = type.blockSize == 1 ? 200 : 512  // odd row count: partial chunks
            let w = try RandomWeights(type, rows: rows, cols: cols, seed: 1234 &+ UInt64(type.rawValue))
            let x = randomVector(cols, seed: 5, scale: 2)
            let block = w.matrix.activationBlock
            var steps = [Float](repeating: 0, count: cols)
            if block > 0 {
                for b in 0..<(cols / block) {
                    let amax = x[(b * block)..<((b + 1) * block)].map(abs).max()!
                    for i in (b * block)..<((b + 1) * block) { steps[i] = amax / 254 }
                }
            }
            var dense = [Float](repeating: 0, count: cols)
            let scratch = MatVecScratch(maxCols: cols)
            for pool in pools {
                var y = [Float](repeating: .nan, count: rows)
                x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { w.matrix.matvec(xp.baseAddress!, $0.baseAddress!, scratch: scratch, pool: pool) } }
                for r in 0..<rows {
                    dense.withUnsafeMutableBufferPointer { ReferenceDequant.row(type, w.matrix.row(r), $0.baseAddress!, count: cols) }
                    var exact = 0.0, bound = 0.0, magnitude = 0.0
                    for i in 0..<cols {
                        exact += Double(dense[i]) * Double(x[i])
                        bound += Double(abs(dense[i])) * Double(steps[i])
                        magnitude += Double(abs(dense[i] * x[i]))
                    }
                    XCTAssertEqual(Double(y[r]), exact, accuracy: bound + 1e-5 * magnitude,
                                   "\(type) row \(r), \(pool.threads) threads")
                }
            }
        }
    }

    /// matmul agrees with one matvec per token on both paths of both arithmetics (integer
    /// kernels below `blasMinTokens`, bit for bit except the interleaved ones; dequantized
    /// tiles + sgemm from there on).
    func testMatmulMatchesMatvecPerToken() throws {
        let pool = ThreadPool(threads: 2)
        for arithmetic in PromptArithmetic.allCases {
          for type in [GGMLType.q4_1, .q4_K, .q6_K, .q8_0, .f16] {
            let rows = 100, cols = 256
            let w = try RandomWeights(type, rows: rows, cols: cols, seed: 42)
            let scratch = MatVecScratch(maxCols: cols)
            let blasFrom = w.matrix.blasMinTokens(arithmetic)
            // Q4_K, Q6_K and Q4_1 interleaved: equal to the row kernels up to float rounding.
            let bitExact = !([.q4_K, .q6_K, .q4_1].contains(type) && arithmetic == .interleaved && CPUFeatures.hasAVX2)
            for tokens in [3, min(blasFrom, 400) + 1] {
                let x = randomVector(tokens * cols, seed: 8)
                var y = [Float](repeating: .nan, count: tokens * rows), one = [Float](repeating: 0, count: rows)
                x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { w.matrix.matmul(xp.baseAddress!, tokens: tokens, $0.baseAddress!, scratch: scratch, pool: pool, arithmetic: arithmetic) } }
                let blas = tokens >= blasFrom || w.matrix.activationBlock == 0  // float weights: always BLAS
                var dense = [Float](repeating: 0, count: cols)
                for t in 0..<tokens {
                    x.withUnsafeBufferPointer { xp in one.withUnsafeMutableBufferPointer { w.matrix.matvec(xp.baseAddress! + t * cols, $0.baseAddress!, scratch: scratch, pool: pool) } }
                    for r in 0..<rows {
                        if blas {
                            // Float activations: compare with the exact product, 1e-5 of Σ|w·x|.
                            dense.withUnsafeMutableBufferPointer { ReferenceDequant.row(type, w.matrix.row(r), $0.baseAddress!, count: cols) }
                            var exact = 0.0, magnitude = 0.0
                            for i in 0..<cols { exact += Double(dense[i] * x[t * cols + i]); magnitude += Double(abs(dense[i] * x[t * cols + i])) }
                            XCTAssertEqual(Double(y[t * rows + r]), exact, accuracy: 1e-5 * magnitude, "\(type) BLAS path t \(t) r \(r)")
                        } else {
                            // Same kernels on the same quantized activations as matvec.
                            if bitExact {
                                XCTAssertEqual(y[t * rows + r].bitPattern, one[r].bitPattern, "\(arithmetic) \(type) tokens \(tokens) t \(t) r \(r): \(y[t * rows + r]) vs \(one[r])")
                            } else {
                                XCTAssertEqual(y[t * rows + r], one[r], accuracy: 1e-5 * absoluteDot(w.matrix, r, scratch.views[t]) + 1e-6, "\(arithmetic) \(type) tokens \(tokens) t \(t) r \(r)")
                            }
                        }
                    }
                }
            }
          }
        }
    }

    /// `dequantizeRows` (fast paths for float formats) equals the reference bit for bit.
    func testDequantizeRowsMatchesReference() throws {
        for type in WeightMatrix.supportedTypes {
            let rows = 5, cols = type.blockSize == 1 ? 100 : 512  // 100: F16 tail after 8-wide steps
            let w = try RandomWeights(type, rows: rows, cols: cols, seed: 77)
            var fast = [Float](repeating: .nan, count: 3 * cols), ref = [Float](repeating: 0, count: cols)
            fast.withUnsafeMutableBufferPointer { w.matrix.dequantizeRows(1..<4, into: $0.baseAddress!) }
            for (i, r) in (1..<4).enumerated() {
                ref.withUnsafeMutableBufferPointer { ReferenceDequant.row(type, w.matrix.row(r), $0.baseAddress!, count: cols) }
                XCTAssertEqual(Array(fast[(i * cols)..<((i + 1) * cols)]), ref, "\(type) row \(r)")
            }
        }
    }

    func testActivationQuantization() {
        var x = randomVector(256, seed: 3, scale: 4)
        x[10] = -8  // the block maximum in magnitude, negative
        let scratch = MatVecScratch(maxCols: 256)
        x.withUnsafeBufferPointer { scratch.quantize($0.baseAddress!, count: 256, format: .q8_0, token: 0) }
        let a = scratch.activations(token: 0)
        // block_q8_0 stores d as f16; q uses the exact 127/amax (llama.cpp's AVX2 quantizer).
        XCTAssertEqual(a.d[0], Float(Float16(Float(8) / 127)))
        XCTAssertEqual(a.q[10], -127)
        for i in 0..<256 {
            XCTAssertEqual(Float(a.q[i]) * a.d[i / 32], x[i], accuracy: a.d[i / 32] / 2 * 1.0001 + abs(x[i]) / 1024)
        }
        let sum0 = (0..<32).reduce(0) { $0 + Int(a.q[$1]) }
        XCTAssertEqual(a.s[0], a.d[0] * Float(sum0))
        x.withUnsafeBufferPointer { scratch.quantize($0.baseAddress!, count: 256, format: .q8_K, token: 0) }
        let k = scratch.activations(token: 0)
        for g in 0..<16 { XCTAssertEqual(Int(k.bsums[g]), (0..<16).reduce(0) { $0 + Int(k.q[16 * g + $1]) }) }
        // All-zero blocks must not divide by zero.
        let zeros = [Float](repeating: 0, count: 32)
        zeros.withUnsafeBufferPointer { scratch.quantize($0.baseAddress!, count: 32, format: .q8_0, token: 0) }
        XCTAssertEqual(scratch.activations(token: 0).d[0], 0)
        XCTAssertEqual(scratch.activations(token: 0).q[5], 0)
    }
}
