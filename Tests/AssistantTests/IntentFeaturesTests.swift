import Foundation
import Tensor
import XCTest
@testable import Assistant

/// The n-gram half of the intent classifier (#19 item 11): it reads Chinese where the embedding
/// cannot, its weight is chosen by cross-validation, and the out-of-scope rule is calibrated on
/// training data alone.
final class IntentFeaturesTests: XCTestCase {
    func testGramsAreHanCharacterRunsAndLatinWordsWithTheirPieces() {
        let zh = TextFeatures.grams("金卡年费？")
        for g in ["金", "金卡", "金卡年", "年费"] { XCTAssertNotNil(zh[g], g) }
        XCTAssertNil(zh["卡年费？"])
        let en = TextFeatures.grams("Refunded card, please")
        for g in ["w refunded", "w card", "w refunded card", "#<re", "#ded>", "w please"] { XCTAssertNotNil(en[g], g) }
        XCTAssertNil(en["w card please"], "no word pair across punctuation")
        let f = TextFeatures(training: ["金卡年费", "网点营业时间"])
        let v = f.vector("金卡年费多少")
        XCTAssertEqual(v.dot(v), 1, accuracy: 1e-5)
        XCTAssertEqual(f.vector("完全无关").indices, [], "grams never seen in training are ignored")
    }

    static let chinese: [(String, Int)] = [
        ("金卡年费多少", 0), ("白金卡年费是多少", 0), ("信用卡年费怎么免", 0), ("年费能减免吗", 0), ("储蓄卡要年费吗", 0), ("这张卡每年收多少年费", 0),
        ("网点几点开门", 1), ("支行营业时间", 1), ("周六营业吗", 1), ("分行几点关门", 1), ("营业厅周日开门吗", 1), ("支行开门时间", 1),
        ("我的退款到哪了", 2), ("退款进度查询", 2), ("退款什么时候到账", 2), ("查一下退款状态", 2), ("退款还没到", 2), ("退款处理到哪一步", 2),
    ]

    /// With a constant embedding only the n-grams can tell the intents apart: the blend must
    /// find that out by itself (cross-validation chooses the weight).
    func testChineseIntentsAreSeparatedByNGramsWhenTheEmbeddingCannot() throws {
        let examples = Self.chinese.map { LabelledVector(vector: [1, 0, 0, 0], text: $0.0, label: $0.1) }
        let c = try IntentClassifier(examples: examples, labelCount: 3)
        XCTAssertGreaterThan(c.sparseWeight, 0, "\(c.sparseWeightAccuracy)")
        XCTAssertEqual(c.sparseWeightAccuracy.first { $0.weight == 0 }?.accuracy ?? 1, 1.0 / 3, accuracy: 0.2, "the embedding alone guesses")
        XCTAssertEqual(c.classify([1, 0, 0, 0], text: "白金信用卡年费多少钱").best, 0)
        XCTAssertEqual(c.classify([1, 0, 0, 0], text: "北京支行周日营业吗").best, 1)
        XCTAssertEqual(c.classify([1, 0, 0, 0], text: "我的退款到账了吗").best, 2)
        XCTAssertLessThan(c.nearestSparse(c.features!.vector("今天天气怎么样")), 0.5, "nothing like it among the examples")
        XCTAssertGreaterThan(c.nearestSparse(c.features!.vector("金卡年费多少")), 0.99)
        // Texts for some examples only is a mistake the caller must hear about.
        XCTAssertThrowsError(try IntentClassifier(examples: [examples[0], LabelledVector(vector: [1, 0, 0, 0], label: 1)], labelCount: 2))
    }

    /// Calibration holds intents out of training and picks the rule that catches the most of
    /// them within the accuracy budget; the empty rule catches none.
    func testOutOfScopeRuleIsCalibratedOnHeldOutIntents() throws {
        var rng = SplitMix64(seed: 5)
        var examples: [LabelledVector] = []
        for label in 0..<8 {
            for _ in 0..<12 {
                var v = (0..<16).map { _ in Float.random(in: -0.15...0.15, using: &rng) }
                v[label] += 1
                examples.append(LabelledVector(vector: v, label: label))
            }
        }
        var options = IntentClassifierOptions()
        options.epochs = 20
        let c = try OutOfScopeCalibration.calibrate(examples, labelCount: 8, options: options, folds: 3, heldOutShare: 0.25, maxAccuracyLoss: 0.05)
        let empty = c.grid[0]
        XCTAssertEqual(empty.rule, OutOfScopeRule(minMargin: 0, minSimilarity: 0))
        XCTAssertEqual(empty.outOfScopeRecall, 0)
        let chosen = c.grid.first { $0.rule == c.rule }!
        XCTAssertGreaterThan(chosen.outOfScopeRecall, 0.5, "\(chosen)")
        XCTAssertGreaterThanOrEqual(chosen.inScopeAccuracy, empty.inScopeAccuracy - 0.05)
        // The rule itself: either test rejects.
        let rule = OutOfScopeRule(minMargin: 0.3, minSimilarity: 0.5)
        let p = IntentPrediction(ranked: [(0, 0.9), (1, 0.1)], margin: 0.8, nearestSimilarity: 0.4, confidence: 0.8)
        XCTAssertTrue(rule.isOutOfScope(p))
    }
}
