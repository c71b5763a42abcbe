/**
 * Metanetworks: networks that take other networks' weights as input, as a
 * {@link dev.metaforge.api.graph.ParamGraph}, and predict something about them (invariant head) or
 * output new weights for them (equivariant head). Implementations live in plugins
 * ({@code metaforge-plugins-metanet}: {@code "gnn"}, {@code "nfn"}); the graph and the permutation
 * harness that checks their symmetry are in {@link dev.metaforge.api.graph}.
 */
package dev.metaforge.api.metanet;
