import Foundation
import Testing

@testable import SlipwayInference

/// The README's operator section is generated from the registry, never kept by hand.
@Suite struct ReadmeTests {
    @Test func operatorSectionMatchesTheRegistry() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let begin = try #require(readme.range(of: "<!-- BEGIN OPERATORS -->"))
        let end = try #require(readme.range(of: "<!-- END OPERATORS -->"))
        let section = readme[begin.upperBound..<end.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
        let generated = OperatorRegistry.standard.markdown().trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(section == generated, "README operator section is stale: run scripts/update-readme.sh")
    }
}
