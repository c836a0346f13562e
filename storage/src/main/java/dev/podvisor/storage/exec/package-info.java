/**
 * Executing and undoing a {@link dev.podvisor.storage.plan.StoragePlan} on the host.
 * {@link dev.podvisor.storage.exec.PlanExecutor} runs the host actions through
 * {@link dev.podvisor.storage.exec.MountOperations}, attaches disks through
 * {@link dev.podvisor.storage.exec.DiskAttacher}, keeps one host bind per source per sandbox
 * ({@link dev.podvisor.storage.exec.SandboxShares}) and one attachment per disk
 * ({@link dev.podvisor.storage.exec.SandboxDisks}), both ref-counted by container, and returns an
 * {@link dev.podvisor.storage.exec.ExecutionRecord} (Jackson-serializable) from which everything can be undone,
 * idempotently, also by another process after a crash.
 */
package dev.podvisor.storage.exec;
