import XCTest
@testable import Knowledge

/// MIME decoding by hand-written messages: transfer encodings, charsets, encoded words, file names.
final class MailTests: XCTestCase {
    func testQuotedPrintableEncodedWordsAndRFC2231FileName() throws {
        // "贷款通知" in GBK, base64: the encoded word a Chinese mail client writes.
        let subjectWord = "=?GBK?B?" + Data([0xB4, 0xFB, 0xBF, 0xEE, 0xCD, 0xA8, 0xD6, 0xAA]).base64EncodedString() + "?="
        let mail = """
            From: =?utf-8?Q?Li_Wei?= <li@example.com>
            To: ops@example.com
            Subject: \(subjectWord) =?utf-8?Q?=E2=80=94_Q4?=
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="b1"

            --b1
            Content-Type: text/plain; charset=utf-8
            Content-Transfer-Encoding: quoted-printable

            Rates change on 1 December: the fee is 0.1% =E2=80=94 minimum RMB 50.=
             Thanks.
            --b1
            Content-Type: text/plain
            Content-Disposition: attachment; filename*=UTF-8''%E5%88%A9%E7%8E%87.txt
            Content-Transfer-Encoding: base64

            \(Data("USD 7.12\n".utf8).base64EncodedString())
            --b1--
            """
        let doc = try MailExtractor.message(SourceFile(name: "m.eml", bytes: Array(mail.utf8)), options: ConverterOptions())
        XCTAssertEqual(doc.title, "贷款通知— Q4")
        XCTAssertEqual(String(decoding: doc.units[0].text, as: UTF8.self),
                       "From: Li Wei <li@example.com>\nTo: ops@example.com\nSubject: 贷款通知— Q4")
        XCTAssertEqual(String(decoding: doc.units[1].text, as: UTF8.self),
                       "Rates change on 1 December: the fee is 0.1% — minimum RMB 50. Thanks.")
        XCTAssertEqual(doc.attachments.map(\.name), ["利率.txt"])
        XCTAssertEqual(doc.attachments.first.map { String(decoding: $0.bytes, as: UTF8.self) }, "USD 7.12\n")
    }

    func testUndeclaredCharsetIsDetectedAndPathTricksAreNeutralised() throws {
        var mail = Array("From: a@b.example\nSubject: hi\nContent-Type: text/plain\n\n".utf8)
        mail += [0xCD, 0xCB, 0xBF, 0xEE, 0xD0, 0xE8, 0xD2, 0xAA, 0xBC, 0xB8, 0xCC, 0xEC]     // 退款需要几天 in GBK, no charset
        let doc = try MailExtractor.message(SourceFile(name: "m.eml", bytes: mail), options: ConverterOptions())
        XCTAssertEqual(String(decoding: doc.units[1].text, as: UTF8.self), "退款需要几天")
        XCTAssertEqual(MailExtractor.safeName("../../etc/passwd"), "passwd")
        XCTAssertEqual(MailExtractor.safeName("a › b.pdf"), "a  b.pdf")
        XCTAssertThrowsError(try MailExtractor.message(SourceFile(name: "x.eml", bytes: Array("just text, no headers".utf8)), options: ConverterOptions()))
    }
}
