import ArgumentParser
import Foundation
import SlipwayBatch
import SlipwayInference
import SlipwayRegistry

/// `slipway deploy OWNER/NAME MODEL_FILE --env ENV --summary TEXT …`: uploads a model as a new deployment.
public struct DeployCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Upload a model file as a new deployment of an environment.",
        discussion: """
            The file is streamed from disk, never read into memory whole; a progress bar is drawn on standard \
            error when it is a terminal. The JSON files (--schema, --samples, --classes, --context, --params, \
            --reference) are \
            checked locally and sent as they are. Authenticates with a deploy key when one is given \
            (--deploy-key or SLIPWAY_DEPLOY_KEY), otherwise with a token.
            """
    )

    @OptionGroup var options: ManagementOptions

    @Argument(help: ArgumentHelp("The model.", valueName: "owner/name"))
    var model: String

    @Argument(help: ArgumentHelp("The model file to upload (ONNX).", valueName: "model-file"))
    var modelFile: String

    @Option(help: ArgumentHelp("The environment to deploy into.", valueName: "env"))
    var env: String

    @Option(help: "A one-line summary of what changed (required).")
    var summary: String

    @Option(help: "A longer description of the deployment.")
    var description: String?

    @Option(help: ArgumentHelp("A JSON file with the input schema.", valueName: "file"))
    var schema: String?

    @Option(help: ArgumentHelp("A JSON file with sample inputs, used to verify the deployment.", valueName: "file"))
    var samples: String?

    @Option(help: ArgumentHelp("A JSON file with the class labels.", valueName: "file"))
    var classes: String?

    @Option(help: ArgumentHelp("A JSON file with free-form context (training run, data, …).", valueName: "file"))
    var context: String?

    @Option(help: ArgumentHelp("A JSON file with the model's parameters.", valueName: "file"))
    var params: String?

    @Option(
        help: ArgumentHelp(
            "The reference (training) distribution drift is measured against, at most 10,000 rows: a JSON array of "
                + "rows, or a CSV file (.csv) with a header row naming the features.",
            valueName: "file"
        )
    )
    var reference: String?

    @Option(help: "The model file's format.")
    var format = "onnx"

    @Flag(help: "Activate the deployment as soon as it is verified.")
    var activate = false

    public init() {}

    public func validate() throws {
        _ = try ModelReference(self.model)
        try ArgumentChecks.environment(self.env)
        guard !self.summary.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ValidationError("--summary must not be empty: say in one line what this deployment changes")
        }
        guard !self.format.isEmpty else { throw ValidationError("--format must not be empty") }
    }

    /// The form fields in the order they are sent: summary, format, description, the JSON files, activate.
    func formFields() throws -> [(String, String)] {
        var fields: [(String, String)] = [("summary", self.summary), ("format", self.format)]
        if let description = self.description { fields.append(("description", description)) }
        for (name, path) in [
            ("schema", self.schema), ("samples", self.samples), ("classes", self.classes),
            ("context", self.context), ("params", self.params),
        ] {
            if let path { fields.append((name, try Self.jsonFile(path, option: "--\(name)"))) }
        }
        if let path = self.reference {
            let isCSV = URL(fileURLWithPath: path).pathExtension.lowercased() == "csv"
            fields.append(
                ("reference", isCSV ? try Self.csvRows(path) : try Self.jsonFile(path, option: "--reference"))
            )
        }
        if self.activate { fields.append(("activate", "true")) }
        return fields
    }

    /// Reads a JSON file and checks that it parses, naming the file and option otherwise.
    static func jsonFile(_ path: String, option: String) throws -> String {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ManagementFailure("cannot read the \(option) file \(path): it does not exist or is not readable")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ManagementFailure("the \(option) file \(path) is not UTF-8 text")
        }
        do {
            _ = try JSONValue.parse(Array(data))
        } catch {
            throw ManagementFailure("the \(option) file \(path) is not valid JSON: \(error)")
        }
        return text
    }

    /// Reads a CSV file with a header row as a JSON array of feature objects: empty fields become `null`, fields
    /// that read as numbers become numbers, `true`/`false` booleans, anything else a string.
    static func csvRows(_ path: String) throws -> String {
        let reader: BatchRecordReader
        do {
            reader = try BatchRecordReader(url: URL(fileURLWithPath: path), format: .csv)
        } catch {
            throw ManagementFailure("cannot read the --reference file \(path): it does not exist or is not readable")
        }
        var header: [String]?
        var rows: [JSONValue] = []
        var line = 0
        while let record = try reader.next() {
            line += 1
            switch record {
            case .malformed(let problem):
                throw ManagementFailure("the --reference file \(path), record \(line): \(problem)")
            case .line:
                throw ManagementFailure("the --reference file \(path) is not CSV")
            case .fields(let fields):
                guard let names = header else {
                    guard !fields.isEmpty, fields.allSatisfy({ !$0.isEmpty }), Set(fields).count == fields.count
                    else {
                        throw ManagementFailure(
                            "the --reference file \(path) must start with a header row of distinct feature names"
                        )
                    }
                    header = fields
                    continue
                }
                guard fields.count == names.count else {
                    throw ManagementFailure(
                        "the --reference file \(path), record \(line): \(fields.count) fields, the header has "
                            + "\(names.count)"
                    )
                }
                rows.append(.object(zip(names, fields).map { ($0, Self.csvValue($1)) }))
            }
        }
        guard !rows.isEmpty else {
            throw ManagementFailure("the --reference file \(path) has no rows under its header")
        }
        return JSONValue.array(rows).serialized()
    }

    static func csvValue(_ field: String) -> JSONValue {
        if field.isEmpty { return .null }
        if field == "true" || field == "false" { return .bool(field == "true") }
        if let integer = Int64(field) { return .int(integer) }
        if let number = Double(field), number.isFinite { return .double(number) }
        return .string(field)
    }

    public func run() async throws {
        let model = try ModelReference(self.model)
        try await ManagementSession.run(self.options, preferDeployKey: true) { session in
            let upload = try MultipartUpload(
                fields: try self.formFields(),
                fileField: "model",
                filePath: self.modelFile
            )
            let progress =
                session.context.isErrorTerminal
                ? UploadProgress(
                    label: URL(fileURLWithPath: self.modelFile).lastPathComponent,
                    total: upload.fileSize,
                    write: session.context.writeError
                ) : nil
            let response: APIResponse
            do {
                response = try await session.upload(
                    upload,
                    to: model.pathSegments + ["environments", self.env, "deployments"],
                    progress: progress
                )
                progress?.end()
            } catch {
                progress?.end()
                throw error
            }
            session.print(response.body, human: HumanFormat.deployment)
        }
    }
}
