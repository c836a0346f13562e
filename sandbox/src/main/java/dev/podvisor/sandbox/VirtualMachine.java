package dev.podvisor.sandbox;

import dev.podvisor.hypervisor.HypervisorSettings;
import dev.podvisor.hypervisor.VmConfigs;
import dev.podvisor.hypervisor.clh.CloudHypervisorClient;
import dev.podvisor.hypervisor.clh.CloudHypervisorProcess;
import dev.podvisor.hypervisor.clh.DiskConfig;
import dev.podvisor.hypervisor.clh.TapNic;
import dev.podvisor.hypervisor.clh.PciDeviceInfo;
import dev.podvisor.hypervisor.clh.PciPaths;
import dev.podvisor.hypervisor.virtiofs.Virtiofsd;
import dev.podvisor.hypervisor.vsock.HybridVsock;
import dev.podvisor.sandbox.config.AgentConfig;
import dev.podvisor.sandbox.log.LogfmtLog;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * One pod's VM: its virtiofsd processes and its cloud-hypervisor process, started in Kata's order (virtiofsd
 * first, then the VMM, {@code vm.create}, {@code vm.boot}), plus disk hot-plug and the agent's hybrid vsock.
 */
public final class VirtualMachine {

    private final Path vmDir;
    private final HypervisorSettings settings;
    private final CloudHypervisorProcess vmm;
    private final List<Virtiofsd> virtiofsds;
    private final LogfmtLog log;
    private final Duration processStart;

    private VirtualMachine(Path vmDir, HypervisorSettings settings, CloudHypervisorProcess vmm,
                           List<Virtiofsd> virtiofsds, Duration processStart, LogfmtLog log) {
        this.processStart = processStart;
        this.vmDir = vmDir;
        this.settings = settings;
        this.vmm = vmm;
        this.virtiofsds = virtiofsds;
        this.log = log;
    }

    /**
     * A disk attached to the VM.
     *
     * @param id      Cloud Hypervisor's device id (for {@code vm.remove-device})
     * @param pciPath the guest PCI path the agent resolves ({@code DD}), from the {@code 0000:00:DD.0} BDF
     */
    public record AttachedDisk(String id, String pciPath) {
    }

    /**
     * Starts virtiofsd for the {@code kataShared} device over {@code sharedDir}, then the VMM, and boots the VM.
     *
     * @throws IOException when a process cannot start or the VMM refuses a call; what started is stopped
     */
    /**
     * An extra virtio-fs device: its tag, its virtiofsd arguments (they replace {@code virtio_fs_extra_args},
     * and a {@code --cache} among them replaces {@code virtio_fs_cache}) and the directory it serves.
     */
    public record ExtraFsDevice(String tag, List<String> virtiofsdArgs, Path sharedDir) {
    }

    /** Like {@link #start(HypervisorSettings, Path, Path, List, LogfmtLog)} without extra devices. */
    public static VirtualMachine start(HypervisorSettings settings, Path vmDir, Path sharedDir, LogfmtLog log)
            throws IOException {
        return start(settings, vmDir, sharedDir, List.of(), log);
    }

    /**
     * Like {@link #start(HypervisorSettings, Path, Path, List, List, Duration, LogfmtLog)} without NICs, the
     * processes' start bounded by Kata's default {@code dial_timeout}.
     */
    public static VirtualMachine start(HypervisorSettings settings, Path vmDir, Path sharedDir,
                                       List<ExtraFsDevice> extraDevices, LogfmtLog log) throws IOException {
        return start(settings, vmDir, sharedDir, extraDevices, List.of(),
                Duration.ofSeconds(AgentConfig.DEFAULT_DIAL_TIMEOUT_SECONDS), log);
    }

