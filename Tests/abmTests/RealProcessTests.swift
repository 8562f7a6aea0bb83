import Testing

/// The suites that start real processes doing real work (the service under load, Prometheus and
/// Alertmanager, systemd in a container, fault injection) run one after another: on a 2-core machine,
/// several of them at once starve each other and the timing-sensitive tests elsewhere.
@Suite(.serialized) enum RealProcessTests {}
