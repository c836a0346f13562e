/**
 * The storage planner. {@link dev.podvisor.storage.plan.StoragePlanner#plan} is a pure function of a
 * {@link dev.podvisor.storage.plan.PlanInput} and {@link dev.podvisor.storage.host.HostFacts}; it returns a
 * {@link dev.podvisor.storage.plan.StoragePlan}: one decision for the rootfs and for every OCI mount, each with the id of
 * the rule that decided and a reason built from the host facts, the devices to attach, the host actions, the agent
 * Storage templates and the guest view of the mounts. {@link dev.podvisor.storage.plan.PlanJson} and
 * {@link dev.podvisor.storage.plan.PlanTable} render plans. The decision table is in docs/storage.md.
 */
package dev.podvisor.storage.plan;
