package dev.podvisor.it.snapshotter;

import dev.podvisor.it.snapshotter.api.Kind;
import dev.podvisor.protocols.containerd.types.Mount;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The proxy snapshotter's bookkeeping, on fake disks: parent chains, commit, remove and the gRPC codes. */
class SnapshotStoreTest {

    @TempDir
    Path dir;
    final FakeDisks disks = new FakeDisks();

    @Test
    void aChildStartsAsACopyOfItsCommittedParentAndCommitDetachesItsDevice() {
        try (SnapshotStore store = new SnapshotStore(dir, disks)) {
            List<Mount> base = store.create("l1", "", Map.of(), false);
            assertEquals(List.of(Mount.newBuilder().setType("ext4").setSource("/dev/loop0").addOptions("rw").build()), base);
            store.commit("layer1", "l1", Map.of("k", "v"));
            assertEquals(Map.of(), disks.attached, "commit detaches the device");
            Snapshot layer1 = store.stat("layer1");
            assertEquals(Kind.COMMITTED, layer1.kind());
            assertEquals(Map.of("k", "v"), layer1.labels());

            List<Mount> view = store.create("v", "layer1", Map.of(), true);
            assertEquals(List.of("ro"), view.getFirst().getOptionsList());
            store.create("c", "layer1", Map.of(), false);
            assertEquals("layer1", store.stat("c").parent());
            assertEquals(Kind.VIEW, store.stat("v").kind());
            assertEquals(Set.of(layer1.image()), Set.copyOf(disks.copiedFrom.values()), "children copy their parent's image");
            assertEquals(2, disks.attached.size());
            assertEquals(store.mounts("c"), store.mounts("c"));
            assertTrue(disks.attached.get(store.stat("v").device()).readOnly(), "a view's device is read-only");
        }
        assertEquals(Map.of(), disks.attached, "close detaches every device");
        assertEquals(List.of(), files(), "close deletes every image");
    }

    @Test
    void errorsCarryTheCodesContainerdMapsBack() {
        try (SnapshotStore store = new SnapshotStore(dir, disks)) {
            store.create("a", "", Map.of(), false);
            assertCode(Status.Code.ALREADY_EXISTS, () -> store.create("a", "", Map.of(), false));
            assertCode(Status.Code.NOT_FOUND, () -> store.create("b", "nope", Map.of(), false));
            assertCode(Status.Code.INVALID_ARGUMENT, () -> store.create("b", "a", Map.of(), false));
            assertCode(Status.Code.INVALID_ARGUMENT, () -> store.create("", "", Map.of(), false));
            assertCode(Status.Code.NOT_FOUND, () -> store.commit("x", "nope", Map.of()));
            assertCode(Status.Code.NOT_FOUND, () -> store.remove("nope"));
            assertCode(Status.Code.NOT_FOUND, () -> store.stat("nope"));
            assertCode(Status.Code.NOT_FOUND, () -> store.mounts("nope"));
            assertCode(Status.Code.NOT_FOUND, () -> store.usage("nope"));

            store.commit("A", "a", Map.of());
            assertCode(Status.Code.NOT_FOUND, () -> store.stat("a"));
            assertCode(Status.Code.FAILED_PRECONDITION, () -> store.mounts("A"));
            assertCode(Status.Code.FAILED_PRECONDITION, () -> store.commit("B", "A", Map.of()));
            store.create("c", "A", Map.of(), false);
            assertCode(Status.Code.ALREADY_EXISTS, () -> store.commit("A", "c", Map.of()));
            store.create("v", "A", Map.of(), true);
            assertCode(Status.Code.FAILED_PRECONDITION, () -> store.commit("V", "v", Map.of()));
            assertCode(Status.Code.FAILED_PRECONDITION, () -> store.remove("A"), "a parent cannot be removed");

            store.remove("c");
            store.remove("v");
            store.remove("A");
            assertEquals(List.of(), store.list());
            assertEquals(Map.of(), disks.attached);
            assertEquals(List.of(), files());
        }
    }

    @Test
    void aFailedAttachLeavesNoImageAndNoSnapshot() {
        disks.failAttach = true;
        try (SnapshotStore store = new SnapshotStore(dir, disks)) {
            assertCode(Status.Code.INTERNAL, () -> store.create("a", "", Map.of(), false));
            assertEquals(List.of(), store.list());
            assertEquals(List.of(), files());
        }
    }

    @Test
    void updateReplacesOrEditsLabelsByTheFieldMask() {
        try (SnapshotStore store = new SnapshotStore(dir, disks)) {
            store.create("a", "", Map.of("x", "1", "y", "2"), false);
            assertEquals(Map.of("x", "1", "y", "3"), store.update("a", Map.of("y", "3"), List.of("labels.y")).labels());
            assertEquals(Map.of("y", "3"), store.update("a", Map.of(), List.of("labels.x")).labels());
            assertEquals(Map.of("z", "0"), store.update("a", Map.of("z", "0"), List.of()).labels());
            assertCode(Status.Code.INVALID_ARGUMENT, () -> store.update("a", Map.of(), List.of("parent")));
            assertCode(Status.Code.NOT_FOUND, () -> store.update("nope", Map.of(), List.of()));
        }
    }

    private List<Path> files() {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void assertCode(Status.Code code, Executable call) {
        assertCode(code, call, "");
    }

    private static void assertCode(Status.Code code, Executable call, String message) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call, message);
        assertEquals(code, e.getStatus().getCode(), e.getMessage());
    }

    /** Files instead of filesystems, numbered names instead of loop devices. */
    static final class FakeDisks implements ImageDisks {
        record Attached(Path image, boolean readOnly) {
        }

        final Map<String, Attached> attached = new HashMap<>();
        final Map<Path, Path> copiedFrom = new HashMap<>();
        boolean failAttach;
        int next;

        @Override
        public void create(Path image) {
            write(image, "empty");
        }

        @Override
        public void copy(Path from, Path to) {
            copiedFrom.put(to, from);
            try {
                Files.copy(from, to);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public String attach(Path image, boolean readOnly) {
            if (failAttach) {
                throw new IllegalStateException("losetup: no free loop device");
            }
            String device = "/dev/loop" + next++;
            attached.put(device, new Attached(image, readOnly));
            return device;
        }

        @Override
        public void detach(String device) {
            if (attached.remove(device) == null) {
                throw new IllegalStateException("losetup -d " + device + ": not attached");
            }
        }

        @Override
        public long allocatedBytes(Path image) {
            return 4096;
        }

        private static void write(Path image, String text) {
            try {
                Files.writeString(image, text);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
