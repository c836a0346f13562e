package dev.podvisor.storage.plan;

import java.util.Optional;

/** Rule 10: everything else (proc, sysfs, tmpfs, devpts, mqueue, cgroup, guest device binds) goes to the agent unchanged. */
final class PassthroughRule implements MountRule {

    @Override
    public String id() {
        return "passthrough";
    }

    @Override
    public Optional<PlanBuilder.Placement> apply(MountContext ctx) {
        var m = ctx.mount();
        String why = m.isBind()
                ? "bind of " + m.source() + " is served from the guest's own " + (m.source().startsWith("/dev") || ctx.destination().startsWith("/dev") ? "devices" : "system paths")
                : "type " + (m.type().isEmpty() ? "(none)" : m.type()) + " is mounted by the agent in the guest";
        MountDecision d = new MountDecision(ctx.destination(), m.source(), MountKind.PASSTHROUGH, "", 0, m.readOnly(), id(), why, m.source());
        return Optional.of(new PlanBuilder.Placement(d, m));
    }
}
