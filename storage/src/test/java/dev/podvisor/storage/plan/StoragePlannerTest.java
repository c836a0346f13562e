package dev.podvisor.storage.plan;

import static dev.podvisor.storage.plan.Fixture.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.podvisor.storage.host.FsProbe;
import dev.podvisor.storage.host.RecordedHostFacts;
import dev.podvisor.storage.spec.OciMount;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StoragePlannerTest {

    private static GuestStorage storageAt(StoragePlan plan, String mountPoint) {
        return plan.storages().stream().filter(s -> s.mountPoint().equals(mountPoint)).findFirst()
                .orElseThrow(() -> new AssertionError("no storage at " + mountPoint + ": " + plan.storages()));
    }

    private static GuestStorage sandboxShm(StoragePlan plan) {
        return plan.sandboxStorages().stream().filter(s -> s.mountPoint().equals(GuestPaths.SHM)).findFirst().orElseThrow();
    }

    @Test
    void ruleOrderIsTheDocumentedOne() {
        assertEquals(List.of("dev-shm", "declared-volume", "emptydir-tmpfs", "emptydir-hugetlbfs", "emptydir-disk",
                "direct-volume", "host-block-device", "special-volume", "bind-share", "passthrough"), StoragePlanner.RULE_IDS);
    }

    @Test
    void devShmTakesTheHostTmpfsSize() {
        StoragePlan plan = plan(node().build(), bind("/dev/shm", SHM));
        MountDecision d = only(plan);
        assertEquals("dev-shm", d.rule());
        assertEquals(MountKind.GUEST_TMPFS, d.kind());
        assertEquals(128 * MIB, d.sizeBytes());
        assertTrue(d.reason().contains("is a tmpfs of 128 MiB"), d.reason());
        GuestStorage shm = sandboxShm(plan);
        assertEquals(List.of("noexec", "nosuid", "nodev", "mode=1777", "size=" + 128 * MIB), shm.options());
        assertEquals(128 * MIB, shm.sizeBytes());
        OciMount g = plan.guestMounts().getFirst();
        assertEquals(GuestPaths.SHM, g.source());
        assertEquals(List.of("rbind"), g.options());
    }

    @Test
    void devShmDefaultsTo64MiB() {
        StoragePlan plan = plan(node().build(), new OciMount("/dev/shm", "tmpfs", "shm", List.of("nosuid", "noexec")));
        assertEquals(64 * MIB, only(plan).sizeBytes());
        assertEquals(64 * MIB, sandboxShm(plan).sizeBytes());
        StoragePlan sized = plan(node().build(), new OciMount("/dev/shm", "tmpfs", "shm", List.of("size=65536k")));
        assertEquals(64 * MIB, only(sized).sizeBytes());
        StoragePlan none = plan(node().build(), new OciMount("/proc", "proc", "proc", List.of()));
        assertEquals(64 * MIB, sandboxShm(none).sizeBytes());
    }

    @Test
    void devShmWinsOverBindShareButAMemoryEmptyDirAtDevShmKeepsItsOwnSize() {
        MountDecision host = only(plan(node().build(), bind("/dev/shm", DATA)));
        assertEquals("dev-shm", host.rule());
        assertTrue(host.reason().contains("is not a tmpfs; default size 64 MiB"), host.reason());
        RecordedHostFacts facts = node().mountInfo("110 20 0:90 / " + EMPTY + "/dshm rw - tmpfs tmpfs rw,size=1048576k")
                .tmpfs(EMPTY + "/dshm", 1L << 30).build();
        StoragePlan plan = plan(facts, bind("/dev/shm", EMPTY + "/dshm"));
        MountDecision d = only(plan);
        assertEquals("emptydir-tmpfs", d.rule());
        assertEquals(1L << 30, d.sizeBytes());
        assertEquals(GuestPaths.EPHEMERAL + "/dshm", d.guestPath());
    }

    @Test
    void memoryEmptyDirWithSizeBecomesGuestTmpfsOfThatSize() {
        StoragePlan plan = plan(node().build(), bind("/cache", CACHE));
        MountDecision d = only(plan);
        assertEquals("emptydir-tmpfs", d.rule());
        assertEquals(MountKind.GUEST_TMPFS, d.kind());
        assertEquals(64 * MIB, d.sizeBytes());
        assertEquals(GuestPaths.EPHEMERAL + "/cache", d.guestPath());
        assertTrue(d.reason().contains("a tmpfs of 64 MiB; guest tmpfs of the same size"), d.reason());
        GuestStorage s = storageAt(plan, GuestPaths.EPHEMERAL + "/cache");
        assertEquals("ephemeral", s.driver());
        assertEquals("tmpfs", s.fstype());
        assertEquals(List.of("fsgid=2000"), s.options());
        assertEquals(64 * MIB, s.sizeBytes());
        assertTrue(plan.hostActions().stream().noneMatch(a -> a instanceof HostAction.ShareBind sb && sb.source().equals(CACHE)),
                "a memory emptyDir is never shared from the host");
        assertEquals(StorageScope.POD, d.scope(), "the guest tmpfs lives as long as the pod");
        assertTrue(s.shared(), "Storage.shared: the agent keeps it when its containers are removed");
    }

    @Test
    void memoryEmptyDirSubPathLandsInTheSameGuestTmpfs() {
        StoragePlan plan = plan(node().build(), bind("/cache", CACHE), bind("/etc/app", CACHE_SUBPATH));
        MountDecision sub = plan.mounts().get(1);
        assertEquals("emptydir-tmpfs", sub.rule());
        assertEquals(GuestPaths.EPHEMERAL + "/cache/sub", sub.guestPath());
        assertEquals(64 * MIB, sub.sizeBytes());
        assertEquals(GuestPaths.EPHEMERAL + "/cache/sub", plan.guestMounts().get(1).source());
        assertEquals(2, plan.storages().size(), "one guest tmpfs for the volume and its subPath, and the sub-directory: " + plan.storages());
        assertEquals("ephemeral", plan.storages().get(0).driver());
        GuestStorage dir = plan.storages().get(1);
        assertEquals("local", dir.driver(), "the guest tmpfs is fresh: the agent makes kubelet's sub-directory in it");
        assertEquals(GuestPaths.EPHEMERAL + "/cache/sub", dir.mountPoint());
        assertEquals(List.of("mode=02770", "fsgid=2000"), dir.options(), "the host sub-directory's mode and group");
        assertTrue(sub.reason().contains("subPath"), sub.reason());
        assertEquals(StorageScope.POD, sub.scope());
        assertTrue(plan.storages().stream().allMatch(GuestStorage::shared), "the sub-directory is not removed with a container");
    }

    @Test
    void subPathOnAnotherDeviceIsNotTakenForTheEmptyDir() {
        RecordedHostFacts facts = node().mountInfo("105 20 0:77 / " + POD + "/volume-subpaths/cache/app/2 rw - tmpfs tmpfs rw").build();
        MountDecision d = only(plan(facts, bind("/x", POD + "/volume-subpaths/cache/app/2")));
        assertEquals("bind-share", d.rule());
    }

    @Test
    void diskEmptyDirIsSharedNeverGuestRam() {
        StoragePlan plan = plan(node().build(), bind("/scratch", SCRATCH), bind("/logs", SCRATCH_SUBPATH));
        for (MountDecision d : plan.mounts()) {
            assertEquals("emptydir-disk", d.rule());
            assertEquals(MountKind.VIRTIO_FS, d.kind());
            assertEquals(GuestPaths.KATA_SHARED, d.device());
            assertEquals(0, d.sizeBytes());
        }
        assertTrue(plan.storages().isEmpty());
        // the volume's own bind is held by the pod; the subPath bind (kubelet makes it per container) is not
        assertTrue(plan.hostActions().contains(new HostAction.ShareBind(GuestPaths.KATA_SHARED,
                PlanBuilder.shareName(SCRATCH, false), SCRATCH, false, true, StorageScope.POD)));
        assertEquals(StorageScope.POD, plan.mounts().get(0).scope());
        assertEquals(StorageScope.CONTAINER, plan.mounts().get(1).scope());
    }

    @Test
    void diskEmptyDirBlockPlainUsesASparseDisk() {
        PlannerSettings s = new PlannerSettings(EmptyDirMode.BLOCK_PLAIN, false, Map.of(), List.of());
        StoragePlan plan = StoragePlanner.plan(input(s, Map.of(), spec(bind("/scratch", SCRATCH)), List.of()), node().build());
        MountDecision d = only(plan);
        assertEquals(MountKind.VIRTIO_BLK, d.kind());
        assertEquals("disk0", d.device());
        assertEquals(new DiskAttachment("disk0", SCRATCH + "/disk.img", false, DiskAttachment.DiskType.VIRTIO_BLK,
                StorageScope.POD), plan.disks().getFirst());
        assertEquals(StorageScope.POD, d.scope());
        assertTrue(plan.hostActions().contains(new HostAction.CreateSparseFile(SCRATCH + "/disk.img", 100L << 30)));
        GuestStorage st = storageAt(plan, d.guestPath());
        assertEquals(List.of("create_filesystem"), st.driverOptions());
        assertEquals("ext4", st.fstype());
        assertTrue(st.shared());
        assertEquals("03", st.resolve(id -> "03").source());
        PlanException e = assertThrows(PlanException.class, () -> StoragePlanner.plan(
                input(s, Map.of(), spec(bind("/logs", SCRATCH_SUBPATH)), List.of()), node().build()));
        assertTrue(e.getMessage().contains("block-plain"), e.getMessage());
        // an image an earlier sandbox of the pod formatted keeps its data: no create_filesystem
        StoragePlan again = StoragePlanner.plan(input(s, Map.of(), spec(bind("/scratch", SCRATCH)), List.of()),
                node().regularFile(SCRATCH + "/disk.img", 100L << 30, 8, 1)
                        .filesystem(SCRATCH + "/disk.img", new FsProbe("ext", false)).build());
        assertEquals(List.of(), storageAt(again, only(again).guestPath()).driverOptions());
    }

    @Test
    void hugetlbfsEmptyDirTakesPageSizeFromHostAndSizeFromOci() {
        StoragePlan plan = StoragePlanner.plan(input(spec(List.of(bind("/huge", HUGE)), 8 * MIB)), node().build());
        MountDecision d = only(plan);
        assertEquals("emptydir-hugetlbfs", d.rule());
        assertEquals(MountKind.GUEST_HUGETLBFS, d.kind());
        assertEquals(8 * MIB, d.sizeBytes());
        GuestStorage s = storageAt(plan, GuestPaths.EPHEMERAL + "/huge");
        assertEquals("hugetlbfs", s.fstype());
        assertEquals("nodev", s.source());
        assertEquals(List.of("pagesize=" + 2 * MIB, "size=" + 8 * MIB), s.options());
        assertTrue(s.shared());
        assertEquals(StorageScope.POD, d.scope());
        PlanException e = assertThrows(PlanException.class, () -> plan(node().build(), bind("/huge", HUGE)));
        assertTrue(e.getMessage().contains("hugepageLimits"), e.getMessage());
        assertEquals("emptydir-hugetlbfs", e.rule(), "the refusing rule, for the plan-error metric");
    }

    @Test
    void declaredMemoryVolumeWinsAndItsSizeIsUsed() {
        String ann = "{\"cache\":{\"kind\":\"emptyDir\",\"medium\":\"Memory\",\"sizeLimit\":\"32Mi\"}}";
        StoragePlan plan = StoragePlanner.plan(input(PlannerSettings.defaults(), Map.of(DeclaredVolume.ANNOTATION, ann),
                spec(bind("/cache", CACHE), bind("/etc/app", CACHE_SUBPATH)), List.of()), node().build());
        for (MountDecision d : plan.mounts()) {
            assertEquals("declared-volume", d.rule());
            assertEquals(MountKind.GUEST_TMPFS, d.kind());
            assertEquals(32 * MIB, d.sizeBytes());
        }
        assertEquals(GuestPaths.EPHEMERAL + "/cache/sub", plan.mounts().get(1).guestPath());
    }

    @Test
    void declaredMemoryOnADiskDirectoryIsAnError() {
        String ann = "{\"scratch\":{\"kind\":\"emptyDir\",\"medium\":\"Memory\"}}";
        PlanException e = assertThrows(PlanException.class, () -> StoragePlanner.plan(input(PlannerSettings.defaults(),
                Map.of(DeclaredVolume.ANNOTATION, ann), spec(bind("/scratch", SCRATCH)), List.of()), node().build()));
        assertTrue(e.getMessage().contains("io.podvisor.volumes"), e.getMessage());
        assertTrue(e.getMessage().contains("'scratch'"), e.getMessage());
        assertTrue(e.getMessage().contains("not a tmpfs"), e.getMessage());
        assertEquals("declared-volume", e.rule());
    }

    @Test
    void declaredDiskAndMalformedDeclarations() {
        String ann = "{\"scratch\":{\"kind\":\"emptyDir\",\"medium\":\"disk\",\"sizeLimit\":1073741824}}";
        StoragePlan plan = StoragePlanner.plan(input(PlannerSettings.defaults(), Map.of(DeclaredVolume.ANNOTATION, ann),
                spec(bind("/scratch", SCRATCH)), List.of()), node().build());
        assertEquals("declared-volume", only(plan).rule());
        assertEquals(MountKind.VIRTIO_FS, only(plan).kind());
        for (String bad : List.of("[1]", "{\"v\":{\"kind\":\"hostPath\"}}", "{\"v\":{\"kind\":\"emptyDir\",\"medium\":\"Tape\"}}",
                "{\"v\":{\"kind\":\"emptyDir\",\"sizeLimit\":\"lots\"}}", "{\"v\":{\"kind\":\"emptyDir\",\"colour\":1}}")) {
            PlanException e = assertThrows(PlanException.class, () -> StoragePlanner.plan(input(PlannerSettings.defaults(),
                    Map.of(DeclaredVolume.ANNOTATION, bad), spec(), List.of()), node().build()), bad);
            assertTrue(e.getMessage().startsWith("annotation io.podvisor.volumes"), e.getMessage());
        }
        assertEquals(1536L * MIB, Quantity.parseBytes("1.5Gi"));
        assertEquals(1_000_000_000L, Quantity.parseBytes("1G"));
        assertEquals(1000L, Quantity.parseBytes("1e3"));
    }

    @Test
    void directVolumeDropsBindFromGuestOptions() {
        RecordedHostFacts facts = node().blockDevice("/dev/sdb", 8, 16, false)
                .directVolume(CSI, "{\"volume-type\":\"directvol\",\"device\":\"/dev/sdb\",\"fstype\":\"ext4\",\"options\":[\"bind\",\"rw\"],\"metadata\":{\"fsGroup\":\"3000\"}}")
                .build();
        StoragePlan plan = plan(facts, bind("/data", CSI));
        MountDecision d = only(plan);
        assertEquals("direct-volume", d.rule());
        assertEquals(MountKind.VIRTIO_BLK, d.kind());
        assertFalse(d.readOnly());
        GuestStorage s = storageAt(plan, d.guestPath());
        assertEquals(List.of("rw"), s.options());
        assertEquals("ext4", s.fstype());
        assertEquals(new GuestStorage.FsGroup(3000, false), s.fsGroup());
        assertEquals("disk:disk0", s.source());
        assertEquals(StorageScope.CONTAINER, d.scope(), "a block volume keeps its data on the device: container-scoped as in Kata");
        assertFalse(s.shared());
        assertEquals(new DiskAttachment("disk0", "/dev/sdb", false, DiskAttachment.DiskType.VIRTIO_BLK), plan.disks().getFirst());
        assertTrue(d.reason().contains("bind/rbind dropped"), d.reason());
    }

    @Test
    void directVolumeWithVolumeUnderscoreTypeIsANamedError() {
        RecordedHostFacts facts = node().blockDevice("/dev/sdb", 8, 16, false)
                .directVolume(CSI, "{\"volume_type\":\"directvol\",\"device\":\"/dev/sdb\",\"fstype\":\"ext4\"}").build();
        PlanException e = assertThrows(PlanException.class, () -> plan(facts, bind("/data", CSI)));
        assertTrue(e.getMessage().contains("'volume_type' is not valid; the key is 'volume-type'"), e.getMessage());
        assertTrue(e.getMessage().contains(CSI), e.getMessage());
    }

    @Test
    void directVolumeValidation() {
        Map<String, String> cases = Map.of(
                "{\"device\":\"/dev/sdb\",\"fstype\":\"ext4\"}", "key 'volume-type': missing",
                "{\"volume-type\":\"directvol\",\"fstype\":\"ext4\"}", "key 'device': missing",
                "{\"volume-type\":\"directvol\",\"device\":\"/dev/sdb\",\"fstype\":\"ext4\",\"extra\":1}", "key 'extra': unknown",
                "{\"volume-type\":\"directvol\",\"device\":\"/dev/sdb\",\"fstype\":\"ext4\",\"options\":\"rw\"}", "key 'options'",
                "{\"volume-type\":\"magic\",\"device\":\"/dev/sdb\",\"fstype\":\"ext4\"}", "key 'volume-type': 'magic'",
                "{\"volume-type\":\"directvol\",\"device\":\"/dev/nope\",\"fstype\":\"ext4\"}", "'/dev/nope' does not exist",
                "not json", "not JSON");
        cases.forEach((json, want) -> {
            RecordedHostFacts facts = node().blockDevice("/dev/sdb", 8, 16, false).directVolume(CSI, json).build();
            PlanException e = assertThrows(PlanException.class, () -> plan(facts, bind("/data", CSI)), json);
            assertTrue(e.getMessage().contains(want), e.getMessage() + " should contain " + want);
        });
        PlanException typed = assertThrows(PlanException.class,
                () -> plan(node().build(), new OciMount("/data", "directvol", CSI, List.of())));
        assertTrue(typed.getMessage().contains("no direct-volume mountInfo.json"), typed.getMessage());
    }

    @Test
    void aDirectVolumeNeverHandsDataToTheGuestToFormat() {
        String image = "/var/lib/volumes/disk.img";
        String imageJson = "{\"volume-type\":\"directvol\",\"device\":\"" + image + "\",\"fstype\":\"ext4\"}";
        // a plain host file without the declared file system (e.g. someone's data) is refused
        PlanException plain = assertThrows(PlanException.class, () -> plan(node().regularFile(image, 1 << 20, 8, 1)
                .directVolume(CSI, imageJson).build(), bind("/data", CSI)));
        assertTrue(plain.getMessage().contains("image file '" + image + "' does not hold a ext4 file system (none recognised)"),
                plain.getMessage());
        // an image that holds it is a disk
        StoragePlan ok = plan(node().regularFile(image, 1 << 20, 8, 1).filesystem(image, new FsProbe("ext", false))
                .directVolume(CSI, imageJson).build(), bind("/data", CSI));
        assertEquals(1, ok.disks().size());
        // createFilesystem on a block device holding something else is refused; a blank one is fine
        String create = "{\"volume-type\":\"directvol\",\"device\":\"/dev/sdb\",\"fstype\":\"ext4\",\"metadata\":{\"createFilesystem\":\"true\"}}";
        PlanException xfs = assertThrows(PlanException.class, () -> plan(node().blockDevice("/dev/sdb", 8, 16, false)
                .filesystem("/dev/sdb", new FsProbe("xfs", false)).directVolume(CSI, create).build(), bind("/data", CSI)));
        assertTrue(xfs.getMessage().contains("key 'metadata.createFilesystem': '/dev/sdb' holds a xfs file system"), xfs.getMessage());
        assertThrows(PlanException.class, () -> plan(node().blockDevice("/dev/sdb", 8, 16, false)
                .directVolume(CSI, create).build(), bind("/data", CSI)), "unknown data");
        StoragePlan blank = plan(node().blockDevice("/dev/sdb", 8, 16, false).filesystem("/dev/sdb", FsProbe.BLANK)
                .directVolume(CSI, create).build(), bind("/data", CSI));
        assertTrue(blank.storages().getFirst().driverOptions().contains("create_filesystem"));
        // a device that holds the file system already keeps its data: the guest is not asked to format it
        StoragePlan formatted = plan(node().blockDevice("/dev/sdb", 8, 16, false).filesystem("/dev/sdb", new FsProbe("ext", false))
                .directVolume(CSI, create).build(), bind("/data", CSI));
        assertEquals(List.of(), formatted.storages().getFirst().driverOptions(), "no create_filesystem for a device with ext4");
    }

    @Test
    void directVolumeOverSpdkSocketIsVhostUserBlk() {
        RecordedHostFacts facts = node().socket("/var/run/spdk/vhost1")
                .directVolume(CSI, "{\"volume-type\":\"spdkvol\",\"device\":\"spdk:///var/run/spdk/vhost1\",\"fstype\":\"xfs\"}").build();
        StoragePlan plan = plan(facts, bind("/data", CSI, "ro"));
        assertEquals(MountKind.VHOST_USER_BLK, only(plan).kind());
        assertEquals(DiskAttachment.DiskType.VHOST_USER_BLK, plan.disks().getFirst().type());
        assertTrue(plan.disks().getFirst().readOnly());
        assertEquals(List.of("ro"), storageAt(plan, only(plan).guestPath()).options());
        RecordedHostFacts roInfo = node().blockDevice("/dev/sdb", 8, 16, false)
                .directVolume(CSI, "{\"volume-type\":\"directvol\",\"device\":\"/dev/sdb\",\"fstype\":\"ext4\",\"options\":[\"ro\"]}").build();
        StoragePlan ro = plan(roInfo, bind("/data", CSI));
        assertTrue(only(ro).readOnly());
        assertTrue(ro.guestMounts().getFirst().options().contains("ro"));
    }

    @Test
    void directVolumeIsDecidedBeforeHostBlockDevice() {
        RecordedHostFacts facts = node().blockDevice("/dev/sdc", 8, 32, false)
                .directVolume("/dev/sdc", "{\"volume-type\":\"directvol\",\"device\":\"/dev/sdc\",\"fstype\":\"xfs\"}").build();
        assertEquals("direct-volume", only(plan(facts, bind("/data", "/dev/sdc"))).rule());
    }

    @Test
    void readOnlyHostBlockDevice() {
        RecordedHostFacts facts = node().blockDevice("/dev/sdc", 8, 32, true).blockDevice("/dev/sdd", 8, 48, false).build();
        StoragePlan plan = plan(facts, bind("/blk", "/dev/sdc"), bind("/blk2", "/dev/sdd"));
        MountDecision ro = plan.mounts().get(0);
        assertEquals("host-block-device", ro.rule());
        assertEquals(MountKind.VIRTIO_BLK, ro.kind());
        assertTrue(ro.readOnly());
        assertTrue(ro.reason().contains("BLKROGET"), ro.reason());
        assertTrue(plan.disks().get(0).readOnly());
        assertTrue(plan.guestMounts().get(0).options().contains("ro"));
        assertFalse(plan.disks().get(1).readOnly());
        assertEquals("bind", storageAt(plan, ro.guestPath()).fstype());
        assertTrue(plan.hostActions().stream().noneMatch(a -> a instanceof HostAction.ShareBind s && s.source().startsWith("/dev")),
                "never mounted or shared on the host");
    }

    @Test
    void bindShareIsDeterministicAndReadOnlyGetsItsOwnBind() {
        StoragePlan plan = plan(node().build(), bind("/etc/hosts", HOSTS), bind("/data", DATA, "ro"), bind("/data2", DATA, "ro"));
        MountDecision hosts = plan.mounts().get(0);
        assertEquals("bind-share", hosts.rule());
        String name = PlanBuilder.shareName(HOSTS, false);
        assertTrue(name.matches("sandbox-[0-9a-f]{8}-hosts"), name);
        assertEquals(GuestPaths.SHARED_CONTAINERS + "/" + name, hosts.guestPath());
        assertTrue(plan.hostActions().contains(new HostAction.ShareBind(GuestPaths.KATA_SHARED, name, HOSTS, false, false)));
        String roName = PlanBuilder.shareName(DATA, true);
        assertTrue(roName.matches("sandbox-[0-9a-f]{8}-ro-data"), roName);
        assertEquals(1, plan.hostActions().stream().filter(a -> a instanceof HostAction.ShareBind s && s.source().equals(DATA)).count());
        assertTrue(plan.hostActions().contains(new HostAction.ShareBind(GuestPaths.KATA_SHARED, roName, DATA, true, true)));
        assertEquals(List.of("rbind", "rprivate", "ro"), plan.guestMounts().get(1).options());
        assertEquals(name, PlanBuilder.shareName(HOSTS, false), "stable across plans");
    }

    @Test
    void symlinkSourceIsSharedAsItsResolvedTarget() {
        RecordedHostFacts facts = node().symlink("/srv/link", "/etc/secret-dir").directory("/etc/secret-dir", 0, 8, 1)
                .symlink("/srv/up", "../etc").build();
        StoragePlan plan = plan(facts, bind("/a", "/srv/link"), bind("/b", "/srv/data/../up"));
        List<HostAction.ShareBind> shares = plan.hostActions().stream().filter(x -> x instanceof HostAction.ShareBind s && s.shareName().startsWith("sandbox-"))
                .map(HostAction.ShareBind.class::cast).toList();
        HostAction.ShareBind a = shares.get(0);
        assertEquals("/etc/secret-dir", a.source());
        assertTrue(plan.mounts().get(0).reason().contains("resolves to /etc/secret-dir"), plan.mounts().get(0).reason());
        HostAction.ShareBind b = shares.get(1);
        assertEquals("/etc", b.source());
        assertTrue(a.shareName().endsWith("-secret-dir"));
    }

    @Test
    void dotDotDestinationAndMissingSourceAreErrors() {
        PlanException e = assertThrows(PlanException.class, () -> plan(node().build(), bind("/data/../../etc", DATA)));
        assertTrue(e.getMessage().contains("'/data/../../etc'"), e.getMessage());
        PlanException missing = assertThrows(PlanException.class, () -> plan(node().build(), bind("/data", "/srv/nope")));
        assertTrue(missing.getMessage().contains("'/srv/nope' does not exist"), missing.getMessage());
    }

    @Test
    void passthroughForNonBindsSystemSourcesAndGuestDevices() {
        StoragePlan plan = plan(node().build(), new OciMount("/proc", "proc", "proc", List.of("nosuid")),
                new OciMount("/dev/pts", "devpts", "devpts", List.of()), bind("/sys/x", "/sys/fs/cgroup"),
                bind("/dev/fuse", "/dev/fuse"));
        for (MountDecision d : plan.mounts()) {
            assertEquals("passthrough", d.rule(), d.destination());
            assertEquals(MountKind.PASSTHROUGH, d.kind());
        }
        assertEquals(new OciMount("/proc", "proc", "proc", List.of("nosuid")), plan.guestMounts().getFirst());
    }

    @Test
    void extraVirtiofsAnnotationMustBeEnabled() {
        Map<String, String> ann = Map.of(PodStorageConfig.EXTRA_VIRTIOFS, "fast:-o cache=always --thread-pool-size=4");
        PlanException e = assertThrows(PlanException.class, () -> StoragePlanner.plan(
                input(PlannerSettings.defaults(), ann, spec(), List.of()), node().build()));
        assertTrue(e.getMessage().contains("not enabled"), e.getMessage());
        PlannerSettings enabled = new PlannerSettings(EmptyDirMode.SHARED_FS, false, Map.of(), List.of("extra_.*"));
        StoragePlan plan = StoragePlanner.plan(input(enabled, ann, spec(), List.of()), node().build());
        assertEquals(List.of(new VirtioFsDevice("fast", List.of("-o", "cache=always", "--thread-pool-size=4"), "/run/kata-containers/shared/fast")),
                plan.virtioFsDevices());
        assertTrue(plan.sandboxStorages().stream().anyMatch(s -> s.source().equals("fast") && s.driver().equals("virtio-fs")));
        PlanException bad = assertThrows(PlanException.class, () -> StoragePlanner.plan(
                input(enabled, Map.of(PodStorageConfig.EXTRA_VIRTIOFS, "nocolon"), spec(), List.of()), node().build()));
        assertTrue(bad.getMessage().contains("malformed entry 'nocolon'"), bad.getMessage());
        // issue 8, case 5: an annotation cannot pick virtiofsd's shared directory
        PlanException injected = assertThrows(PlanException.class, () -> StoragePlanner.plan(
                input(enabled, Map.of(PodStorageConfig.EXTRA_VIRTIOFS, "evil:--shared-dir=/"), spec(), List.of()), node().build()));
        assertEquals("annotation " + PodStorageConfig.EXTRA_VIRTIOFS + ": device 'evil': virtiofsd argument"
                + " '--shared-dir=/' is not allowed (the shim sets it)", injected.getMessage());
    }

    private static PlannerSettings withFastDevice() {
        return new PlannerSettings(EmptyDirMode.SHARED_FS, false, Map.of("fast", List.of("-o", "cache=always")), List.of());
    }

    @Test
    void specialVolumeGoesToItsDevice() {
        StoragePlan plan = StoragePlanner.plan(input(withFastDevice(), Map.of(PodStorageConfig.SPECIAL_VOLUMES, "fast:/data"),
                spec(bind("/data", DATA), bind("/etc/hosts", HOSTS)), List.of()), node().build());
        MountDecision d = plan.mounts().getFirst();
        assertEquals("special-volume", d.rule());
        assertEquals("fast", d.device());
        assertEquals("/run/kata-containers/shared/fast/" + PlanBuilder.shareName(DATA, false), d.guestPath());
        assertTrue(plan.hostActions().contains(new HostAction.ShareBind("fast", PlanBuilder.shareName(DATA, false), DATA, false, true)));
        assertEquals("bind-share", plan.mounts().get(1).rule());
    }

    @Test
    void specialVolumeErrors() {
        Map<String, String> cases = Map.of(
                "fast:/my-v0lumes/f00", "No virtiofs device was found for container special volume '/my-v0lumes/f00' (device 'fast')",
                "slow:/data", "unknown device 'slow'",
                "fast/data", "malformed entry 'fast/data'",
                "fast:/data;fast2:/data", "unknown device 'fast2'",
                "fast:data", "container path 'data'");
        cases.forEach((value, want) -> {
            PlanException e = assertThrows(PlanException.class, () -> StoragePlanner.plan(input(withFastDevice(),
                    Map.of(PodStorageConfig.SPECIAL_VOLUMES, value), spec(bind("/my-volume/foo", DATA), bind("/data", DATA)), List.of()),
                    node().build()), value);
            assertTrue(e.getMessage().contains(want), e.getMessage() + " should contain " + want);
            assertTrue(e.getMessage().contains(PodStorageConfig.SPECIAL_VOLUMES), e.getMessage());
        });
        PlannerSettings two = new PlannerSettings(EmptyDirMode.SHARED_FS, false,
                Map.of("fast", List.of("-o", "cache=always"), "slow", List.of("-o", "cache=never")), List.of());
        PlanException e = assertThrows(PlanException.class, () -> StoragePlanner.plan(input(two,
                Map.of(PodStorageConfig.SPECIAL_VOLUMES, "fast:/data;slow:/data"), spec(bind("/data", DATA)), List.of()), node().build()));
        assertTrue(e.getMessage().contains("sent to two devices"), e.getMessage());
    }

    @Test
    void sandboxBindMounts() {
        Map<String, String> ann = Map.of(PodStorageConfig.SANDBOX_BIND_MOUNTS, "fast:/srv/data@ro;/etc/hosts-dir");
        RecordedHostFacts facts = node().directory("/etc/hosts-dir", 0, 8, 1).build();
        PlannerSettings gated = new PlannerSettings(EmptyDirMode.SHARED_FS, false, withFastDevice().extraVirtiofs(),
                List.of("sandbox_bind_mounts"));
        PlanInput in = new PlanInput(gated, "sb1", "sb1", true, ann, spec(), List.of(), java.nio.file.Path.of(BUNDLE));
        StoragePlan plan = StoragePlanner.plan(in, facts);
        assertTrue(plan.hostActions().contains(new HostAction.ShareBind("fast", "sandbox-mounts/data", DATA, true, true)));
        assertTrue(plan.hostActions().contains(new HostAction.ShareBind(GuestPaths.KATA_SHARED, "sandbox-mounts/hosts-dir", "/etc/hosts-dir", true, true)));
        PlanException e = assertThrows(PlanException.class, () -> StoragePlanner.plan(new PlanInput(gated, "sb1", "sb1", true,
                Map.of(PodStorageConfig.SANDBOX_BIND_MOUNTS, "/srv/missing@ro"), spec(), List.of(), java.nio.file.Path.of(BUNDLE)), facts));
        assertTrue(e.getMessage().contains("'/srv/missing' does not exist"), e.getMessage());
        PlanException mode = assertThrows(PlanException.class, () -> StoragePlanner.plan(new PlanInput(gated, "sb1", "sb1", true,
                Map.of(PodStorageConfig.SANDBOX_BIND_MOUNTS, "/srv/data@rx"), spec(), List.of(), java.nio.file.Path.of(BUNDLE)), facts));
        assertTrue(mode.getMessage().contains("malformed entry '/srv/data@rx'"), mode.getMessage());
    }
}
