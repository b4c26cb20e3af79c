import Foundation
import Logging
import NIOPosix
import SlipwayInference
import SlipwayRegistry
import Synchronization

extension ModelHost {
    /// Queues a new deployment for verification by the service loop (the API calls it after a deploy; the loop
    /// also finds pending deployments itself). Queuing one already queued does nothing.
    public func verifySoon(_ deployment: Deployment) {
        guard deployment.status == .pending, self.configuration.verifiesDeployments else { return }
        let isNew = self.state.withLock { state in
            !state.isShutDown && state.verifying.insert(deployment.id).inserted
        }
        if isNew { self.verificationQueue.yield(deployment) }
    }

    /// Verifies a deployment now (see ``Verifier``) and records the result with its report through
    /// `Registry.recordVerification`. A verified deployment's session stays loaded, and when it asked to be
    /// activated on verification this process switches to it at once.
    ///
    /// - Returns: the deployment as recorded, or `nil` when another process recorded a result first.
    @discardableResult
    public func verify(_ deployment: Deployment) async throws -> Deployment? {
        let artifacts = self.registry.artifacts
        let outcome: Verifier.Outcome
        do {
            outcome = try await self.pool.runIfActive {
                Verifier.verify(deployment) { try artifacts.read(digest: deployment.artifactDigest) }
            }
        } catch is NIOThreadPoolError.ThreadPoolInactive {
            throw RuntimeError(.unavailable, "the server is shutting down")
        }
        let recorded: Deployment
        let activation: Activation?
        do {
            (recorded, activation) = try await self.registry.recordVerification(
                of: deployment,
                status: outcome.status,
                reason: outcome.reason,
                verification: outcome.report
            )
        } catch let error as RegistryError where error.code == .conflict || error.code == .notFound {
            // Another node verified it first, or it was deleted meanwhile.
            return nil
        }
        self.configuration.observer?.didVerify(recorded, status: outcome.status)
        self.logger.info(
            outcome.status == .verified ? "verified deployment" : "deployment failed verification",
            metadata: [
                "deployment.id": "\(deployment.id)", "model.version": "\(deployment.version)",
                "environment": "\(deployment.environmentName)", "reason": "\(outcome.reason ?? "")",
            ]
        )
        if let session = outcome.session {
            let loaded = self.makeLoadedSession(session, recorded)
            let bytes = self.estimatedBytes(session)
            let (waiters, evicted) = self.state.withLock { $0.machine.insert(recorded.id, loaded, bytes: bytes) }
            for waiter in waiters { waiter.resume(returning: loaded) }
            self.logEvictions(evicted)
        }
        if let activation { try await self.didActivate(activation) }
        return recorded
    }

    /// Verifies queued deployments one at a time until cancelled.
    func consumeVerifications() async {
        for await deployment in self.verifications {
            do {
                try await self.verify(deployment)
            } catch {
                self.logger.info(
                    "verification could not be recorded",
                    metadata: ["deployment.id": "\(deployment.id)", "error": "\(error)"]
                )
            }
            _ = self.state.withLock { $0.verifying.remove(deployment.id) }
        }
    }
}
