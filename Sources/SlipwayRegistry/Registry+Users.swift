import Foundation
import Logging

/// A newly created secret credential, returned once.
public struct IssuedSecret<Value: Sendable>: Sendable {
    /// The stored object.
    public var value: Value
    /// The secret to hand to the client; never stored.
    public var secret: String
}

extension Registry {
    /// The longest free-text label accepted (token, key and display names).
    public static let maximumLabelLength = 200

    /// Creates the first administrator when none exists, with a generated token or `token` when given.
    ///
    /// - Returns: the administrator and its secret when one was created now; `nil` when one already existed.
    public func bootstrapAdministrator(
        username: String = "admin",
        token: String? = nil
    ) async throws
        -> IssuedSecret<User>?
    {
        guard try await !self.repository.hasAdministrator() else { return nil }
        let secret: Secret
        if let token {
            guard let parsed = Secret.parse(token), parsed.kind == .userToken else {
                throw RegistryError.invalid(
                    "SLIPWAY_ADMIN_TOKEN",
                    "the admin token must look like slw_u_<12 letters or digits>_<32 letters or digits>"
                )
            }
            secret = Secret(kind: .userToken, id: parsed.id, value: token, hash: Secret.digest(parsed.random))
        } else {
            secret = Secret.generate(.userToken)
        }
        let user = User(username: username, displayName: "Administrator", isAdmin: true, createdAt: self.now())
        do {
            try await self.repository.createUser(user)
        } catch let error as RegistryError where error.code == .conflict {
            // Another node created it first.
            return nil
        }
        try await self.repository.createToken(
            APIToken(id: secret.id, userID: user.id, name: "bootstrap", secretHash: secret.hash, createdAt: self.now())
        )
        self.log.info("created the first administrator", metadata: ["user.name": "\(username)"])
        return IssuedSecret(value: user, secret: secret.value)
    }

    /// The caller's user.
    public func currentUser(_ principal: Principal) throws -> User {
        try self.requireManagementCredential(principal)
        switch principal {
        case .user(let user): return user
        case .anonymous: throw RegistryError(.unauthenticated, "an API token is required")
        default: throw RegistryError.forbidden("keys do not belong to a user; use an API token")
        }
    }

    /// Creates a user with a first API token (administrators only).
    public func createUser(
        username: String,
        displayName: String = "",
        email: String? = nil,
        isAdmin: Bool = false,
        by principal: Principal
    ) async throws -> (User, IssuedSecret<APIToken>) {
        try self.requireAdministrator(principal)
        try Names.validateOwner(username, field: "username")
        try Self.validateLabel(displayName, field: "display_name", allowEmpty: true)
        if let email { try Self.validateLabel(email, field: "email", allowEmpty: false) }
        guard try await !self.repository.isOwnerNameTaken(username) else {
            throw RegistryError.conflict(
                "the name '\(username)' is already taken by a user or an organisation",
                field: "username"
            )
        }
        let user = User(
            username: username,
            displayName: displayName,
            email: email,
            isAdmin: isAdmin,
            createdAt: self.now()
        )
        try await self.repository.createUser(user)
        let token = try await self.issueToken(for: user, name: "initial", expiresAt: nil)
        return (user, token)
    }

    /// All users (administrators only).
    public func listUsers(page: PageRequest, by principal: Principal) async throws -> Page<User> {
        try self.requireAdministrator(principal)
        return try await self.repository.listUsers(page: page)
    }

    /// The caller's API tokens.
    public func listTokens(by principal: Principal) async throws -> [APIToken] {
        let user = try self.currentUser(principal)
        return try await self.repository.listTokens(userID: user.id)
    }

    /// Creates an API token for the caller.
    public func createToken(
        name: String,
        expiresAt: Date?,
        by principal: Principal
    ) async throws -> IssuedSecret<APIToken> {
        let user = try self.currentUser(principal)
        try Self.validateLabel(name, field: "name", allowEmpty: false)
        if let expiresAt, expiresAt <= self.now() {
            throw RegistryError.invalid("expires_at", "expires_at must be in the future")
        }
        return try await self.issueToken(for: user, name: name, expiresAt: expiresAt)
    }

    /// Revokes one of the caller's tokens.
    public func revokeToken(id: String, by principal: Principal) async throws {
        let user = try self.currentUser(principal)
        guard let token = try await self.repository.token(id: id), token.userID == user.id || user.isAdmin else {
            throw RegistryError.notFound("API token \(id) does not exist")
        }
        try await self.repository.revokeToken(id: id, at: self.now())
    }

