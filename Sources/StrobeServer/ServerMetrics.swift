import Prometheus
import Synchronization

/// The server's Prometheus metrics, in a registry of its own (no global state, so several
/// servers can live in one process, as in the tests). `GET /metrics` emits them.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let queueDepth: Gauge
    private let running: Gauge
    private let images: Counter
    private let networkCalls: Counter
    private let requestBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
    ]

    init() {
        queueDepth = registry.makeGauge(descriptor: Self.name("queue_depth", "Requests waiting for the engine."))
        running = registry.makeGauge(descriptor: Self.name("running", "Requests the engine is running (0 or 1)."))
        images = registry.makeCounter(descriptor: Self.name("images_total", "Images made."))
        networkCalls = registry.makeCounter(descriptor: Self.name("network_calls_total", "Denoiser calls made."))
    }

    func setQueue(depth: Int, running count: Int) {
        queueDepth.set(Double(depth))
        running.set(Double(count))
    }

    func madeImages(_ count: Int) { images.increment(by: Int64(count)) }
    func madeCalls(_ count: Int) { networkCalls.increment(by: Int64(count)) }

    /// One answered request: counted by route pattern, method and status, timed by route.
    func request(route: String, method: String, status: Int, duration: Duration) {
        registry.makeCounter(
            descriptor: Self.name("http_requests_total", "HTTP requests answered."),
            labels: [("route", route), ("method", method), ("status", String(status))]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: Self.name("http_request_duration_seconds", "Time to the response head."),
            labels: [("route", route), ("method", method)], buckets: requestBuckets
        ).record(duration)
    }

    private static func name(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "strobe", metricName: name, unitName: "", helpText: help)
    }

    /// The Prometheus text exposition.
    func render() -> String { registry.emitToString() }
}