    /**
     * Starts one virtiofsd per virtio-fs device — {@code kataShared} over {@code sharedDir} and each extra
     * device over its own directory — and, meanwhile, the VMM, and boots the VM with every device cold-plugged, as Kata
     * does for {@code kataShared}. NICs are cold-plugged as Kata's runtimes do (Cloud Hypervisor takes no fds
     * on {@code vm.create}): {@code vm.create} without nets, one {@code vm.add-net} per NIC with its tap fds,
     * then {@code vm.boot}.
     *
     * @param processStart how long each virtiofsd and the VMM may take to listen ({@link StartTimeouts})
     * @throws IOException when a process cannot start or the VMM refuses a call; what started is stopped
     */
    public static VirtualMachine start(HypervisorSettings settings, Path vmDir, Path sharedDir,
                                       List<ExtraFsDevice> extraDevices, List<TapNic> nics, Duration processStart,
                                       LogfmtLog log)
            throws IOException {
        List<Virtiofsd> virtiofsds = new ArrayList<>();
        CloudHypervisorProcess vmm = null;
        // the VMM starts while the virtiofsds do (Kata Go launches cloud-hypervisor and pings it meanwhile too):
        // each takes a process start; only vm.create needs them all
        FutureTask<CloudHypervisorProcess> vmmStart = new FutureTask<>(() -> CloudHypervisorProcess.start(
                CloudHypervisorProcess.Options.forSandbox(settings, vmDir).withStartTimeout(processStart)));
        Thread.ofVirtual().name("vmm-start").start(vmmStart);
        try {
            Path fsSocket = VmConfigs.virtiofsdSocket(vmDir, VmConfigs.KATA_SHARED_TAG);
            Virtiofsd virtiofsd = Virtiofsd.start(Virtiofsd.Options.of(settings, fsSocket, sharedDir,
                    vmDir.resolve("virtiofsd-" + VmConfigs.KATA_SHARED_TAG + ".log")).withStartTimeout(processStart));
            virtiofsds.add(virtiofsd);
            log.info("virtiofsd started", "pid", virtiofsd.pid(), "argv", String.join(" ", virtiofsd.argv()));
            java.util.Map<String, Path> fsSockets = new java.util.LinkedHashMap<>();
            fsSockets.put(VmConfigs.KATA_SHARED_TAG, fsSocket);
            for (ExtraFsDevice device : extraDevices) {
                Virtiofsd extra = Virtiofsd.start(extraDeviceOptions(settings, vmDir, device).withStartTimeout(processStart));
                virtiofsds.add(extra);
                fsSockets.put(device.tag(), extra.socketPath());
                log.info("virtiofsd started", "tag", device.tag(), "pid", extra.pid(), "argv", String.join(" ", extra.argv()));
            }
            vmm = await(vmmStart);
            log.info("cloud-hypervisor started", "pid", vmm.pid(), "argv", String.join(" ", vmm.argv()));
            CloudHypervisorClient api = vmm.client();
            List<Optional<PciDeviceInfo>> added = api.createAndBoot(VmConfigs.forSandbox(settings, vmDir, fsSockets), nics);
            for (int i = 0; i < nics.size(); i++) {
                log.info("nic added", "mac", nics.get(i).config().mac(), "fds", nics.get(i).tapFds().length,
                        "pci_path", added.get(i).map(info -> PciPaths.fromBdf(info.bdf())).orElse("(cold plug)"));
            }
            log.info("vm booted", "state", api.info().state());
            return new VirtualMachine(vmDir, settings, vmm, new java.util.concurrent.CopyOnWriteArrayList<>(virtiofsds),
                    processStart, log);
        } catch (IOException | RuntimeException e) {
            if (vmm == null) {
                vmm = awaitQuietly(vmmStart); // a VMM that did start must not outlive the failed boot
            }
            if (vmm != null) {
                vmm.close();
            }
            virtiofsds.forEach(Virtiofsd::close);
            throw e;
        }
    }

    /** The VMM started on its own thread, or that start's IOException / RuntimeException. */
    private static CloudHypervisorProcess await(FutureTask<CloudHypervisorProcess> start) throws IOException {
        try {
            return start.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            start.cancel(true);
            throw new InterruptedIOException("interrupted while cloud-hypervisor started");
        } catch (ExecutionException e) {
            switch (e.getCause()) {
                case IOException io -> throw io;
                case RuntimeException re -> throw re;
                case Error error -> throw error;
                default -> throw new IOException(e.getCause());
            }
        }
    }

