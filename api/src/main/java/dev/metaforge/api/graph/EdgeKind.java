package dev.metaforge.api.graph;

/** What an edge of the parameter graph stands for. */
public enum EdgeKind {
    /** A weight (or a kernel, or the weights of a flattened channel): its values are the edge's features. */
    WEIGHT,
    /**
     * A fixed identity connection (a residual addition, or a link between two versions of a neuron
     * when a second per-neuron parameter of the same role follows): feature 0 is 1, the rest 0; no
     * parameter is stored on it.
     */
    IDENTITY
}
