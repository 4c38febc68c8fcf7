import Foundation
import GRPCCore
import Logging
import ReshaprSyncProtocol

/// The gRPC service gateways (through reshapr-sync) talk to.
public struct GatewaySyncService: Reshapr_Gateway_V1_GatewaySync.ServiceProtocol {
    let store: Store
    let registry: GatewayRegistry
    let heartbeatInterval: Duration

    public init(store: Store, registry: GatewayRegistry, heartbeatInterval: Duration = .seconds(120)) {
        self.store = store
        self.registry = registry
        self.heartbeatInterval = heartbeatInterval
    }

    /// The token of the `authorization: Bearer ...` metadata, checked.
    func authenticate(_ metadata: Metadata) async throws(RPCError) -> APIToken {
        guard let header = metadata["authorization"].first(where: { _ in true }), case .string(let value) = header else {
            throw RPCError(code: .unauthenticated, message: "missing API token: send 'authorization: Bearer <token>'")
        }
        let token = value.hasPrefix("Bearer ") ? String(value.dropFirst(7)) : value
        let result: Result<APIToken, Store.TokenRejection>
        do {
            result = try await store.verifyToken(token)
        } catch {
            throw RPCError(code: .unavailable, message: "the control plane cannot check the API token now (its database does not answer); try again")
        }
        switch result {
        case .success(let token): return token
        case .failure(let rejection): throw RPCError(code: .unauthenticated, message: rejection.description)
        }
    }

    func session(_ id: String, token: APIToken) async throws(RPCError) -> GatewayInfo {
        let found: GatewayInfo?
        do {
            found = try await registry.session(id)
        } catch {
            throw RPCError(code: .unavailable, message: "cannot look the gateway session up; try again")
        }
        guard let info = found, info.orgID == token.orgID else {
            throw RPCError(code: .notFound, message: "unknown or expired gateway session; register again")
        }
        return info
    }

    public func register(
        request: ServerRequest<Reshapr_Gateway_V1_RegisterRequest>, context: ServerContext
    ) async throws -> ServerResponse<Reshapr_Gateway_V1_RegisterResponse> {
        let token = try await authenticate(request.metadata)
        let message = request.message
        guard !message.gatewayID.isEmpty else { throw RPCError(code: .invalidArgument, message: "gateway_id is required") }
        guard let organization = try await store.organization(id: token.orgID) else { throw RPCError(code: .notFound, message: "organization not found") }
        var groups = try await store.groups(of: organization).filter { $0.matches(message.labels) }
        // A token bound to a group registers only gateways that belong to it, and they get that
        // group alone: a token for env=dev cannot register as env=prod, or add labels to reach more.
        if let bound = token.gatewayGroupID {
            guard let group = try await store.group(bound, organization: organization) else {
                throw RPCError(code: .permissionDenied, message: "the API token's gateway group \(bound) no longer exists")
            }
            guard group.matches(message.labels) else {
                let wanted = group.labelMap.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                throw RPCError(
                    code: .permissionDenied,
                    message: "this API token is bound to gateway group \(group.name) (\(wanted)); the gateway's labels do not match it")
            }
            groups = [group]
        }
        let info = try await registry.register(
            gatewayID: message.gatewayID, token: token, labels: message.labels, fqdns: message.fqdns, groups: groups.map(\.name))
        var response = Reshapr_Gateway_V1_RegisterResponse()
        response.sessionID = info.sessionID
        response.organization = organization.name
        response.groups = groups.map { group in
            var g = Reshapr_Gateway_V1_GatewayGroup()
            g.id = group.id
            g.name = group.name
            g.labels = group.labelMap
            return g
        }
        response.heartbeatIntervalSeconds = heartbeatInterval.components.seconds
        return ServerResponse(message: response)
    }

    public func heartbeat(
        request: ServerRequest<Reshapr_Gateway_V1_HeartbeatRequest>, context: ServerContext
    ) async throws -> ServerResponse<Reshapr_Gateway_V1_HeartbeatResponse> {
        let token = try await authenticate(request.metadata)
        let message = request.message
        let info = try await session(message.sessionID, token: token)
        guard try await registry.heartbeat(info.sessionID, appliedRevision: message.appliedRevision) else {
            throw RPCError(code: .notFound, message: "unknown or expired gateway session; register again")
        }
        var response = Reshapr_Gateway_V1_HeartbeatResponse()
        response.revision = info.appliedRevision
        response.acknowledgedAtUnixMs = Int64(Date().timeIntervalSince1970 * 1000)
        return ServerResponse(message: response)
    }

    public func watch(
        request: ServerRequest<Reshapr_Gateway_V1_WatchRequest>, context: ServerContext
    ) async throws -> StreamingServerResponse<Reshapr_Gateway_V1_ConfigurationEvent> {
        let token = try await authenticate(request.metadata)
        let message = request.message
        let info = try await session(message.sessionID, token: token)
        guard let watch = try await registry.openStream(info) else {
            throw RPCError(code: .notFound, message: "unknown or expired gateway session; register again")
        }
        let registry = self.registry
        return StreamingServerResponse { writer in
            // The sync went away (its stream was reset, or its connection closed): gRPC does not
            // cancel this task, it says so here, and the stream must end for the task to end.
            try await withRPCCancellationHandler {
                for await event in watch.events {
                    try await writer.write(event)
                }
            } onCancelRPC: {
                watch.end()
            }
            // The stream ended because the gateway was removed (evicted, terminated, token
            // revoked), or because the control plane is shutting down.
            if (try? await registry.session(info.sessionID)) ?? nil == nil {
                throw RPCError(code: .notFound, message: "gateway session ended; register again")
            }
            throw RPCError(code: .unavailable, message: "the change stream was closed (control plane shutting down, or a newer Watch on this session); reconnect")
        }
    }

    public func terminate(
        request: ServerRequest<Reshapr_Gateway_V1_TerminateRequest>, context: ServerContext
    ) async throws -> ServerResponse<Reshapr_Gateway_V1_TerminateResponse> {
        let token = try await authenticate(request.metadata)
        let message = request.message
        let info = try await session(message.sessionID, token: token)
        try await registry.remove(info.sessionID, reason: "terminated: \(message.reason)")
        return ServerResponse(message: Reshapr_Gateway_V1_TerminateResponse())
    }
}
