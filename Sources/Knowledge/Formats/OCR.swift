import Foundation

/// Optical character recognition with tesseract (Chinese simplified + English), for scanned PDF
/// pages and images. One tesseract run writes both the text (`txt`) and the word table (`tsv`),
/// whose confidences give the page's mean confidence.
enum OCR {
    struct Page { var text: String; var meanConfidence: Double; var words: Int }

    static let languages = "chi_sim+eng"
    static let install = "tesseract-ocr tesseract-ocr-chi-sim"

    /// Renders page `page` of the PDF at 300 dpi in grey and reads it.
    static func pdfPage(_ pdf: String, page: Int, options: ConverterOptions) throws -> Page {
        try requireEngine()
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try Subprocess.run("pdftoppm", package: "poppler-utils",
                               ["-r", "300", "-gray", "-png", "-f", String(page), "-l", String(page), "-singlefile", pdf, dir + "/page"],
                               limits: options.limits)
        return try read(image: dir + "/page.png", options: options)
    }

    /// Reads an image file (PNG, JPEG, TIFF) as one document of one page.
    static func image(_ file: SourceFile, options: ConverterOptions) throws -> ExtractedDocument {
        try requireEngine()
        let (path, cleanup) = try file.onDisk(suffix: "." + (file.name as NSString).pathExtension)
        defer { cleanup() }
        let page = try read(image: path, options: options)
        var doc = PagedText.document(pages: [page.text], label: { _ in "image" }, title: (file.name as NSString).deletingPathExtension)
        doc.notes.append(note(pages: 1, of: 1, confidence: page.meanConfidence))
        return doc
    }

    static func note(pages: Int, of total: Int, confidence: Double) -> String {
        String(format: "OCR on %d of %d page%@ (%.0f%% of the document), mean word confidence %.0f%%",
               pages, total, total == 1 ? "" : "s", 100 * Double(pages) / Double(max(1, total)), confidence)
    }

    static func read(image: String, options: ConverterOptions) throws -> Page {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // One thread: OpenMP in tesseract costs more than it gains on a page, and leaves the other
        // core to the rest of the ingest.
        _ = try Subprocess.run("tesseract", package: install, [image, dir + "/out", "-l", languages, "txt", "tsv"],
                               limits: options.limits, environment: ["OMP_THREAD_LIMIT": "1"])
        let text = (try? String(contentsOfFile: dir + "/out.txt", encoding: .utf8)) ?? ""
        let tsv = (try? String(contentsOfFile: dir + "/out.tsv", encoding: .utf8)) ?? ""
        let (mean, words) = confidence(tsv: tsv)
        return Page(text: tidy(text), meanConfidence: mean, words: words)
    }

    /// Mean confidence over recognised words (TSV level 5 rows; -1 marks non-word rows).
    static func confidence(tsv: String) -> (Double, Int) {
        var sum = 0.0, n = 0
        for line in tsv.split(separator: "\n").dropFirst() {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard f.count >= 12, f[0] == "5", let c = Double(f[10]), c >= 0,
                  !f[11].trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            sum += c; n += 1
        }
        return (n > 0 ? sum / Double(n) : 0, n)
    }

    /// Tesseract puts a space between every two Chinese characters it reads as separate words;
    /// remove spaces between CJK characters so the text indexes like typed Chinese.
    static func tidy(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        let u = Array(s.unicodeScalars)
        for (i, c) in u.enumerated() {
            if c == " ", i > 0, i + 1 < u.count, isCJKish(u[i - 1]), isCJKish(u[i + 1]) { continue }
            if c == "\u{0C}" { continue }
            out.append(c)
        }
        return String(out).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func isCJKish(_ s: Unicode.Scalar) -> Bool { TextScan.isCJK(s.value) || TextScan.isCJKPunctuation(s.value) }

    /// The engine and the Chinese model must both be there; say exactly what to install if not.
    static func requireEngine() throws {
        _ = try Subprocess.require("tesseract", package: install)
        guard languagesInstalled() else {
            throw ConverterError.missing(tool: "tesseract language data chi_sim", package: "tesseract-ocr-chi-sim")
        }
    }

    private static let installedLanguages: Bool = {
        guard let out = try? Subprocess.run("tesseract", package: install, ["--list-langs"], limits: ConverterLimits(seconds: 20)) else { return false }
        let langs = Set(String(decoding: out, as: UTF8.self).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) })
        return langs.contains("chi_sim") && langs.contains("eng")
    }()
    static func languagesInstalled() -> Bool { installedLanguages }

    static func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "strata-ocr-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}
