package dev.podvisor.sandbox.network;

/**
 * An address of a pod interface.
 *
 * @param v6      IPv6 (else IPv4)
 * @param address the address without prefix, e.g. {@code 10.88.0.5} or {@code fe80::42:aff:fe58:5}
 * @param prefix  the prefix length, e.g. 16
 */
public record NetAddress(boolean v6, String address, int prefix) {
}
