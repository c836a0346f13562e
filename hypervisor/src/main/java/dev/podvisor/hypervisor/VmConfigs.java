package dev.podvisor.hypervisor;

import dev.podvisor.hypervisor.clh.ConsoleConfig;
import dev.podvisor.hypervisor.clh.ConsoleMode;
import dev.podvisor.hypervisor.clh.CpuTopology;
import dev.podvisor.hypervisor.clh.CpusConfig;
import dev.podvisor.hypervisor.clh.FsConfig;
import dev.podvisor.hypervisor.clh.MemoryConfig;
import dev.podvisor.hypervisor.clh.PayloadConfig;
import dev.podvisor.hypervisor.clh.PmemConfig;
import dev.podvisor.hypervisor.clh.RngConfig;
import dev.podvisor.hypervisor.clh.VmConfig;
import dev.podvisor.hypervisor.clh.VsockConfig;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Builds the {@code vm.create} body Kata sends for a sandbox, following Kata's Go runtime
 * ({@code src/runtime/virtcontainers/clh.go CreateVM}) and runtime-rs ({@code ch-config/src/convert.rs}):
 * kernel + cmdline + initramfs payload, or the image as a virtio-pmem device with {@code discard_writes};
 * boot vCPUs with the host's CPUs as ceiling and a flat topology; {@code memory.shared = true} (virtio-fs is
 * vhost-user); rng {@code /dev/urandom}; hybrid vsock cid 3 on {@code <vm dir>/clh.sock}; one FsConfig per
 * virtio-fs share; serial and console Off (serial on the VMM's stdout when debugging).
 *
 * <p>Left out on purpose: memory hot-plug size (Kata sizes it from the host's RAM), network devices (added
 * with {@code vm.add-net} between create and boot), confidential-guest options.
 */
public final class VmConfigs {
    /** The virtio-fs tag of the sandbox's share (Kata {@code kataShared}). */
    public static final String KATA_SHARED_TAG = "kataShared";
    /** Guest vsock context id (Kata {@code DEFAULT_VSOCK_CID}). */
    public static final long GUEST_CID = 3;
    /** Entropy source (Kata {@code DEFAULT_CH_ENTROPY_SOURCE}). */
    public static final String ENTROPY_SOURCE = "/dev/urandom";
    /** File name of the API socket under the VM directory. */
    public static final String API_SOCKET = "clh-api.sock";
    /** File name of the hybrid vsock socket under the VM directory. */
    public static final String VSOCK_SOCKET = "clh.sock";
    /** Kata's kernel parameters for Cloud Hypervisor ({@code clhKernelParams}). */
    public static final List<String> CLH_KERNEL_PARAMS = List.of("panic=1", "no_timer_check", "noreplace-smp");
    /** Kata's debug kernel parameters for Cloud Hypervisor ({@code clhDebugKernelParams} + common). */
    public static final List<String> CLH_DEBUG_KERNEL_PARAMS =
            List.of("console=ttyS0,115200n8", "systemd.log_target=console");
    /** Root parameters for an ext4 image on virtio-pmem, without DAX (Kata {@code GetKernelRootParams}). */
    public static final List<String> PMEM_ROOT_PARAMS =
            List.of("root=/dev/pmem0p1", "rootflags=data=ordered,errors=remount-ro ro", "rootfstype=ext4");

    private VmConfigs() {
    }

    /**
     * The {@code vm.create} body for a sandbox with the default share only: tag {@value #KATA_SHARED_TAG} served
     * by virtiofsd on {@code kataSharedSocket}.
     *
     * @param settings         the {@code [hypervisor.clh]} settings
     * @param vmDir            the sandbox's VM directory (holds {@value #VSOCK_SOCKET})
     * @param kataSharedSocket virtiofsd's socket for the {@code kataShared} share
     * @return the VM configuration
     */
    public static VmConfig forSandbox(HypervisorSettings settings, Path vmDir, Path kataSharedSocket) {
        return forSandbox(settings, vmDir, Map.of(KATA_SHARED_TAG, kataSharedSocket));
    }

    /**
     * The {@code vm.create} body for a sandbox with the given virtio-fs shares.
     *
     * @param settings  the {@code [hypervisor.clh]} settings
     * @param vmDir     the sandbox's VM directory (holds {@value #VSOCK_SOCKET})
     * @param fsSockets virtiofsd socket by tag, in device order (use an ordered map; with a plain map,
     *                  {@value #KATA_SHARED_TAG} comes first and the rest by tag)
     * @return the VM configuration
     * @throws IllegalArgumentException if a tag is empty or a socket missing
     */
    public static VmConfig forSandbox(HypervisorSettings settings, Path vmDir, Map<String, Path> fsSockets) {
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(vmDir, "vmDir");
        Objects.requireNonNull(fsSockets, "fsSockets");
        PayloadConfig payload = new PayloadConfig(settings.kernel().toString(), kernelCmdline(settings),
                settings.initrd() == null ? null : settings.initrd().toString(), null);
        int max = Math.max(settings.defaultVcpus(), Runtime.getRuntime().availableProcessors());
        CpusConfig cpus = new CpusConfig(settings.defaultVcpus(), max, new CpuTopology(1, max, 1, 1), null);
        MemoryConfig memory = MemoryConfig.of(settings.defaultMemoryMiB() * 1024L * 1024L, true);
        List<PmemConfig> pmem = settings.image() == null ? null
                : List.of(new PmemConfig(settings.image().toString(), null, null, true, null, null));
        List<FsConfig> fs = new ArrayList<>();
        for (var e : ordered(fsSockets).entrySet()) {
            if (e.getKey() == null || e.getKey().isEmpty()) {
                throw new IllegalArgumentException("virtio-fs share tag: missing");
            }
            if (e.getValue() == null) {
                throw new IllegalArgumentException("virtio-fs share '" + e.getKey() + "': socket missing");
            }
            fs.add(FsConfig.of(e.getKey(), e.getValue().toString(), settings.virtioFsQueueSize()));
        }
        ConsoleConfig serial = ConsoleConfig.of(settings.debug() ? ConsoleMode.TTY : ConsoleMode.OFF);
        ConsoleConfig console = ConsoleConfig.of(ConsoleMode.OFF);
        VsockConfig vsock = new VsockConfig(GUEST_CID, vmDir.resolve(VSOCK_SOCKET).toString(), null, null, null);
        return new VmConfig(payload, cpus, memory, null, fs.isEmpty() ? null : List.copyOf(fs), pmem,
                new RngConfig(ENTROPY_SOURCE, null), serial, console, null, vsock, null);
    }

    /**
     * The guest kernel command line as Kata's Go runtime builds it for Cloud Hypervisor: root parameters
     * (image boot only), {@link #CLH_KERNEL_PARAMS}, then {@link #CLH_DEBUG_KERNEL_PARAMS} when debugging or
     * {@code quiet} otherwise, then the configured {@code kernel_params}.
     *
     * @param settings the settings
     * @return the space-separated command line
     */
    public static String kernelCmdline(HypervisorSettings settings) {
        List<String> params = new ArrayList<>();
        if (settings.image() != null) {
            params.addAll(PMEM_ROOT_PARAMS);
        }
        params.addAll(CLH_KERNEL_PARAMS);
        if (settings.debug()) {
            params.addAll(CLH_DEBUG_KERNEL_PARAMS);
        } else {
            params.add("quiet");
        }
        if (!settings.kernelParams().isEmpty()) {
            params.add(settings.kernelParams());
        }
        return String.join(" ", params);
    }

    /**
     * The virtiofsd socket of a share, {@code <vm dir>/virtiofsd-<tag>.sock}.
     *
     * @param vmDir the VM directory
     * @param tag   the share's tag
     * @return the socket path
     */
    public static Path virtiofsdSocket(Path vmDir, String tag) {
        return vmDir.resolve("virtiofsd-" + tag + ".sock");
    }

    private static Map<String, Path> ordered(Map<String, Path> in) {
        if (in instanceof LinkedHashMap || in instanceof java.util.SortedMap || in.size() <= 1) {
            return in;
        }
        Map<String, Path> out = new LinkedHashMap<>();
        if (in.containsKey(KATA_SHARED_TAG)) {
            out.put(KATA_SHARED_TAG, in.get(KATA_SHARED_TAG));
        }
        in.keySet().stream().sorted().forEach(k -> out.putIfAbsent(k, in.get(k)));
        return out;
    }
}