    /** After another step failed: the VMM if its start succeeded (to be stopped), else null. */
    private static CloudHypervisorProcess awaitQuietly(FutureTask<CloudHypervisorProcess> start) {
        try {
            return start.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            start.cancel(true); // an interrupted start kills what it launched
            return null;
        } catch (ExecutionException e) {
            return null;
        }
    }

    /**
     * Adds an extra virtio-fs device (Podvisor's {@code extra_virtiofs}): its own virtiofsd over
     * {@code sharedDir} with its own arguments (which replace {@code virtio_fs_extra_args}), hot-plugged with
     * {@code vm.add-fs}, tag = {@code name}.
     *
     * @throws IllegalArgumentException when the device's socket path would not fit a unix socket address
     * @throws java.io.UncheckedIOException when virtiofsd or the hot-plug fails; the virtiofsd started is stopped
     */
    public void addVirtiofsDevice(String name, List<String> virtiofsdArgs, Path sharedDir) {
        String tooLong = SocketPathLimit.tooLong(VmConfigs.virtiofsdSocket(vmDir, name));
        if (tooLong != null) {
            throw new IllegalArgumentException("adding virtio-fs device " + name + ": " + tooLong);
        }
        Virtiofsd virtiofsd = null;
        try {
            virtiofsd = Virtiofsd.start(extraDeviceOptions(settings, vmDir, new ExtraFsDevice(name, virtiofsdArgs, sharedDir))
                    .withStartTimeout(processStart));
            virtiofsds.add(virtiofsd);
            vmm.client().addFs(dev.podvisor.hypervisor.clh.FsConfig.of(name, virtiofsd.socketPath().toString(),
                    settings.virtioFsQueueSize()));
            log.info("virtio-fs device hot-plugged", "tag", name, "pid", virtiofsd.pid(), "argv", String.join(" ", virtiofsd.argv()));
        } catch (IOException e) {
            if (virtiofsd != null) {
                virtiofsd.stop(Duration.ofSeconds(2));
                virtiofsds.remove(virtiofsd);
            }
            throw new UncheckedIOException("adding virtio-fs device " + name + ": " + e.getMessage(), e);
        }
    }

    /** Whether a virtiofsd for {@code tag} runs (the device is attached). */
    public boolean hasVirtiofsDevice(String tag) {
        Path socket = VmConfigs.virtiofsdSocket(vmDir, tag);
        return virtiofsds.stream().anyMatch(v -> v.socketPath().equals(socket));
    }

    /**
     * How the shim launches an extra device's virtiofsd: the configured binary in its style, socket
     * {@code <vm dir>/virtiofsd-<tag>.sock}, the device's directory, and the device's arguments after the style's
     * own; a {@code --cache} among them replaces {@code virtio_fs_cache} (a C-style device's {@code -o cache=}
     * stays among its arguments: the C daemon takes the last).
     */
    public static Virtiofsd.Options extraDeviceOptions(HypervisorSettings settings, Path vmDir, ExtraFsDevice device) {
        Path socket = VmConfigs.virtiofsdSocket(vmDir, device.tag());
        Virtiofsd.Options defaults = Virtiofsd.Options.of(settings, socket, device.sharedDir(),
                vmDir.resolve("virtiofsd-" + device.tag() + ".log"));
        List<String> args = new ArrayList<>();
        String cache = defaults.cache();
        List<String> given = device.virtiofsdArgs();
        for (int i = 0; i < given.size(); i++) {
            String arg = given.get(i);
            if (arg.startsWith("--cache=")) {
                cache = arg.substring("--cache=".length());
            } else if (arg.equals("--cache") && i + 1 < given.size()) {
                cache = given.get(++i);
            } else {
                args.add(arg);
            }
        }
        return new Virtiofsd.Options(defaults.binary(), socket, device.sharedDir(), cache, args,
                defaults.outputFile(), defaults.startTimeout(), defaults.style());
    }

    public long vmmPid() {
        return vmm.pid();
    }

    public List<Long> virtiofsdPids() {
        return virtiofsds.stream().map(Virtiofsd::pid).toList();
    }

