import XCTest
@testable import Tensor

final class GGMLTypeTests: XCTestCase {
    /// Block sizes and byte sizes as in ggml's type traits.
    func testBlockLayouts() {
        XCTAssertEqual(GGMLType.q4_0.rowBytes(64), 36)
        XCTAssertEqual(GGMLType.q4_1.typeSize, 20)
        XCTAssertEqual(GGMLType.q8_0.typeSize, 34)
        XCTAssertEqual(GGMLType.q4_K.typeSize, 144)
        XCTAssertEqual(GGMLType.q5_K.typeSize, 176)
        XCTAssertEqual(GGMLType.q6_K.typeSize, 210)
        XCTAssertNil(GGMLType.q4_K.rowBytes(100), "a row that is not whole blocks has no size")
        XCTAssertEqual(GGMLType.f16.rowBytes(3), 6)
        XCTAssertEqual(GGMLType.q4_K.description, "Q4_K")
    }
}
