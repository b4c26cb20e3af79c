import Foundation
import Hummingbird
import SlipwayRegistry

/// Users, API tokens and organisations.
struct UsersController {
    let registry: Registry

    func register(on api: RouterGroup<SlipwayRequestContext>) {
        api.get("users/me") { request, _ in
            let user = try self.registry.currentUser(try await self.registry.principal(for: request))
            return try Wire.json(UserDTO(user))
        }
        api.get("users") { request, _ in
            let page = try await self.registry.listUsers(
                page: try Wire.pageRequest(request),
                by: try await self.registry.principal(for: request)
            )
            return try Wire.page(page, request: request, map: UserDTO.init)
        }
        api.post("users") { request, _ in
            var request = request
            let principal = try await self.registry.principal(for: request)
            let (body, _) = try await Wire.decode(CreateUser.self, from: &request, allowed: CreateUser.fields)
            let (user, token) = try await self.registry.createUser(
                username: body.username,
                displayName: body.displayName ?? "",
                email: body.email,
                isAdmin: body.isAdmin ?? false,
                by: principal
            )
            return try Wire.json(
                CreatedUser(user: UserDTO(user), token: TokenDTO(token.value, secret: token.secret)),
                status: .created
            )
        }
        api.get("users/me/tokens") { request, _ in
            let tokens = try await self.registry.listTokens(by: try await self.registry.principal(for: request))
            return try Wire.json(tokens.map { TokenDTO($0) })
        }
        api.post("users/me/tokens") { request, _ in
            var request = request
            let principal = try await self.registry.principal(for: request)
            let (body, _) = try await Wire.decode(CreateToken.self, from: &request, allowed: CreateToken.fields)
            var expiresAt: Date?
            if let days = body.expiresInDays {
                guard (1...3650).contains(days) else {
                    throw APIError.invalid("expires_in_days", "expires_in_days must be between 1 and 3650")
                }
                expiresAt = Date().addingTimeInterval(Double(days) * 86_400)
            }
            let token = try await self.registry.createToken(name: body.name, expiresAt: expiresAt, by: principal)
            return try Wire.json(TokenDTO(token.value, secret: token.secret), status: .created)
        }
        api.delete("users/me/tokens/:id") { request, context in
            try await self.registry.revokeToken(
                id: try context.parameters.require("id"),
                by: try await self.registry.principal(for: request)
            )
            return Response(status: .noContent)
        }

        api.get("orgs") { request, _ in
            let organizations = try await self.registry.listOrganizations(by: try await self.registry.principal(for: request))
            return try Wire.json(organizations.map(OrganizationDTO.init))
        }
        api.post("orgs") { request, _ in
            var request = request
            let principal = try await self.registry.principal(for: request)
            let (body, _) = try await Wire.decode(CreateOrganization.self, from: &request, allowed: CreateOrganization.fields)
            let organization = try await self.registry.createOrganization(
                name: body.name,
                displayName: body.displayName ?? "",
                by: principal
            )
            return try Wire.json(OrganizationDTO(organization), status: .created)
        }
        api.get("orgs/:org") { request, context in
            let (organization, _) = try await self.registry.organization(
                named: try context.parameters.require("org"),
                by: try await self.registry.principal(for: request)
            )
            return try Wire.json(OrganizationDTO(organization))
        }
        api.get("orgs/:org/members") { request, context in
            let members = try await self.registry.members(
                of: try context.parameters.require("org"),
                by: try await self.registry.principal(for: request)
            )
            return try Wire.json(members.map { MemberDTO(username: $0.username, role: $0.role) })
        }
        api.put("orgs/:org/members/:username") { request, context in
            var request = request
            let principal = try await self.registry.principal(for: request)
            let (body, _) = try await Wire.decode(SetMember.self, from: &request, allowed: SetMember.fields)
            let member = try await self.registry.setMember(
                try context.parameters.require("username"),
                role: body.role,
                in: try context.parameters.require("org"),
                by: principal
            )
            return try Wire.json(MemberDTO(username: member.username, role: member.role))
        }
        api.delete("orgs/:org/members/:username") { request, context in
            try await self.registry.removeMember(
                try context.parameters.require("username"),
                from: try context.parameters.require("org"),
                by: try await self.registry.principal(for: request)
            )
            return Response(status: .noContent)
        }
    }

    struct CreateUser: Decodable {
        var username: String
        var displayName: String?
        var email: String?
        var isAdmin: Bool?
        static let fields: Set<String> = ["username", "display_name", "email", "is_admin"]
        enum CodingKeys: String, CodingKey {
            case username, displayName = "display_name", email, isAdmin = "is_admin"
        }
    }

    struct CreatedUser: Encodable {
        var user: UserDTO
        var token: TokenDTO
    }

    struct CreateToken: Decodable {
        var name: String
        var expiresInDays: Int?
        static let fields: Set<String> = ["name", "expires_in_days"]
        enum CodingKeys: String, CodingKey { case name, expiresInDays = "expires_in_days" }
    }

    struct CreateOrganization: Decodable {
        var name: String
        var displayName: String?
        static let fields: Set<String> = ["name", "display_name"]
        enum CodingKeys: String, CodingKey { case name, displayName = "display_name" }
    }

    struct SetMember: Decodable {
        var role: Role
        static let fields: Set<String> = ["role"]
    }
}
