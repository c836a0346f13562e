package dev.podvisor.sandbox.config;

import java.util.Map;
import java.util.Set;

/**
 * Keys Kata's configuration.toml may hold that Podvisor reads past without using. They are reported as
 * {@link ConfigOrigin#ignoredKeys()} rather than as unknown keys. Sources: the {@code hypervisor}, {@code runtime},
 * {@code agent} and {@code factory} structs of Kata Go src/runtime/pkg/katautils/config.go, plus keys only found in
 * configuration-clh.toml.in comments and runtime-rs configurations.
 */
final class KataKeys {
    private KataKeys() {
    }

    static final Set<String> HYPERVISOR = Set.of(
            "jailer_path", "ctlpath", "firmware_volume", "cpu_features", "machine_type",
            "tdx_quote_generation_service_socket_port", "entropy_source", "vhost_user_store_path",
            "file_mem_backend", "guest_hook_path", "guest_memory_dump_path", "seccompsandbox", "block_device_aio",
            "remote_hypervisor_socket", "valid_jailer_paths", "valid_ctlpaths", "pflashes",
            "valid_vhost_user_store_paths", "valid_file_mem_backends", "valid_entropy_sources",
            "rx_rate_limiter_max_rate", "tx_rate_limiter_max_rate", "memory_offset",
            "disk_rate_limiter_bw_max_rate", "disk_rate_limiter_bw_one_time_burst",
            "disk_rate_limiter_ops_max_rate", "disk_rate_limiter_ops_one_time_burst",
            "net_rate_limiter_bw_max_rate", "net_rate_limiter_bw_one_time_burst", "net_rate_limiter_ops_max_rate",
            "net_rate_limiter_ops_one_time_burst", "msize_9p", "remote_hypervisor_timeout",
            "block_device_cache_set", "block_device_cache_direct", "block_device_cache_noflush",
            "enable_vhost_user_store", "vhost_user_reconnect_timeout_sec", "enable_mem_prealloc",
            "enable_hugepages", "enable_virtio_mem", "enable_iommu", "enable_iommu_platform",
            "disable_nesting_checks", "enable_iothreads", "disable_image_nvdimm", "hot_plug_vfio",
            "cold_plug_vfio", "pcie_root_port", "pcie_switch_port", "disable_vhost_net",
            "guest_memory_dump_paging", "confidential_guest", "sev_snp_guest", "enable_guest_swap", "rootless",
            "disable_selinux", "disable_guest_selinux", "use_legacy_serial", "extra_monitor_socket",
            "virtio_fs_inode_file_handles", "reclaim_guest_freed_memory", "hotplug_vfio_on_root_bus",
            "guest_pre_attestation");

    static final Set<String> RUNTIME = Set.of(
            "jaeger_endpoint", "jaeger_user", "jaeger_password", "vfio_mode", "guest_selinux_label",
            "enable_tracing", "enable_vcpus_pinning", "experimental_force_guest_pull", "name", "hypervisor_name",
            "agent_name", "keep_abnormal", "enable_guest_swap");

    static final Set<String> AGENT = Set.of("cdh_api_timeout", "container_pipe_size", "mem_agent",
            "kernel_modules_debug");

    /** Whole tables Kata knows and Podvisor does not use. */
    static final Map<String, Set<String>> OTHER_TABLES = Map.of(
            "factory", Set.of("template_path", "vm_cache_endpoint", "vm_cache_number", "enable_template"),
            "image", Set.of("provision", "service_offload"));
}