    func issueToken(for user: User, name: String, expiresAt: Date?) async throws -> IssuedSecret<APIToken> {
        let secret = Secret.generate(.userToken)
        let token = APIToken(
            id: secret.id,
            userID: user.id,
            name: name,
            secretHash: secret.hash,
            createdAt: self.now(),
            expiresAt: expiresAt
        )
        try await self.repository.createToken(token)
        return IssuedSecret(value: token, secret: secret.value)
    }

    func requireAdministrator(_ principal: Principal) throws {
        try self.requireManagementCredential(principal)
        switch principal {
        case .user(let user) where user.isAdmin: return
        case .anonymous: throw RegistryError(.unauthenticated, "an administrator's API token is required")
        default: throw RegistryError.forbidden("only administrators may do this")
        }
    }

    static func validateLabel(_ value: String, field: String, allowEmpty: Bool) throws {
        if !allowEmpty && value.trimmingCharacters(in: .whitespaces).isEmpty {
            throw RegistryError.invalid(field, "\(field) must not be empty")
        }
        if value.count > self.maximumLabelLength {
            throw RegistryError.invalid(field, "\(field) must be at most \(self.maximumLabelLength) characters")
        }
        if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw RegistryError.invalid(field, "\(field) must not contain control characters")
        }
    }

    // MARK: Organisations

    /// Creates an organisation; the caller becomes its owner.
    public func createOrganization(
        name: String,
        displayName: String = "",
        by principal: Principal
    ) async throws
        -> Organization
    {
        let user = try self.currentUser(principal)
        try Names.validateOwner(name, field: "name")
        try Self.validateLabel(displayName, field: "display_name", allowEmpty: true)
        guard try await !self.repository.isOwnerNameTaken(name) else {
            throw RegistryError.conflict(
                "the name '\(name)' is already taken by a user or an organisation",
                field: "name"
            )
        }
        let organization = Organization(name: name, displayName: displayName, createdAt: self.now())
        try await self.repository.createOrganization(organization, owner: user.id)
        return organization
    }

    /// The organisations the caller belongs to (all of them for administrators).
    public func listOrganizations(by principal: Principal) async throws -> [Organization] {
        let user = try self.currentUser(principal)
        return try await self.repository.listOrganizations(memberID: user.isAdmin ? nil : user.id)
    }

    /// One organisation the caller belongs to.
    public func organization(named name: String, by principal: Principal) async throws -> (Organization, Role) {
        let user = try self.currentUser(principal)
        guard let organization = try await self.repository.organization(named: name) else {
            throw RegistryError.notFound("organisation \(name) does not exist")
        }
        if user.isAdmin { return (organization, .owner) }
        guard let role = try await self.repository.role(userID: user.id, inOrganization: name) else {
            throw RegistryError.notFound("organisation \(name) does not exist")
        }
        return (organization, role)
    }

    /// The organisation's members.
    public func members(of name: String, by principal: Principal) async throws -> [Membership] {
        let (organization, _) = try await self.organization(named: name, by: principal)
        return try await self.repository.memberships(organizationID: organization.id)
    }

    /// Adds a member or changes a member's role (organisation owners only).
    public func setMember(
        _ username: String,
        role: Role,
        in name: String,
        by principal: Principal
    ) async throws
        -> Membership
    {
        let (organization, callerRole) = try await self.organization(named: name, by: principal)
        guard callerRole == .owner else {
            throw RegistryError.forbidden("only owners of \(name) may manage its members")
        }
        guard let member = try await self.repository.user(named: username) else {
            throw RegistryError.notFound("user \(username) does not exist")
        }
        if role != .owner, try await self.repository.role(userID: member.id, inOrganization: name) == .owner {
            let owners = try await self.repository.memberships(organizationID: organization.id).filter {
                $0.role == .owner
            }
            if owners.count == 1 {
                throw RegistryError.conflict("\(username) is the last owner of \(name); make someone else owner first")
            }
        }
        try await self.repository.setMembership(organizationID: organization.id, userID: member.id, role: role)
        return Membership(organizationID: organization.id, userID: member.id, username: member.username, role: role)
    }

    /// Removes a member (organisation owners only; never the last owner).
    public func removeMember(_ username: String, from name: String, by principal: Principal) async throws {
        let (organization, callerRole) = try await self.organization(named: name, by: principal)
        guard callerRole == .owner else {
            throw RegistryError.forbidden("only owners of \(name) may manage its members")
        }
        guard let member = try await self.repository.user(named: username),
            try await self.repository.role(userID: member.id, inOrganization: name) != nil
        else { throw RegistryError.notFound("\(username) is not a member of \(name)") }
        try await self.repository.removeMembership(organizationID: organization.id, userID: member.id)
    }
}
