import Foundation
import SlipwayInference
import SlipwayRegistry
import SlipwayRuntime

/// Scores one chunk of rows with the same validation as an online prediction; rows that fail are reported, not
/// fatal.
enum BatchScorer {
    struct RowError: Sendable, Equatable {
        var row: Int
        var field: String
        var problem: String
    }

    struct Outcome: Sendable {
        var rows: [(Int, OutputReader.Row)]
        var errors: [RowError]
    }

    /// Scores `chunk` (row index and decoded row); results come back in row order.
    static func score(
        _ chunk: [(Int, BatchRow)],
        model: PreparedModel,
        predictor: any Predictor
    ) async throws -> Outcome {
        var errors: [RowError] = []
        var named: [(Int, [String: JSONTree])] = []
        var positional: [(Int, [JSONTree])] = []
        for (index, row) in chunk {
            switch row {
            case .named(let values): named.append((index, values))
            case .positional(let values): positional.append((index, values))
            case .bad(let field, let problem): errors.append(RowError(row: index, field: field, problem: problem))
            }
        }
        var results: [(Int, OutputReader.Row)] = []
        if !named.isEmpty {
            try await Self.run(named.map(\.0), .features(named.map(\.1)), model, predictor, &results, &errors) {
                .features([named[$0].1])
            }
        }
        if !positional.isEmpty {
            try await Self.run(positional.map(\.0), .ndarray(positional.map(\.1)), model, predictor, &results, &errors)
            {
                .ndarray([positional[$0].1])
            }
        }
        results.sort { $0.0 < $1.0 }
        errors.sort { $0.row < $1.row }
        return Outcome(rows: results, errors: errors)
    }

    /// Scores `rows` together; when they fail validation, scores them one by one to find the bad ones.
    private static func run(
        _ indices: [Int],
        _ rows: PredictionRows,
        _ model: PreparedModel,
        _ predictor: any Predictor,
        _ results: inout [(Int, OutputReader.Row)],
        _ errors: inout [RowError],
        single: (Int) -> PredictionRows
    ) async throws {
        if case .success(let read)? = try await Self.attempt(rows, model, predictor) {
            results.append(contentsOf: zip(indices, read))
            return
        }
        var good: [Int] = []
        var goodRows: [PredictionRows] = []
        for position in indices.indices {
            let row = single(position)
            do {
                _ = try InputBuilder.inputs(for: model, rows: row)
                good.append(position)
                goodRows.append(row)
            } catch let error as PredictionInputError {
                errors.append(contentsOf: Self.rowErrors(error, row: indices[position]))
            }
        }
        guard !good.isEmpty else { return }
        // The rows that passed validation, scored one by one (the model may still refuse one).
        for (position, row) in zip(good, goodRows) {
            switch try await Self.attempt(row, model, predictor) {
            case .success(let read)?: results.append((indices[position], read[0]))
            case .failure(let error)?:
                errors.append(RowError(row: indices[position], field: "row", problem: error.message))
            case nil:
                errors.append(RowError(row: indices[position], field: "row", problem: "the row failed validation"))
            }
        }
    }

    struct ModelRefusal: Error {
        var message: String
    }

    /// Scores `rows`; `nil` when they fail validation, a failure when the engine refuses them.
    private static func attempt(
        _ rows: PredictionRows,
        _ model: PreparedModel,
        _ predictor: any Predictor
    ) async throws -> Result<[OutputReader.Row], ModelRefusal>? {
        let inputs: [String: Tensor]
        do {
            inputs = try InputBuilder.inputs(for: model, rows: rows)
        } catch is PredictionInputError {
            return nil
        }
        while true {
            do {
                let outputs = try await predictor.inferInBackground(model, inputs: inputs, outputs: nil)
                return .success(OutputReader.rows(outputs, count: rows.count, classCount: model.classes?.count))
            } catch let error as RuntimeError where error.code == .overloaded {
                // Online traffic filled the deployment's queue: back off and retry.
                try await Task.sleep(for: .milliseconds(50))
            } catch let error as InferenceError where error.code == .invalidInput || error.code == .invalidRequest {
                if rows.count == 1 { return .failure(ModelRefusal(message: error.message)) }
                return nil
            }
        }
    }

    static func rowErrors(_ error: PredictionInputError, row: Int) -> [RowError] {
        if error.violations.isEmpty {
            return [RowError(row: row, field: Self.field(error.field), problem: error.message)]
        }
        return error.violations.map {
            RowError(
                row: row,
                field: $0.feature,
                problem: "\($0.rule): expected \($0.expected), got \($0.got)"
            )
        }
    }

    /// Strips the single-row request's prefix (`ndarray[0][2]` → `column 3`).
    static func field(_ field: String?) -> String {
        guard let field else { return "row" }
        for prefix in ["ndarray[0]", "features[0]"] where field.hasPrefix(prefix) {
            let rest = field.dropFirst(prefix.count)
            if rest.hasPrefix("["), let close = rest.firstIndex(of: "]"),
                let column = Int(rest.dropFirst().prefix(upTo: close))
            {
                return "column \(column + 1)"
            }
            return rest.isEmpty ? "row" : String(rest.drop { $0 == "." })
        }
        return field
    }
}
