import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The character encodings ingestion recognises in text files and e-mail parts.
public enum TextEncoding: String, Sendable, Equatable {
    case utf8 = "UTF-8", utf8BOM = "UTF-8 with BOM", utf16LE = "UTF-16LE", utf16BE = "UTF-16BE"
    case gb18030 = "GB18030", big5 = "Big5"

    /// The iconv(3) name; GB2312 and GBK are subsets of GB18030, so one converter reads all three.
    var iconvName: String {
        switch self {
        case .utf8, .utf8BOM: "UTF-8"
        case .utf16LE: "UTF-16LE"
        case .utf16BE: "UTF-16BE"
        case .gb18030: "GB18030"
        case .big5: "BIG5-HKSCS"
        }
    }

    /// Maps a MIME charset label (`gb2312`, `GBK`, `big5`, `utf-8`, `us-ascii`…) to an encoding;
    /// nil for labels we do not convert (the caller then tries detection).
    public init?(label: String) {
        switch label.lowercased().trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "-") {
        case "utf-8", "utf8", "us-ascii", "ascii": self = .utf8
        case "gb2312", "gbk", "gb18030", "x-gbk", "cp936", "euc-cn", "hz-gb-2312", "gb-2312": self = .gb18030
        case "big5", "big5-hkscs", "cp950", "x-big5": self = .big5
        case "utf-16le": self = .utf16LE
        case "utf-16be", "utf-16": self = .utf16BE
        default: return nil
        }
    }
}

/// Why bytes could not be read as text.
enum TextDecodingError: Error, Equatable {
    /// A NUL byte and no UTF-16 pattern: a binary file.
    case binary(offset: Int)
    /// Not valid UTF-8, and not convincingly GB18030/GBK or Big5 either.
    case undecodable(offset: Int)
}

/// Detects a text file's encoding and converts it to UTF-8.
///
/// Order: a byte-order mark decides (UTF-8, UTF-16 LE/BE); then a UTF-16 pattern without a BOM
/// (every other byte NUL in ASCII-heavy text); then NUL bytes mean binary; then valid UTF-8 is
/// UTF-8; then GB18030 and Big5 are both tried (glibc iconv, strict) and the one whose text holds
/// more of the common Chinese characters wins. A decoding with almost no common characters is
/// refused: Latin-1 or a random binary often decodes as GBK into nonsense.
enum TextDecoder {
    static func decode(_ b: [UInt8]) throws -> (text: [UInt8], encoding: TextEncoding) {
        if b.starts(with: [0xEF, 0xBB, 0xBF]) {
            let rest = Array(b.dropFirst(3))
            if let bad = UTF8Validation.firstInvalidOffset(rest) { throw TextDecodingError.undecodable(offset: bad + 3) }
            return (rest, .utf8BOM)
        }
        if b.starts(with: [0xFF, 0xFE]) { return (try utf16(Array(b.dropFirst(2)), .utf16LE, base: 2), .utf16LE) }
        if b.starts(with: [0xFE, 0xFF]) { return (try utf16(Array(b.dropFirst(2)), .utf16BE, base: 2), .utf16BE) }
        if let nul = b.firstIndex(of: 0) {
            if let enc = utf16Pattern(b) { return (try utf16(b, enc, base: 0), enc) }
            throw TextDecodingError.binary(offset: nul)
        }
        guard let bad = UTF8Validation.firstInvalidOffset(b) else { return (b, .utf8) }
        var best: (text: [UInt8], encoding: TextEncoding, score: Int)? = nil
        for enc in [TextEncoding.gb18030, .big5] {
            guard let t = iconv(b, from: enc.iconvName) else { continue }
            let s = commonScore(t)
            if s.plausible && (best == nil || s.common > best!.score) { best = (t, enc, s.common) }
        }
        guard let best else { throw TextDecodingError.undecodable(offset: bad) }
        return (best.text, best.encoding)
    }

    /// Converts `b` from `encoding` (a MIME-declared charset) to UTF-8; nil when it does not convert.
    static func convert(_ b: [UInt8], from encoding: TextEncoding) -> [UInt8]? {
        switch encoding {
        case .utf8, .utf8BOM:
            let body = b.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(b.dropFirst(3)) : b
            return UTF8Validation.firstInvalidOffset(body) == nil ? body : nil
        default: return iconv(b, from: encoding.iconvName)
        }
    }

