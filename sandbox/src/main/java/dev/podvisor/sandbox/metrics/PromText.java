package dev.podvisor.sandbox.metrics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The Prometheus text exposition format (version 0.0.4), as much of it as merging needs: a document is read
 * into metric families (the {@code # HELP} and {@code # TYPE} lines and the sample lines that follow them),
 * labels are added to every sample, and families of the same name from several documents are written back as
 * one family (the format allows one {@code # TYPE} per name and requires a family's samples to be contiguous).
 * Other comments and the OpenMetrics {@code # EOF} are dropped. Not thread-safe.
 */
public final class PromText {

    /** Content type of the text format (what Prometheus asks for and Kata answers). */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    /** One metric family: its help and type lines (may be null) and its samples, in order. */
    public static final class Family {
        final String name;
        String help;
        String type;
        final List<String> samples = new ArrayList<>();

        Family(String name) {
            this.name = name;
        }

        public String name() {
            return name;
        }

        public List<String> samples() {
            return samples;
        }
    }

    private final Map<String, Family> families = new LinkedHashMap<>();

    /**
     * Adds every family of {@code text}, with {@code labels} added to each sample (first in its label set),
     * and with family names mapped by {@code rename} (applied to the family name and the prefix of its sample
     * names).
     *
     * @param labels label name → value; names must be valid Prometheus label names
     */
    public PromText add(String text, Map<String, String> labels, UnaryOperator<String> rename) {
        String extra = renderLabels(labels);
        Family current = null;
        for (String line : text.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            if (line.startsWith("#")) {
                String[] parts = line.split(" ", 4);
                if (parts.length >= 3 && (parts[1].equals("HELP") || parts[1].equals("TYPE"))) {
                    String name = rename.apply(parts[2]);
                    current = families.computeIfAbsent(name, Family::new);
                    String rest = parts.length == 4 ? parts[3] : "";
                    if (parts[1].equals("HELP") && current.help == null) {
                        current.help = rest;
                    } else if (parts[1].equals("TYPE") && current.type == null) {
                        current.type = rest;
                    }
                }
                continue;
            }
            String sampleName = sampleName(line);
            String renamed = rename.apply(sampleName);
            // a family f has samples f, f_bucket, f_sum, f_count, f_total...; anything else starts a new one
            if (current == null || !renamed.startsWith(current.name)) {
                current = families.computeIfAbsent(renamed, Family::new);
            }
            current.samples.add(withLabels(renamed + line.substring(sampleName.length()), renamed.length(), extra));
        }
        return this;
    }

    /** Adds {@code text} with {@code labels} and no renaming. */
    public PromText add(String text, Map<String, String> labels) {
        return add(text, labels, UnaryOperator.identity());
    }

    /** The families read so far, in first-seen order. */
    public List<Family> families() {
        return List.copyOf(families.values());
    }

    /** The merged document: each family once, its help and type first, then all its samples. */
    public String render() {
        StringBuilder out = new StringBuilder(4096);
        for (Family family : families.values()) {
            if (family.help != null) {
                out.append("# HELP ").append(family.name).append(' ').append(family.help).append('\n');
            }
            if (family.type != null) {
                out.append("# TYPE ").append(family.name).append(' ').append(family.type).append('\n');
            }
            for (String sample : family.samples) {
                out.append(sample).append('\n');
            }
        }
        return out.toString();
    }

    /** The metric name at the start of a sample line. */
    static String sampleName(String line) {
        int end = 0;
        while (end < line.length() && line.charAt(end) != '{' && line.charAt(end) != ' ') {
            end++;
        }
        return line.substring(0, end);
    }

    /** Inserts {@code extra} (already rendered, without braces) as the first labels of the sample. */
    static String withLabels(String line, int nameEnd, String extra) {
        if (extra.isEmpty()) {
            return line;
        }
        String name = line.substring(0, nameEnd);
        String rest = line.substring(nameEnd);
        if (rest.startsWith("{")) {
            String inner = rest.substring(1);
            return name + "{" + extra + (inner.startsWith("}") ? "" : ",") + inner;
        }
        return name + "{" + extra + "}" + rest;
    }

    /** {@code a="x",b="y"} with values escaped as the format requires (backslash, quote, newline). */
    static String renderLabels(Map<String, String> labels) {
        StringBuilder out = new StringBuilder();
        for (var label : labels.entrySet()) {
            if (!out.isEmpty()) {
                out.append(',');
            }
            out.append(label.getKey()).append("=\"");
            String value = label.getValue();
            for (int i = 0; i < value.length(); i++) {
                char c = value.charAt(i);
                switch (c) {
                    case '\\' -> out.append("\\\\");
                    case '"' -> out.append("\\\"");
                    case '\n' -> out.append("\\n");
                    default -> out.append(c);
                }
            }
            out.append('"');
        }
        return out.toString();
    }
}
