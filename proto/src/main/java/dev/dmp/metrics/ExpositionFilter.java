package dev.dmp.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.config.MeterFilterReply;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * Keeps both apps' {@code /q/metrics} clean under {@code promtool check metrics} (tests/test-prometheus.sh):
 * the meters that Quarkus and Micrometer register on their own and that the linter rejects are left
 * out or renamed. Netty's allocator and event-loop gauges have no help text (and say nothing about
 * dmp); {@code process.cpu.time} is in nanoseconds (an abbreviated unit: {@code process_cpu_usage}
 * stays); {@code system.cpu.count} ends in {@code _count}, which Prometheus reserves for histograms and
 * summaries, so it becomes {@code system_cpus}; and the gRPC meters' camelCase tag keys
 * ({@code statusCode}, {@code methodType}) become snake_case label names.
 */
@Singleton
public class ExpositionFilter {

    @Produces
    @Singleton
    public MeterFilter promtoolClean() {
        return new MeterFilter() {
            @Override
            public MeterFilterReply accept(Meter.Id id) {
                String name = id.getName();
                return name.startsWith("netty.") || name.equals("process.cpu.time")
                        ? MeterFilterReply.DENY
                        : MeterFilterReply.NEUTRAL;
            }

            @Override
            public Meter.Id map(Meter.Id id) {
                Meter.Id out = id.getName().equals("system.cpu.count") ? id.withName("system.cpus") : id;
                if (out.getTags().stream().anyMatch(t -> !t.getKey().equals(snakeCase(t.getKey())))) {
                    out = out.replaceTags(out.getTags().stream()
                            .map(t -> Tag.of(snakeCase(t.getKey()), t.getValue()))
                            .toList());
                }
                return out;
            }
        };
    }

    /** statusCode -> status_code. */
    static String snakeCase(String key) {
        return key.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(java.util.Locale.ROOT);
    }
}
