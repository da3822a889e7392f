import Foundation

extension Report {
    /// The report as a readable table (what `strobe bench` prints).
    public func table() -> String {
        var lines: [String] = []
        let env = environment
        lines.append("Strobe \(env.strobeVersion) bench: model \(setup.model) (\(format(weightsMiB, 1)) MiB), "
            + "\(setup.size), \(env.threads) threads of \(env.cpus) CPUs")
        lines.append("OpenBLAS core \(env.openblasCore) (OPENBLAS_CORETYPE \(env.openblasCoretypeEnv ?? "unset")); "
            + "CPU \(env.cpu ?? "unknown")\(env.avx512 ? ", AVX-512" : "")")
        lines.append("BLAS kernels: \(env.selectionReason)")
        lines.append("CPU features: \(env.cpuFeatures); fused kernels \(env.kernels); bf16 \(env.bf16 ? "available" : "not available"); "
            + "matrix products in \(precision.rawValue)")
        if let hint = env.kernelHint { lines.append(hint) }
        if let note = env.narrowCPUNote { lines.append(note) }
        lines.append("\(setup.prompts.count) prompts, seeds \(setup.seeds.map(String.init).joined(separator: ",")); "
            + "\(setup.warmup) warm-up run(s), then \(setup.runs) timed runs (full sampler: \(setup.fullRuns))")
        lines.append("")
        lines.append("one image, prompt to PNG bytes (ms; stages are medians)")
        let nameWidth = max(10, (modes.map(\.mode.name.count).max() ?? 0) + 2)
        let header = [pad("mode", nameWidth), lpad("runs", 5), lpad("median", 9), lpad("min", 9), lpad("img/s", 7),
                      lpad("tokenize", 9), lpad("encode", 8), lpad("noise", 7), lpad("denoise", 9),
                      lpad("decode", 7), lpad("png", 7), "  each denoiser call (median)"]
        lines.append(header.joined())
        for r in modes {
            let calls: String
            if r.callMilliseconds.count <= 10 {
                calls = r.callMilliseconds.map { format($0, 1) }.joined(separator: " ")
            } else {
                calls = "median \(format(r.callMedianMilliseconds, 1)), min \(format(r.callMinMilliseconds, 1)) "
                    + "over \(r.allCallMilliseconds.count) calls"
            }
            var row = [pad(r.mode.name, nameWidth), lpad("\(r.runMilliseconds.count)", 5),
                       lpad(format(r.medianMilliseconds, 1), 9), lpad(format(r.minMilliseconds, 1), 9),
                       lpad(format(1000 / r.medianMilliseconds, 2), 7)]
            for (name, width) in zip(ModeResult.stageNames, [9, 8, 7, 9, 7, 7]) {
                row.append(lpad(format(r.stages[name] ?? 0, 1), width))
            }
            row.append("  " + calls)
            lines.append(row.joined())
        }
        for cost in reframeCosts {
            lines.append("")
            lines.append("\(cost.mode.name): 1:1 → \(BenchMode.reframeRatio.rawValue) at \(cost.size) in \(format(cost.reframeMilliseconds, 1)) ms; "
                + "text to image at \(cost.size): \(format(cost.generateMilliseconds, 1)) ms; ratio \(format(cost.ratio, 2))")
        }
        if !precisionComparisons.isEmpty {
            lines.append("")
            lines.append("\(precision.rawValue) against fp32, same runs in one process (ms, median)")
            lines.append([pad("mode", 10), lpad("fp32", 9), lpad(precision.rawValue, 9), lpad("speed-up", 10),
                          "  PSNR vs fp32 per run (dB)"].joined())
            for c in precisionComparisons {
                let psnr = c.psnr.map { $0.isFinite ? format($0, 1) : "same" }.joined(separator: " ")
                lines.append([pad(c.mode.name, 10), lpad(format(c.fp32Milliseconds, 1), 9),
                              lpad(format(c.milliseconds, 1), 9), lpad(format(c.speedup, 2) + "x", 10), "  " + psnr].joined())
            }
            if let low = lowPrecisionProducts, let speedup = lowPrecisionProductSpeedup {
                lines.append("\(precision.rawValue) products at the denoiser's shapes: \(format(low.weightedGFLOPS, 1)) GFLOPS "
                    + "(FLOP-weighted), \(format(speedup, 2))x fp32's; 1024³: \(format(low.square1024GFLOPS, 1)) GFLOPS")
            }
        }
        if let t = throughput {
            lines.append("")
            lines.append("images per second, \(t.mode.name): count 1 \(format(t.count1, 2)), count 4 \(format(t.count4, 2)), "
                + "count 4 batched in one call \(format(t.count4Batched, 2)) (\(t.runs) runs of 4)")
        }
        if let d = denoiser {
            lines.append("")
            lines.append("denoiser: \(format(d.flopsPerCall / 1e9, 3)) GFLOP per call (\(setup.size), \(d.textLength) text tokens); "
                + "median call \(format(d.callMedianMilliseconds, 2)) ms over \(d.calls) calls: \(format(d.gflops, 1)) GFLOPS")
        }
        if let s = sgemm {
            lines.append("sgemm at the denoiser's shapes: \(format(s.weightedGFLOPS, 1)) GFLOPS (FLOP-weighted); "
                + "1024³: \(format(s.square1024GFLOPS, 1)) GFLOPS")
            if let ratio = denoiserVsSgemm {
                lines.append("denoiser / \(precision == .fp32 ? "sgemm" : "\(precision.rawValue) products"): \(format(ratio, 3))")
            }
            lines.append("")
            lines.append([pad("product", 28), pad("kind", 8), lpad("M", 6), lpad("K", 6), lpad("N", 6),
                          lpad("count", 7), lpad("group", 6), lpad("GFLOP", 8), lpad("GFLOPS", 9)].joined())
            for shape in s.shapes {
                let p = shape.product
                lines.append([pad(p.name, 28), pad(p.kind.rawValue, 8), lpad("\(p.m)", 6), lpad("\(p.k)", 6),
                              lpad("\(p.n)", 6), lpad("\(p.count)", 7), lpad("\(p.group)", 6),
                              lpad(format(p.flops / 1e9, 4), 8), lpad(format(shape.gflops, 1), 9)].joined())
            }
        }
        lines.append("")
        lines.append("peak resident memory (load and one image at a time) \(format(peakRSSMiB, 1)) MiB; weights file \(format(weightsMiB, 1)) MiB")
        return lines.joined(separator: "\n") + "\n"
    }

    private func format(_ value: Double, _ places: Int) -> String {
        String(format: "%.\(places)f", value)
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    private func lpad(_ text: String, _ width: Int) -> String {
        text.count >= width ? " " + text : String(repeating: " ", count: width - text.count) + text
    }
}