    /// LE when NULs sit at odd offsets, BE when at even ones, in at least a third of the code units
    /// and at least four times as often as on the other side (a CJK character such as 开 U+5F00
    /// has a NUL low byte), and no code unit is 0x0000 (text has none; binary has many).
    static func utf16Pattern(_ b: [UInt8]) -> TextEncoding? {
        guard b.count >= 2, b.count % 2 == 0 else { return nil }
        var evenNul = 0, oddNul = 0
        var i = 0
        while i + 1 < b.count {
            if b[i] == 0 && b[i + 1] == 0 { return nil }
            if b[i] == 0 { evenNul += 1 }
            if b[i + 1] == 0 { oddNul += 1 }
            i += 2
        }
        let units = b.count / 2
        if oddNul * 3 >= units && evenNul * 4 <= oddNul { return .utf16LE }
        if evenNul * 3 >= units && oddNul * 4 <= evenNul { return .utf16BE }
        return nil
    }

    static func utf16(_ b: [UInt8], _ enc: TextEncoding, base: Int) throws -> [UInt8] {
        guard b.count % 2 == 0, let t = iconv(b, from: enc.iconvName) else {
            throw TextDecodingError.undecodable(offset: base + b.count - b.count % 2)
        }
        if let nul = t.firstIndex(of: 0) { throw TextDecodingError.binary(offset: base + nul) }
        return t
    }

    /// Strict conversion to UTF-8 through glibc's iconv; nil on any invalid or incomplete sequence.
    /// (Foundation on Linux converts only Unicode and Latin encodings; glibc ships GB18030 and Big5.)
    static func iconv(_ b: [UInt8], from: String) -> [UInt8]? {
        if b.isEmpty { return [] }
        let cd = iconv_open("UTF-8", from)
        guard cd != iconv_t(bitPattern: -1) else { return nil }
        defer { iconv_close(cd) }
        var input = b
        // UTF-8 needs at most 2x the bytes of GB18030/Big5 (2 → 3, 4 → 4) and 1.5x of UTF-16.
        var out = [UInt8](repeating: 0, count: b.count * 2 + 16)
        let written: Int? = input.withUnsafeMutableBufferPointer { inBuf in
            out.withUnsafeMutableBufferPointer { outBuf in
                var inPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(inBuf.baseAddress!).assumingMemoryBound(to: CChar.self)
                var outPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(outBuf.baseAddress!).assumingMemoryBound(to: CChar.self)
                var inLeft = inBuf.count, outLeft = outBuf.count
                let r = Glibc.iconv(cd, &inPtr, &inLeft, &outPtr, &outLeft)
                return r == -1 || inLeft != 0 ? nil : outBuf.count - outLeft
            }
        }
        guard let written else { return nil }
        return Array(out[..<written])
    }

    /// How many decoded characters are among the most frequent in Chinese text (both scripts), and
    /// whether the decoding looks like Chinese at all (≥ 1 in 8 ideographs common).
    static func commonScore(_ utf8: [UInt8]) -> (common: Int, plausible: Bool) {
        var ideographs = 0, common = 0
        for s in String(decoding: utf8, as: UTF8.self).unicodeScalars where s.value >= 0x80 {
            if TextScan.isCJK(s.value) { ideographs += 1; if commonSet.contains(s) { common += 1 } }
        }
        return (common, ideographs == 0 || common * 8 >= ideographs && common > 0)
    }

    /// Frequent characters of Chinese prose and of banking text, simplified and traditional.
    static let commonSet: Set<Unicode.Scalar> = Set((
        "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后作里用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开但因只从想实日者意无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间由问很最重并物手应向头文体政美相见被利什二等产或新己制身果加西月话合回特代内信表化老给世位次度门任常先海通教儿原东声提立及比员解水名真论处走义各入几口认条平系气题活更别打女变四神总何电数安少报才结反受目太量再感建务做接必场件计管期市直德资命金指许统区保至队形社便空决治展马科司五基书非则听白却界达光放强即像难且权思王象完设式色路记南品住告类求据程北边死张该交规万取拉格望觉术领共确传师观清今切院让识候带导争运笑飞风步改收根干造言联持组每济车亲极林服快办议往元证近失转夫令准布始怎存未远叫台单影具罗字爱击流备兵连调深商算质团集百需价花华城石级整府离况请技际约示复病息究线似官火断精满支视消越器容照须九增研写称企八功包片史委乎查轻易早曾除农找装广显"
        + "這個們來為國說時會對發後裡過麼經學現當動進們從實與長機樣問點還讓種種錢銀號戶帳買賣"
        + "银行账户存款贷款利率费用手续退还卡信用借记转汇理财基金股票债券保险年月日元万亿额度申请办理支付结算余额本息期限逾罚客服网点柜台营业证件身份密码挂失补换开销"
        + "銀帳戶貸費續還記匯財險億額請辦結餘罰網點證碼補換銷").unicodeScalars)
}
