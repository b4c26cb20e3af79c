import Foundation
import HTTPTypes
import NIOConcurrencyHelpers
import SlipwayAPI
import SlipwayInference
import SlipwayRegistry
import SlipwayRuntime
import Testing

/// Collects the records the routes hand over.
final class CollectingRecorder: PredictionRecorder {
    private let records = NIOLockedValueBox<[PredictionRecord]>([])

    func record(_ record: PredictionRecord) {
        self.records.withLockedValue { $0.append(record) }
    }

    var all: [PredictionRecord] { self.records.withLockedValue { $0 } }
}

// Every prediction request, answered or refused, reaches the monitoring layer as one record carrying what the route
// got as far as: the deployment, the key, the rows, the tensors and the outputs.
@Suite("Prediction records")
struct PredictionRecordTests {
    @Test func answeredAndRefusedRequestsAreRecorded() async throws {
        let recorder = CollectingRecorder()
        try await withServer(recorders: [recorder]) { api in
            try await api.makeModel("admin/iris")
            try await api.shipIrisExample("admin/iris")
            let created = try await api.createKey(
                "serving",
                in: "admin/iris",
                environments: ["production"],
                name: "checkout"
            )
            let key = Credential.servingKey(created.secret)
            let answered = try await api.predict(
                "/v1/admin/iris/predict/",
                as: key,
                json: #"{"ndarray": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}"#
            )
            #expect(answered.status == .ok, "\(answered)")
            let refused = try await api.predict("/v1/admin/iris/predict/", as: key, json: #"{"ndarray": [[1, 2]]}"#)
            #expect(refused.status.code >= 400 && refused.status.code < 500, "\(refused)")
            let unknown = try await api.predict("/v1/admin/nope/predict/", as: key, json: #"{"ndarray": [[1]]}"#)
            #expect(unknown.status == .notFound, "\(unknown)")
            let v2 = try await api.post(
                "/v2/models/admin__iris/infer",
                as: key,
                json: #"{"inputs": [{"name": "X", "shape": [1, 4], "datatype": "FP32", "data": [5.1, 3.5, 1.4, 0.2]}]}"#
            )
            #expect(v2.status == .ok, "\(v2.status) \(String(decoding: v2.body, as: UTF8.self))")

            let records = recorder.all
            try #require(records.count == 4, "\(records.map(\.status))")
            let first = records[0]
            #expect(first.surface == .teachableHub && first.status == 200 && first.errorCode == nil && first.succeeded)
            #expect(first.prepared?.model.fullName == "admin/iris" && first.prepared?.deployment.version == 1)
            #expect(first.keyName == "checkout")
            #expect(first.rows?.count == 2)
            #expect(first.inputs?.values.first?.shape == [2, 4])
            #expect(first.outputs?.count == 2 && first.outputs?.allSatisfy { $0.probabilities?.count == 3 } == true)
            #expect(first.latency > 0 && first.latency < 60)
            #expect(answered.headers[HTTPField.Name("X-Request-ID")!] == first.requestID)

            let second = records[1]
            #expect(!second.succeeded && second.status == Int(refused.status.code))
            #expect(second.errorCode == refused.json["code"]?.string, "\(refused)")
            #expect(second.prepared?.deployment.version == 1 && second.rows?.count == 1 && second.outputs == nil)

            let third = records[2]
            #expect(third.status == 404 && third.prepared == nil && third.rows == nil)

            let fourth = records[3]
            #expect(fourth.surface == .inferenceProtocol && fourth.status == 200)
            #expect(fourth.inputs?["X"]?.shape == [1, 4] && fourth.outputs?.count == 1)
            #expect(fourth.outputs?.first?.probabilities?.count == 3)
        }
    }
}
