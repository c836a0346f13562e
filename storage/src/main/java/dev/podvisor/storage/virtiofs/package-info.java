/**
 * virtiofsd command-line safety: {@link dev.podvisor.storage.virtiofs.SafeVirtiofsdArgs}, the allow-list of the
 * virtiofsd options a configuration or an annotation may set (issue 8, case 5; reused for extra devices).
 */
package dev.podvisor.storage.virtiofs;
