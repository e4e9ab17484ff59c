package dev.dmp.metrics;

import io.prometheus.client.Collector.MetricFamilySamples.Sample;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.List;

/**
 * A family's samples, {@code perRow} for each row, made when the exposition writer reads them rather
 * than kept: at 16,000 volumes a scrape would otherwise hold a million sample objects at once.
 */
final class SampleRows extends AbstractList<Sample> {
    interface Maker {
        /** Sample {@code k} (0 to perRow - 1) of row {@code row}. */
        Sample make(int row, int k);
    }

    private final List<?> rows;
    private final int perRow;
    private final Maker maker;

    SampleRows(List<?> rows, int perRow, Maker maker) {
        this.rows = rows;
        this.perRow = perRow;
        this.maker = maker;
    }

    @Override
    public Sample get(int index) {
        return maker.make(index / perRow, index % perRow);
    }

    @Override
    public int size() {
        return rows.size() * perRow;
    }

    /** The label names with {@code op} added, sorted as Micrometer sorts them. */
    static List<String> withOpName(List<String> labelNames) {
        List<String> names = new ArrayList<>(labelNames);
        names.add("op");
        names.sort(null);
        return List.copyOf(names);
    }

    /** The label values of {@code opLabelNames} order: {@code labelValues} with {@code op} in its place. */
    static List<String> withOp(List<String> opLabelNames, List<String> labelValues, String op) {
        List<String> v = new ArrayList<>(opLabelNames.size());
        int at = 0;
        for (String name : opLabelNames) {
            v.add(name.equals("op") ? op : labelValues.get(at++));
        }
        return v;
    }
}
