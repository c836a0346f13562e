package dev.podvisor.it;

import dev.podvisor.it.cri.CriClient;
import dev.podvisor.it.cri.api.Cri;
import dev.podvisor.it.support.Leftovers;
import dev.podvisor.it.support.PrivateContainerd;
import dev.podvisor.it.support.ShortDir;

import java.nio.file.Path;
import java.util.Collection;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A node for CRI tests: a private containerd with its CRI plugin and the kata runtime on the testbed
 * ({@link TestbedConfig}, with a short state directory: CRI sandbox ids have 64 characters), and a CRI client.
 * A test class starts one in {@code @BeforeAll} and closes it in {@code @AfterAll}; {@link #assertNothingLeftSince}
 * is the after-each check.
 */
final class CriNode implements AutoCloseable {

    private final ShortDir stateDir;
    private final PrivateContainerd containerd;
    private final CriClient cri;

    private CriNode(ShortDir stateDir, PrivateContainerd containerd, CriClient cri) {
        this.stateDir = stateDir;
        this.containerd = containerd;
        this.cri = cri;
    }

    /**
     * Starts containerd with the configuration written into {@code configDir}.
     *
     * @param stateStem the short state directory's name stem
     */
    static CriNode start(Path configDir, String stateStem) {
        ShortDir state = ShortDir.create(stateStem);
        try {
            PrivateContainerd containerd = PrivateContainerd.startCri(TestbedConfig.write(configDir, "", 30, state.path()));
            return new CriNode(state, containerd, CriClient.connect(containerd.address()));
        } catch (RuntimeException e) {
            state.close();
            throw e;
        }
    }

    /** The shim's state directory ({@code <state>/<sandbox id>} is a VM's directory). */
    Path stateDir() {
        return stateDir.path();
    }

    PrivateContainerd containerd() {
        return containerd;
    }

    CriClient cri() {
        return cri;
    }

    /**
     * Waits, bounded, for the new processes naming a marker to exit (containerd answers RemovePodSandbox before
     * the shim has exited), then asserts that nothing naming a marker is left and containerd has no sandbox and
     * no container.
     */
    void assertNothingLeftSince(Leftovers.Snapshot before, Collection<String> markers) {
        for (Leftovers.ProcessEntry p : Leftovers.take().processes()) {
            String text = p.cmdline() + " " + p.ttrpcAddress();
            if (!before.processes().contains(p) && markers.stream().anyMatch(text::contains)) {
                ProcessHandle.of(p.pid()).ifPresent(h -> {
                    try {
                        h.onExit().get(15, TimeUnit.SECONDS);
                    } catch (Exception stillRunning) {
                        // reported by the leftover check
                    }
                });
            }
        }
        Leftovers.assertNothingNewSince(before, markers);
        assertEquals(0, cri.runtime().listPodSandbox(Cri.ListPodSandboxRequest.getDefaultInstance()).getItemsCount(),
                "no sandbox left in containerd");
        assertEquals(0, cri.runtime().listContainers(Cri.ListContainersRequest.getDefaultInstance()).getContainersCount(),
                "no container left in containerd");
    }

    @Override
    public void close() {
        try {
            cri.close();
        } finally {
            try {
                containerd.close();
            } finally {
                stateDir.close();
            }
        }
    }
}
