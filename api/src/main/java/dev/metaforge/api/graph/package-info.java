/**
 * Networks as data for metanetworks: the parameter graph and the neuron-permutation symmetry.
 *
 * <ul>
 *   <li>{@link dev.metaforge.api.graph.GraphLayout} and {@link dev.metaforge.api.graph.ParamGraph}:
 *       a lossless {@code Module + Params <-> graph} mapping (neurons and channels as nodes, biases and
 *       per-neuron parameters as node features, weights as edge features, residual connections as
 *       identity edges), read only from the module's {@link dev.metaforge.api.nn.ModuleStructure} and
 *       its parameters' {@link dev.metaforge.api.nn.Axis axes}.</li>
 *   <li>{@link dev.metaforge.api.graph.NeuronSymmetry}: which hidden neurons may be permuted together
 *       (tied groups, blocks) and how a permutation acts on {@code Params}.</li>
 *   <li>{@link dev.metaforge.api.graph.PermutationHarness}: checks that a network's function is
 *       unchanged by those permutations and that a metanetwork is invariant or equivariant to them.</li>
 * </ul>
 *
 * <p>Nothing here knows a module's class: a third-party module that describes its structure gets a
 * graph and a symmetry check with no code in this package.
 */
package dev.metaforge.api.graph;
