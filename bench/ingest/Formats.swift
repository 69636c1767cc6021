import BenchSupport
import Foundation
import Knowledge

/// `bench-ingest --formats`: document converters against the bare tools on the same files.
/// - PDF with a text layer: our ingest (pdfinfo + pdftotext -layout + layout pass + chunking +
///   store) in pages/s, beside `pdftotext -layout` alone.
/// - OCR: our ingest of scanned pages (PNG) beside `tesseract … chi_sim+eng` alone; and scanned
///   PDF pages (adds pdftoppm rendering at 300 dpi).
/// - Inflate (the Office ZIP reader): our DEFLATE decoder beside `gzip -d` on the same stream.
func formatsBench(root: URL, copies: Int) throws {
    let fixtures = root.appendingPathComponent("Tests/KnowledgeTests/Fixtures/formats")
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bench-formats-\(getpid())")
    defer { try? FileManager.default.removeItem(at: dir) }
    func folder(_ name: String, _ file: String, _ n: Int) throws -> (URL, [String]) {
        let d = dir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        var paths: [String] = []
        for i in 0..<n {
            let dest = d.appendingPathComponent("\(i)-" + file)
            try FileManager.default.copyItem(at: fixtures.appendingPathComponent(file), to: dest)
            paths.append(dest.path)
        }
        return (d, paths)
    }
    /// The reference: one shell runs the bare tool per file (fork + exec from dash, the cheapest
    /// start there is); `{}` in `args` stands for each file.
    func tool(_ exe: String, _ args: [String], files: [String] = [""]) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        let cmd = ([exe] + args).map { $0 == "{}" ? "\"$f\"" : "'\($0)'" }.joined(separator: " ")
        p.arguments = ["-c", "for f; do \(cmd) >/dev/null 2>&1; done", "sh"] + files
        p.environment = ["OMP_THREAD_LIMIT": "1", "PATH": "/usr/bin:/bin"]
        try? p.run(); p.waitUntilExit()
    }
    func ours(_ d: URL) throws -> (Double, IngestReport) {
        let store = try KnowledgeStore(path: dir.appendingPathComponent("\(d.lastPathComponent)-\(UUID().uuidString).db").path)
        let t = now()
        let r = Ingestor(store: store).ingest(paths: [d.path])
        precondition(!r.hasFailures, r.summary + " \(r.problems)")
        return (now() - t, r)
    }
    print(String(format: "load average at start: %.1f (2 cores)", loadAverage()))

    // PDF with a text layer: report.pdf is 3 two-column pages with a table.
    let (pdfDir, pdfs) = try folder("pdf", "report.pdf", copies)
    let pages = Double(3 * copies)
    // Three rounds, ours and the reference alternating; medians (the host is shared and noisy).
    var oursT: [Double] = [], refT: [Double] = []
    var chunks = 0
    var t = now()
    for _ in 0..<3 {
        let (s, r) = try ours(pdfDir); oursT.append(s); chunks = r.chunkCount
        t = now(); tool("/usr/bin/pdftotext", ["-layout", "-enc", "UTF-8", "{}", "-"], files: pdfs); refT.append(now() - t)
    }
    let ourPDF = median(oursT), refPDF = median(refT)
    print("PDF, \(Int(pages)) pages (\(copies) x report.pdf): \(chunks) chunks; median of 3 rounds")
    print(String(format: "  ours (ingest):        %7.1f pages/s  (%.2f s)", pages / ourPDF, ourPDF))
    print(String(format: "  pdftotext -layout:    %7.1f pages/s  (%.2f s)", pages / refPDF, refPDF))
    print(String(format: "  ratio ours/pdftotext: %.2fx the time", ourPDF / refPDF))

    // OCR: a scanned page in Chinese.
    let ocrN = max(2, copies / 10)
    let (pngDir, pngs) = try folder("png", "scan-zh.png", ocrN)
    oursT = []; refT = []
    for _ in 0..<3 {
        oursT.append(try ours(pngDir).0)
        t = now(); tool("/usr/bin/tesseract", ["{}", "stdout", "-l", "chi_sim+eng"], files: pngs); refT.append(now() - t)
    }
    let ourOCR = median(oursT), refOCR = median(refT)
    let (scanDir, _) = try folder("scan", "scan-zh.pdf", ocrN)
    let (ourScan, _) = try ours(scanDir)
    print("OCR, \(ocrN) scanned pages (1240x560 px, Chinese); median of 3 rounds:")
    print(String(format: "  ours (ingest PNG):    %7.2f pages/s  (%.2f s)", Double(ocrN) / ourOCR, ourOCR))
    print(String(format: "  tesseract alone:      %7.2f pages/s  (%.2f s)", Double(ocrN) / refOCR, refOCR))
    print(String(format: "  ratio ours/tesseract: %.2fx the time", ourOCR / refOCR))
    print(String(format: "  scanned PDF (pdftoppm 300 dpi + tesseract): %.2f pages/s", Double(ocrN) / ourScan))

    // Inflate: 24 MB of sheet-like XML, deflated by gzip.
    var xml = ""
    for r in 1...200_000 { xml += "<row r=\"\(r)\"><c r=\"A\(r)\" t=\"s\"><v>\(r % 977)</v></c><c r=\"B\(r)\"><v>\(Double(r) * 1.25)</v></c></row>" }
    let raw = dir.appendingPathComponent("sheet.xml")
    try Data(xml.utf8).write(to: raw)
    tool("/usr/bin/gzip", ["-k", "-n", "-6", "{}"], files: [raw.path])
    let gz = [UInt8](try Data(contentsOf: URL(fileURLWithPath: raw.path + ".gz")))
    let deflate = Array(gz[10..<(gz.count - 8)])                 // -n: a bare 10-byte header
    t = now()
    let out = try Inflate.inflate(deflate, limit: 1 << 30)
    let ourInflate = now() - t
    precondition(out.count == xml.utf8.count)
    t = now()
    tool("/usr/bin/gzip", ["-d", "-c", "{}"], files: [raw.path + ".gz"])
    let refInflate = now() - t
    let mb = Double(out.count) / 1_048_576
    print(String(format: "Inflate, %.1f MB of sheet XML (gzip -6, %.1fx):", mb, Double(out.count) / Double(deflate.count)))
    print(String(format: "  ours:                 %7.1f MB/s", mb / ourInflate))
    print(String(format: "  gzip -d:              %7.1f MB/s", mb / refInflate))
    print(String(format: "  ratio ours/gzip:      %.2fx the time", ourInflate / refInflate))
    print(String(format: "load average at end: %.1f", loadAverage()))
}
