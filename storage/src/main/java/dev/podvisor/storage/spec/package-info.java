/**
 * A typed, read-only view of the OCI runtime spec ({@code config.json}): {@link dev.podvisor.storage.spec.OciSpec}
 * keeps the whole JSON tree and exposes the fields the storage planner and the sandbox need (mounts, annotations, root,
 * process terminal, memory and hugepage limits), plus copies with mounts or root path replaced for the guest view.
 */
package dev.podvisor.storage.spec;
