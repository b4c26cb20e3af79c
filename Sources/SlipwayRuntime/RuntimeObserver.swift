import SlipwayRegistry

/// Told what the model host does, for metrics: each artifact load (with its time) and each verification outcome.
///
/// Set it in ``ModelHost/Configuration/observer``. Calls come from the host's tasks after the work is done and must
/// return at once (increment a counter, record a histogram), never wait.
public protocol RuntimeObserver: Sendable {
    /// A deployment's artifact was loaded into a session (`succeeded`) or could not be, after `seconds`.
    func didLoad(_ deployment: Deployment, seconds: Double, succeeded: Bool)
    /// A deployment's verification ended in `status` (`verified` or `failed`).
    func didVerify(_ deployment: Deployment, status: DeploymentStatus)
}

/// Tells several observers in turn.
public struct RuntimeObservers: RuntimeObserver {
    /// The observers, told in order.
    public var observers: [any RuntimeObserver]

    /// Creates a fan-out over `observers`.
    public init(_ observers: [any RuntimeObserver]) {
        self.observers = observers
    }

    public func didLoad(_ deployment: Deployment, seconds: Double, succeeded: Bool) {
        for observer in self.observers { observer.didLoad(deployment, seconds: seconds, succeeded: succeeded) }
    }

    public func didVerify(_ deployment: Deployment, status: DeploymentStatus) {
        for observer in self.observers { observer.didVerify(deployment, status: status) }
    }
}
