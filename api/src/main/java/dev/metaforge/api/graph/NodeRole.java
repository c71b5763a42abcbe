package dev.metaforge.api.graph;

/** Where a node set sits in the network: the module's inputs, its outputs, or in between. */
public enum NodeRole {
    /** The module's input neurons (and the entries of an embedding's vocabulary). */
    INPUT,
    /** Neurons between input and output. */
    HIDDEN,
    /** The neurons of the module's output group. */
    OUTPUT
}
