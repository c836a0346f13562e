package dev.podvisor.storage.spec;

/**
 * One entry of {@code linux.resources.hugepageLimits}.
 *
 * @param pageSize   the page size as the spec writes it ({@code "2MB"}, {@code "1GB"}, {@code "64KB"})
 * @param limitBytes the limit in bytes
 */
public record HugepageLimit(String pageSize, long limitBytes) {

    /**
     * The page size in bytes ({@code KB}/{@code MB}/{@code GB} are powers of 1024, as in the cgroup file names).
     *
     * @throws OciSpecException when the page size is not {@code <n>KB|MB|GB}
     */
    public long pageSizeBytes() {
        String s = pageSize.trim().toUpperCase(java.util.Locale.ROOT);
        long unit;
        if (s.endsWith("KB")) {
            unit = 1024L;
        } else if (s.endsWith("MB")) {
            unit = 1024L * 1024;
        } else if (s.endsWith("GB")) {
            unit = 1024L * 1024 * 1024;
        } else {
            throw new OciSpecException("linux.resources.hugepageLimits pageSize '" + pageSize + "': not <n>KB|MB|GB");
        }
        try {
            return Long.parseLong(s.substring(0, s.length() - 2)) * unit;
        } catch (NumberFormatException e) {
            throw new OciSpecException("linux.resources.hugepageLimits pageSize '" + pageSize + "': not <n>KB|MB|GB", e);
        }
    }
}
