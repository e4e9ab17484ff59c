package dev.dmp.controller.metrics;

/**
 * Which latency and size histograms the controller exposes ({@code dmp.controller.metrics-histograms}).
 * A histogram is 50 series per operation, so per volume they cost a fleet of 1,000 hosts x 16 volumes
 * some 2.4 million series and a scrape of hundreds of MiB; per host, 150,000. See docs/controller.md.
 */
public enum HistogramScope {
    /** {@code dmp_host_request_*}: each host's volumes added up (the default). */
    HOST,
    /** Those, and {@code dmp_volume_request_*} per volume too: for small fleets. */
    VOLUME,
    /** None: the counters only. */
    OFF
}
