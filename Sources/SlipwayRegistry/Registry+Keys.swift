import Foundation

extension Registry {
    /// The largest rate limit accepted, in requests per second.
    public static let maximumRateLimit = 1_000_000

    /// Creates a deploy or serving key for some of a model's environments (maintainers); the secret is returned once.
    public func createKey(
        owner: String,
        name: String,
        kind: AccessKey.Kind,
        keyName: String,
        environments: [String],
        expiresAt: Date?,
        rateLimit: Int?,
        by principal: Principal
    ) async throws -> IssuedSecret<AccessKey> {
        let model = try await self.model(owner: owner, name: name, requiring: .maintainer, by: principal)
        try Self.validateLabel(keyName, field: "name", allowEmpty: false)
        guard !environments.isEmpty else {
            throw RegistryError.invalid("environments", "environments must name at least one environment")
        }
        let known = Set(try await self.repository.environments(modelID: model.id).map(\.name))
        for (index, environment) in environments.enumerated() where !known.contains(environment) {
            throw RegistryError.invalid(
                "environments[\(index)]",
                "environment '\(environment)' does not exist in \(model.fullName)"
            )
        }
        if let expiresAt, expiresAt <= self.now() {
            throw RegistryError.invalid("expires_at", "expires_at must be in the future")
        }
        if let rateLimit {
            guard kind == .serving else {
                throw RegistryError.invalid("rate_limit", "rate_limit applies to serving keys only")
            }
            guard (1...Self.maximumRateLimit).contains(rateLimit) else {
                throw RegistryError.invalid("rate_limit", "rate_limit must be between 1 and \(Self.maximumRateLimit) requests per second")
            }
        }
        let existing = try await self.repository.listKeys(modelID: model.id)
        if existing.contains(where: { $0.kind == kind && $0.name == keyName && $0.revokedAt == nil }) {
            throw RegistryError.conflict("a \(kind.rawValue) key named '\(keyName)' already exists in \(model.fullName)", field: "name")
        }
        let secret = Secret.generate(kind == .deploy ? .deployKey : .servingKey)
        var unique: [String] = []
        for environment in environments where !unique.contains(environment) { unique.append(environment) }
        let key = AccessKey(
            id: secret.id,
            modelID: model.id,
            kind: kind,
            name: keyName,
            environments: unique,
            secretHash: secret.hash,
            rateLimit: rateLimit,
            expiresAt: expiresAt,
            createdBy: principal.actor,
            createdAt: self.now()
        )
        try await self.repository.createKey(
            key,
            event: self.event(
                .keyCreated,
                on: model,
                by: principal,
                detail: "\(kind.rawValue) key '\(keyName)' for \(unique.joined(separator: ", "))"
            )
        )
        return IssuedSecret(value: key, secret: secret.value)
    }

    /// A model's keys, without secrets (maintainers).
    public func listKeys(owner: String, name: String, by principal: Principal) async throws -> [AccessKey] {
        let model = try await self.model(owner: owner, name: name, requiring: .maintainer, by: principal)
        return try await self.repository.listKeys(modelID: model.id)
    }

    /// Revokes a key (maintainers).
    public func revokeKey(owner: String, name: String, id: String, by principal: Principal) async throws {
        let model = try await self.model(owner: owner, name: name, requiring: .maintainer, by: principal)
        guard let key = try await self.repository.key(id: id), key.modelID == model.id else {
            throw RegistryError.notFound("key \(id) does not exist in \(model.fullName)")
        }
        try await self.repository.revokeKey(
            id: id,
            at: self.now(),
            event: self.event(.keyRevoked, on: model, by: principal, detail: "\(key.kind.rawValue) key '\(key.name)'")
        )
    }
}
