package dev.podvisor.it;

import dev.podvisor.it.cri.CriClient;
import dev.podvisor.it.support.PrivateContainerd;
import dev.podvisor.it.support.ShortDir;

import java.nio.file.Path;
import java.util.List;

/**
 * A node for CRI tests: a private containerd ({@link PrivateContainerd#startCri}) whose kata runtime uses a
 * testbed configuration written for this node (the shim's state dir short enough for CRI's 64-character ids,
 * see {@link TestbedConfig#write(Path, String, int, Path)}), and a {@link CriClient} connected to it.
 * {@link #close()} closes the client, stops containerd (with its leftover check) and removes the state dir,
 * in that order, whatever fails.
 *
 * <pre>{@code
 * try (CriNode node = CriNode.start(tempDir, PrivateContainerd.builder().cni(true));
 *      Kubelet kubelet = Kubelet.create(node.cri(), tempDir.resolve("kubelet"))) {
 *     Pod pod = kubelet.run(PodSpec.named("web").withContainer(Container.busybox("app", "sleep", "3600")));
 * }
 * }</pre>
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
     * @param work    a private directory for the configuration ({@code work/config})
     * @param options containerd options (CNI, MTU, networks...); its runtime config is set here
     * @return the running node
     */
    static CriNode start(Path work, PrivateContainerd.Builder options) {
        ShortDir state = ShortDir.create("pv");
        try {
            PrivateContainerd c = PrivateContainerd.startCri(
                    options.runtimeConfig(TestbedConfig.write(work.resolve("config"), "", 30, state.path())));
            return new CriNode(state, c, CriClient.connect(c.address()));
        } catch (RuntimeException | Error e) {
            state.close();
            throw e;
        }
    }

    PrivateContainerd containerd() {
        return containerd;
    }

    /** The shim's state directory: {@code <state dir>/<sandbox id>} is a VM's directory. */
    Path stateDir() {
        return stateDir.path();
    }

    CriClient cri() {
        return cri;
    }

    /** @return strings anything left by this node would name: the state dir and containerd's dir */
    List<String> markers() {
        return List.of(stateDir.path().toString(), containerd.dir().toString());
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
