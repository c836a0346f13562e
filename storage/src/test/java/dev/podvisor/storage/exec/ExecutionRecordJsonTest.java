package dev.podvisor.storage.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.podvisor.storage.exec.ExecutionRecord.Step;
import dev.podvisor.storage.json.JsonTrees;
import dev.podvisor.storage.json.TreeFields;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The execution record's JSON: databind's former shape, lossless, and clear errors for other shapes. */
class ExecutionRecordJsonTest {

    private static final ExecutionRecord EVERY_STEP = new ExecutionRecord("sb", "c1", List.of(
            new Step.RootfsMounted("/r/c1/rootfs"),
            new Step.ShareAcquired("kataShared", "c1-x-hosts", "/etc/hosts", true, false, false),
            new Step.MountPointCreated("kataShared", "c1/mnt"),
            new Step.SparseFileCreated("/e/disk.img", true),
            new Step.DiskAttached("d0", "/dev/loop7", false, "_disk0", null, true)));

    /** What ObjectMapper.writeValueAsString wrote for EVERY_STEP with the former @JsonTypeInfo annotations. */
    private static final String DATABIND_TEXT = "{\"sandboxId\":\"sb\",\"containerId\":\"c1\",\"steps\":["
            + "{\"step\":\"rootfs-mounted\",\"target\":\"/r/c1/rootfs\"},"
            + "{\"step\":\"share-acquired\",\"device\":\"kataShared\",\"shareName\":\"c1-x-hosts\",\"source\":\"/etc/hosts\","
            + "\"readOnly\":true,\"directory\":false,\"pod\":false},"
            + "{\"step\":\"mount-point-created\",\"device\":\"kataShared\",\"shareName\":\"c1/mnt\"},"
            + "{\"step\":\"sparse-file-created\",\"path\":\"/e/disk.img\",\"created\":true},"
            + "{\"step\":\"disk-attached\",\"planDiskId\":\"d0\",\"hostPath\":\"/dev/loop7\",\"readOnly\":false,"
            + "\"deviceId\":\"_disk0\",\"pciPath\":null,\"pod\":true}]}";

    @Test
    void everyStepIsWrittenAsDatabindDidAndReadsBackEqual() throws Exception {
        assertEquals(DATABIND_TEXT, JsonTrees.toString(EVERY_STEP.toJson(), false));
        assertEquals(EVERY_STEP, ExecutionRecord.fromJson(JsonTrees.parse(DATABIND_TEXT)));
    }

    @Test
    void keyOrderDoesNotMatterAndUnknownKeysAreIgnored() throws Exception {
        ExecutionRecord read = ExecutionRecord.fromJson(JsonTrees.parse("""
                {"steps": [{"created": false, "path": "/e/d.img", "step": "sparse-file-created", "size": 9}],
                 "containerId": "c2", "sandboxId": "sb", "later": 1}"""));
        assertEquals(new ExecutionRecord("sb", "c2", List.of(new Step.SparseFileCreated("/e/d.img", false))), read);
    }

    @Test
    void anUnknownStepNameIsNamedWithItsPlace() {
        var e = assertThrows(TreeFields.ShapeException.class, () -> ExecutionRecord.fromJson(JsonTrees.parse(
                "{\"sandboxId\":\"sb\",\"containerId\":\"c1\",\"steps\":[{\"step\":\"rootfs-mounted\",\"target\":\"/t\"},"
                        + "{\"step\":\"volume-grown\"}]}")));
        assertEquals("steps[1].step: unknown step name (known: rootfs-mounted, share-acquired, mount-point-created, "
                + "sparse-file-created, disk-attached), got \"volume-grown\"", e.getMessage());
    }

    @Test
    void aMissingKeyOrAWrongTypeIsNamed() {
        var missing = assertThrows(TreeFields.ShapeException.class, () -> ExecutionRecord.fromJson(JsonTrees.parse(
                "{\"sandboxId\":\"sb\",\"containerId\":\"c1\",\"steps\":[{\"step\":\"share-acquired\",\"device\":\"d\","
                        + "\"shareName\":\"s\",\"source\":\"/s\",\"readOnly\":true,\"directory\":true}]}")));
        assertEquals("steps[0].pod: missing", missing.getMessage());
        var wrongType = assertThrows(TreeFields.ShapeException.class, () -> ExecutionRecord.fromJson(JsonTrees.parse(
                "{\"sandboxId\":\"sb\",\"containerId\":\"c1\",\"steps\":[{\"step\":\"sparse-file-created\","
                        + "\"path\":\"/p\",\"created\":\"yes\"}]}")));
        assertEquals("steps[0].created: expected true or false, got \"yes\"", wrongType.getMessage());
        var notARecord = assertThrows(TreeFields.ShapeException.class,
                () -> ExecutionRecord.fromJson(JsonTrees.parse("[1,2]")));
        assertEquals("document: expected an object, got [1,2]", notARecord.getMessage());
        var noSteps = assertThrows(TreeFields.ShapeException.class, () -> ExecutionRecord.fromJson(JsonTrees.parse(
                "{\"sandboxId\":\"sb\",\"containerId\":\"c1\",\"steps\":{}}")));
        assertEquals("steps: expected an array, got {}", noSteps.getMessage());
    }
}
