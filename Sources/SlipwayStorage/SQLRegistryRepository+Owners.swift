import Foundation
import SQLKit
import SlipwayRegistry

extension SQLRegistryRepository {
    static let userColumns: SQLQueryString = "u.id, u.username, u.display_name, u.email, u.is_admin, u.created_at"

    static func decodeUser(_ row: any SQLRow) throws -> User {
        User(
            id: try row.uuid("id"),
            username: try row.string("username"),
            displayName: try row.string("display_name"),
            email: try row.optionalString("email"),
            isAdmin: try row.bool("is_admin"),
            createdAt: try row.date("created_at")
        )
    }

    static func decodeToken(_ row: any SQLRow) throws -> APIToken {
        APIToken(
            id: try row.string("id"),
            userID: try row.uuid("user_id"),
            name: try row.string("name"),
            secretHash: try row.string("secret_hash"),
            createdAt: try row.date("created_at"),
            expiresAt: try row.optionalDate("expires_at"),
            revokedAt: try row.optionalDate("revoked_at")
        )
    }

    static func decodeOrganization(_ row: any SQLRow) throws -> Organization {
        Organization(
            id: try row.uuid("id"),
            name: try row.string("name"),
            displayName: try row.string("display_name"),
            createdAt: try row.date("created_at")
        )
    }

    /// Claims `name` in the shared owner namespace.
    static func claimOwnerName(_ name: String, kind: String, in database: any SQLDatabase) async throws {
        try await database.change(
            "INSERT INTO owners (name, kind) VALUES (\(bind: name), \(bind: kind))",
            unique: .conflict("the name '\(name)' is already taken by a user or organisation", field: "name")
        )
    }

    // MARK: Users

    public func createUser(_ user: User) async throws {
        try await self.write("creating user \(user.username)") { database in
            try await Self.claimOwnerName(user.username, kind: "user", in: database)
            try await database.change(
                """
                INSERT INTO users (id, username, display_name, email, is_admin, created_at) VALUES (
                    \(bind: SQLValues.text(user.id)), \(bind: user.username), \(bind: user.displayName),
                    \(bind: user.email), \(bind: SQLValues.flag(user.isAdmin)),
                    \(bind: SQLValues.microseconds(user.createdAt))
                )
                """,
                unique: .conflict("a user with id \(user.id) already exists", field: "id")
            )
        }
    }

    public func user(id: UUID) async throws -> User? {
        try await self.read("reading user \(id)") { database in
            try await database.row(
                "SELECT \(Self.userColumns) FROM users u WHERE u.id = \(bind: SQLValues.text(id))"
            ).map(Self.decodeUser)
        }
    }

    public func user(named username: String) async throws -> User? {
        try await self.read("reading user \(username)") { database in
            try await database.row(
                "SELECT \(Self.userColumns) FROM users u WHERE u.username = \(bind: username)"
            ).map(Self.decodeUser)
        }
    }

    public func listUsers(page: PageRequest) async throws -> Page<User> {
        try await self.read("listing users") { database in
            let total = try await database.count("SELECT COUNT(*) AS total FROM users")
            let users = try await database.rows(
                "SELECT \(Self.userColumns) FROM users u ORDER BY u.username\(SQLQueryString.limit(page))"
            ).map(Self.decodeUser)
            return Page(items: users, total: total, request: page)
        }
    }

    public func hasAdministrator() async throws -> Bool {
        try await self.read("looking for an administrator") { database in
            try await database.row("SELECT id FROM users WHERE is_admin = 1 LIMIT 1") != nil
        }
    }

    // MARK: Tokens

    public func createToken(_ token: APIToken) async throws {
        try await self.write("creating API token \(token.name)") { database in
            try await database.change(
                """
                INSERT INTO api_tokens (id, user_id, name, secret_hash, created_at, expires_at, revoked_at) VALUES (
                    \(bind: token.id), \(bind: SQLValues.text(token.userID)), \(bind: token.name),
                    \(bind: token.secretHash), \(bind: SQLValues.microseconds(token.createdAt)),
                    \(bind: token.expiresAt.map(SQLValues.microseconds)), \(bind: token.revokedAt.map(SQLValues.microseconds))
                )
                """,
                unique: .conflict("an API token with id \(token.id) already exists", field: "id"),
                missing: .notFound("user \(token.userID) does not exist")
            )
        }
    }

    public func token(id: String) async throws -> APIToken? {
        try await self.read("reading an API token") { database in
            try await database.row("SELECT * FROM api_tokens WHERE id = \(bind: id)").map(Self.decodeToken)
        }
    }

    public func listTokens(userID: UUID) async throws -> [APIToken] {
        try await self.read("listing API tokens") { database in
            try await database.rows(
                """
                SELECT * FROM api_tokens WHERE user_id = \(bind: SQLValues.text(userID))
                ORDER BY created_at DESC, id DESC
                """
            ).map(Self.decodeToken)
        }
    }

    public func revokeToken(id: String, at date: Date) async throws {
        try await self.write("revoking an API token") { database in
            let row = try await database.row(
                """
                UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, \(bind: SQLValues.microseconds(date)))
                WHERE id = \(bind: id) RETURNING id
                """
            )
            guard row != nil else { throw RegistryError.notFound("API token \(id) does not exist") }
        }
    }

    // MARK: Organisations

