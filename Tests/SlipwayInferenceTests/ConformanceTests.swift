import Foundation
import Testing

@testable import SlipwayInference

/// Runs ONNX's own backend node test cases (exported by `scripts/export-onnx-node-tests.py`).
///
/// Every case whose model loads (all its operators and element types supported) must pass at the case's
/// tolerances (ONNX's defaults: rtol 1e-3, atol 1e-7). Cases that use unsupported operators, opsets or element
/// types are skipped and counted. A per-operator report is written to `.build/reports/onnx-conformance.md`.
/// `SLIPWAY_CONFORMANCE_FILTER=Softmax` restricts the run to cases using operators whose name contains the text.
@Suite struct ConformanceTests {
    struct ManifestEntry: Decodable {
        var name: String
        var ops: [String]
        var rtol: Double
        var atol: Double
    }

    enum Outcome {
        case passed
        case failed(String)
        case skipped(String)
    }

    @Test func passesEverySupportedONNXNodeTestCase() throws {
        let root = Fixtures.onnxNodeTests
        let manifestURL = root.appendingPathComponent("manifest.json")
        guard FileManager.default.fileExists(atPath: manifestURL.path) else {
            let hint = "run `python3 scripts/export-onnx-node-tests.py Tests/Fixtures/onnx-node` (scripts/test.sh does)"
            Issue.record("ONNX node test cases not found at \(root.path): \(hint)")
            return
        }
        var manifest = try JSONDecoder().decode([ManifestEntry].self, from: Data(contentsOf: manifestURL))
        let filter = ProcessInfo.processInfo.environment["SLIPWAY_CONFORMANCE_FILTER"]
        if let filter, !filter.isEmpty {
            manifest = manifest.filter { entry in
                entry.ops.contains { $0.contains(filter) } || entry.name.contains(filter)
            }
        }
        #expect(!manifest.isEmpty, "no conformance cases selected")

        var results: [(ManifestEntry, Outcome)] = []
        for entry in manifest {
            results.append((entry, Self.run(entry, in: root.appendingPathComponent(entry.name))))
        }

        var failures: [String] = []
        for (entry, outcome) in results {
            if case .failed(let why) = outcome { failures.append("\(entry.name): \(why)") }
        }
        let passed = results.filter { if case .passed = $0.1 { true } else { false } }.count
        let skipped = results.count - passed - failures.count
        let report = Self.report(results)
        let reportURL = Fixtures.reports.appendingPathComponent(
            filter == nil ? "onnx-conformance.md" : "onnx-conformance-filtered.md"
        )
        try report.write(to: reportURL, atomically: true, encoding: .utf8)
        print(
            "ONNX node conformance: \(passed) passed, \(failures.count) failed, \(skipped) skipped of \(results.count) cases; report at \(reportURL.path)"
        )
        let summary = "\(failures.count) supported cases failed:\n" + failures.joined(separator: "\n")
        #expect(failures.isEmpty, "\(summary)")
    }

    static func run(_ entry: ManifestEntry, in directory: URL) -> Outcome {
        let fm = FileManager.default
        if fm.fileExists(atPath: directory.appendingPathComponent("UNSUPPORTED_DATA").path) {
            return .skipped("test data not exportable")
        }
        let model: Model
        do {
            model = try ModelLoader.load(contentsOf: directory.appendingPathComponent("model.onnx").path)
        } catch let error as InferenceError {
            if error.code == .unsupportedOperator || error.code == .unsupportedModel {
                return .skipped(error.message)
            }
            return .failed("load: \(error.message)")
        } catch {
            return .failed("load: \(error)")
        }
        let session = InferenceSession(model: model)
        do {
            let sets = try Fixtures.directories(in: directory).filter { $0.hasPrefix("test_data_set_") }
            guard !sets.isEmpty else { return .skipped("no test data") }
            for set in sets {
                let dir = directory.appendingPathComponent(set)
                let files = try fm.contentsOfDirectory(atPath: dir.path)
                func tensors(_ prefix: String) throws -> [Tensor] {
                    let count = files.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".pb") }.count
                    return try (0..<count).map {
                        try Tensor(
                            serializedTensorProto: Fixtures.bytes(dir.appendingPathComponent("\(prefix)\($0).pb"))
                        )
                    }
                }
                let inputs: [Tensor]
                let expected: [Tensor]
                do {
                    inputs = try tensors("input_")
                    expected = try tensors("output_")
                } catch let error as InferenceError where error.code == .unsupportedModel {
                    return .skipped("test data: \(error.message)")
                }
                // Inputs are given in the order of the graph's inputs; trailing optional ones may be absent.
                var feed: [String: Tensor] = [:]
                let names = Array(model.allInputs.keys)
                let ordered = model.graph.inputSlots.compactMap { slot in
                    names.first { model.inputSlotIndex[$0] == slot }
                }
                for (name, tensor) in zip(ordered, inputs) { feed[name] = tensor }
                let outputs = try session.run(feed, outputNames: nil)
                guard outputs.count == expected.count else {
                    return .failed("\(outputs.count) outputs, expected \(expected.count)")
                }
                for ((name, value), want) in zip(outputs, expected) {
                    guard let got = value.tensor else { return .failed("output '\(name)' is not a tensor") }
                    if let why = compare(got, want, rtol: entry.rtol, atol: entry.atol) {
                        return .failed("output '\(name)': \(why)")
                    }
                }
            }
            return .passed
        } catch {
            return .failed("run: \(error)")
        }
    }

    static func report(_ results: [(ManifestEntry, Outcome)]) -> String {
        struct Row {
            var cases = 0
            var supported = 0
            var passed = 0
            var failed = 0
            var skipped = 0
        }
        var rows: [String: Row] = [:]
        var skipReasons: [String: Int] = [:]
        for (entry, outcome) in results {
            for op in Set(entry.ops) {
                var row = rows[op] ?? Row()
                row.cases += 1
                switch outcome {
                case .passed:
                    row.supported += 1
                    row.passed += 1
                case .failed:
                    row.supported += 1
                    row.failed += 1
                case .skipped: row.skipped += 1
                }
                rows[op] = row
            }
            if case .skipped(let why) = outcome {
                let reason = why.replacingOccurrences(
                    of: #"^[A-Za-z]+ node( '[^']*')?: "#,
                    with: "",
                    options: .regularExpression
                )
                skipReasons[String(reason.prefix(120)), default: 0] += 1
            }
        }
        let passed = results.filter { if case .passed = $0.1 { true } else { false } }.count
        let failed = results.filter { if case .failed = $0.1 { true } else { false } }.count
        var out = "# ONNX backend node tests\n\n"
        out += "Cases: \(results.count); supported: \(passed + failed); passed: \(passed); failed: \(failed); "
        out += "skipped: \(results.count - passed - failed).\n\n"
        out += "| operator | cases | supported | passed | failed | skipped |\n|---|---:|---:|---:|---:|---:|\n"
        for (op, r) in rows.sorted(by: { $0.key < $1.key }) {
            out += "| \(op) | \(r.cases) | \(r.supported) | \(r.passed) | \(r.failed) | \(r.skipped) |\n"
        }
        out += "\n## Failures\n\n"
        for (entry, outcome) in results {
            if case .failed(let why) = outcome { out += "- `\(entry.name)`: \(why)\n" }
        }
        out += "\n## Skip reasons (most common first)\n\n"
        for (reason, count) in skipReasons.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }).prefix(60) {
            out += "- \(count) × \(reason)\n"
        }
        return out
    }
}
