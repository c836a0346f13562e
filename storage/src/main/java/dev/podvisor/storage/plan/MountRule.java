package dev.podvisor.storage.plan;

import java.util.List;
import java.util.Optional;

/**
 * One row of the decision table (docs/storage.md, design storage-planner.md "Decisions"). The planner asks the
 * rules in {@link #ORDER}; the first that answers decides. The order is part of the contract.
 */
sealed interface MountRule permits DevShmRule, DeclaredVolumeRule, EmptyDirTmpfsRule, EmptyDirHugetlbfsRule,
        EmptyDirDiskRule, DirectVolumeRule, HostBlockDeviceRule, SpecialVolumeRule, BindShareRule, PassthroughRule {

    /** The rules, in decision order. */
    List<MountRule> ORDER = List.of(new DevShmRule(), new DeclaredVolumeRule(), new EmptyDirTmpfsRule(),
            new EmptyDirHugetlbfsRule(), new EmptyDirDiskRule(), new DirectVolumeRule(), new HostBlockDeviceRule(),
            new SpecialVolumeRule(), new BindShareRule(), new PassthroughRule());

    /** The stable rule id that appears in plans ({@code dev-shm}, {@code emptydir-tmpfs}, ...). */
    String id();

    /**
     * Decides {@code ctx}'s mount, or answers empty to let the next rule try.
     *
     * @throws PlanException when the mount matches this rule but cannot be planned
     */
    Optional<PlanBuilder.Placement> apply(MountContext ctx);
}