    /**
     * Connects to the guest's vsock {@code port} through Cloud Hypervisor's hybrid vsock socket, retrying until
     * {@code timeout} (Kata: {@code dial_timeout}).
     */
    public SocketChannel dialAgent(int port, Duration timeout) throws IOException {
        return HybridVsock.dial(vmDir.resolve(VmConfigs.VSOCK_SOCKET), port, timeout);
    }

    /** Hot-plugs a virtio-blk disk backed by {@code path} (a block device or an image file). */
    public AttachedDisk attachDisk(Path path, boolean readOnly) {
        try {
            PciDeviceInfo info = vmm.client().addDisk(DiskConfig.blockDevice(path.toString(), readOnly, 1, 128));
            AttachedDisk disk = new AttachedDisk(info.id(), PciPaths.fromBdf(info.bdf()));
            log.info("disk attached", "path", path, "id", disk.id(), "pci_path", disk.pciPath(), "readonly", readOnly);
            return disk;
        } catch (IOException e) {
            throw new UncheckedIOException("vm.add-disk " + path + ": " + e.getMessage(), e);
        }
    }

    /**
     * Hot-plugs a NIC into the running VM ({@code vm.add-net} with its tap fds; Kata Go
     * {@code hotplugAddNetDevice}).
     *
     * @return the guest PCI path from the answer's {@code bdf} (the agent's {@code Interface.devicePath}), or
     *         empty when Cloud Hypervisor answered 204 (the VM was not booted: cold plug)
     */
    public Optional<String> addNic(TapNic nic) {
        try {
            Optional<String> pciPath = vmm.client().addNet(nic.config(), nic.tapFds())
                    .map(info -> PciPaths.fromBdf(info.bdf()));
            log.info("nic hot-plugged", "mac", nic.config().mac(), "pci_path", pciPath.orElse("(cold plug)"));
            return pciPath;
        } catch (IOException e) {
            throw new UncheckedIOException("vm.add-net " + nic.config().mac() + ": " + e.getMessage(), e);
        }
    }

    /** Hot-unplugs a device by its Cloud Hypervisor id. */
    public void detach(String deviceId) {
        try {
            removeDevice(deviceId);
        } catch (IOException e) {
            throw new UncheckedIOException("vm.remove-device " + deviceId + ": " + e.getMessage(), e);
        }
    }

    /**
     * {@code PUT vm.remove-device {"id": deviceId}}.
     *
     * @throws dev.podvisor.hypervisor.clh.CloudHypervisorApiException when Cloud Hypervisor refuses (404 for an id
     *                                                                 it does not know, 500 otherwise)
     * @throws IOException                                             when the VMM cannot be reached
     */
    public void removeDevice(String deviceId) throws IOException {
        vmm.client().removeDevice(deviceId);
    }

    /** Whether the VMM process still runs. */
    public boolean isAlive() {
        return vmm.isAlive();
    }

    /**
     * Stops the VM's processes: {@link #stopVmm}, then {@link #stopVirtiofsds}. Safe to call more than once.
     */
    public void stop() {
        stopVmm();
        stopVirtiofsds();
    }

    /**
     * Shuts the VMM down ({@link CloudHypervisorProcess#shutdown}: {@code vmm.shutdown}, SIGKILL once answered, else
     * after 3 s, Kata Go's {@code clhStopSandboxTimeout}; at once when it is already dead).
     */
    public void stopVmm() {
        if (!vmm.shutdown(vmm.isAlive() ? Duration.ofSeconds(3) : Duration.ZERO)) {
            log.warn("cloud-hypervisor did not shut down cleanly; killed", "pid", vmm.pid());
        }
    }

    /**
     * Stops every virtiofsd with SIGKILL and reaps it, as Kata Go does ({@code virtiofsd.go Stop}: {@code
     * syscall.Kill(pid, SIGKILL)}): a virtiofsd keeps no state to flush, and it exits anyway once its VMM is
     * gone. Call after {@link #stopVmm}, never while the VM may still use its vhost-user devices.
     */
    public void stopVirtiofsds() {
        virtiofsds.forEach(Virtiofsd::kill);
    }
}