    public func createOrganization(_ organization: Organization, owner: UUID) async throws {
        try await self.write("creating organisation \(organization.name)") { database in
            try await Self.claimOwnerName(organization.name, kind: "organization", in: database)
            try await database.change(
                """
                INSERT INTO organizations (id, name, display_name, created_at) VALUES (
                    \(bind: SQLValues.text(organization.id)), \(bind: organization.name),
                    \(bind: organization.displayName), \(bind: SQLValues.microseconds(organization.createdAt))
                )
                """,
                unique: .conflict("an organisation with id \(organization.id) already exists", field: "id")
            )
            try await database.change(
                """
                INSERT INTO memberships (organization_id, user_id, role) VALUES (
                    \(bind: SQLValues.text(organization.id)), \(bind: SQLValues.text(owner)), \(bind: Role.owner.rawValue)
                )
                """,
                missing: .notFound("user \(owner) does not exist")
            )
        }
    }

    public func organization(named name: String) async throws -> Organization? {
        try await self.read("reading organisation \(name)") { database in
            try await database.row("SELECT * FROM organizations WHERE name = \(bind: name)")
                .map(Self.decodeOrganization)
        }
    }

    public func listOrganizations(memberID: UUID?) async throws -> [Organization] {
        try await self.read("listing organisations") { database in
            if let memberID {
                return try await database.rows(
                    """
                    SELECT o.* FROM organizations o
                    JOIN memberships m ON m.organization_id = o.id
                    WHERE m.user_id = \(bind: SQLValues.text(memberID))
                    ORDER BY o.name
                    """
                ).map(Self.decodeOrganization)
            }
            return try await database.rows("SELECT * FROM organizations ORDER BY name").map(Self.decodeOrganization)
        }
    }

    /// The number of owners of an organisation.
    private static func ownerCount(organizationID: UUID, in database: any SQLDatabase) async throws -> Int {
        try await database.count(
            """
            SELECT COUNT(*) AS total FROM memberships
            WHERE organization_id = \(bind: SQLValues.text(organizationID)) AND role = \(bind: Role.owner.rawValue)
            """
        )
    }

    /// A member's current role, if any.
    private static func currentRole(
        organizationID: UUID,
        userID: UUID,
        in database: any SQLDatabase
    ) async throws -> Role? {
        try await database.row(
            """
            SELECT role FROM memberships
            WHERE organization_id = \(bind: SQLValues.text(organizationID)) AND user_id = \(bind: SQLValues.text(userID))
            """
        ).map { try $0.enumeration("role", as: Role.self) }
    }

    public func setMembership(organizationID: UUID, userID: UUID, role: Role) async throws {
        try await self.write("changing a membership") { database in
            if role != .owner,
                try await Self.currentRole(organizationID: organizationID, userID: userID, in: database) == .owner,
                try await Self.ownerCount(organizationID: organizationID, in: database) <= 1
            {
                throw RegistryError.conflict(
                    "user \(userID) is the organisation's last owner; make another member owner first",
                    field: "role"
                )
            }
            try await database.change(
                """
                INSERT INTO memberships (organization_id, user_id, role) VALUES (
                    \(bind: SQLValues.text(organizationID)), \(bind: SQLValues.text(userID)), \(bind: role.rawValue)
                ) ON CONFLICT (organization_id, user_id) DO UPDATE SET role = excluded.role
                """,
                missing: .notFound("organisation \(organizationID) or user \(userID) does not exist")
            )
        }
    }

    public func removeMembership(organizationID: UUID, userID: UUID) async throws {
        try await self.write("removing a membership") { database in
            guard let role = try await Self.currentRole(organizationID: organizationID, userID: userID, in: database)
            else {
                throw RegistryError.notFound("user \(userID) is not a member of organisation \(organizationID)")
            }
            if role == .owner, try await Self.ownerCount(organizationID: organizationID, in: database) <= 1 {
                throw RegistryError.conflict(
                    "user \(userID) is the organisation's last owner; make another member owner first"
                )
            }
            try await database.change(
                """
                DELETE FROM memberships
                WHERE organization_id = \(bind: SQLValues.text(organizationID)) AND user_id = \(bind: SQLValues.text(userID))
                """
            )
        }
    }

    public func memberships(organizationID: UUID) async throws -> [Membership] {
        try await self.read("listing members") { database in
            try await database.rows(
                """
                SELECT m.organization_id, m.user_id, m.role, u.username FROM memberships m
                JOIN users u ON u.id = m.user_id
                WHERE m.organization_id = \(bind: SQLValues.text(organizationID))
                ORDER BY u.username
                """
            ).map { row in
                Membership(
                    organizationID: try row.uuid("organization_id"),
                    userID: try row.uuid("user_id"),
                    username: try row.string("username"),
                    role: try row.enumeration("role", as: Role.self)
                )
            }
        }
    }

    public func role(userID: UUID, inOrganization organization: String) async throws -> Role? {
        try await self.read("reading a role") { database in
            try await database.row(
                """
                SELECT m.role FROM memberships m JOIN organizations o ON o.id = m.organization_id
                WHERE o.name = \(bind: organization) AND m.user_id = \(bind: SQLValues.text(userID))
                """
            ).map { try $0.enumeration("role", as: Role.self) }
        }
    }

    public func isOwnerNameTaken(_ name: String) async throws -> Bool {
        try await self.read("looking up owner name \(name)") { database in
            try await database.row("SELECT name FROM owners WHERE name = \(bind: name)") != nil
        }
    }
}
