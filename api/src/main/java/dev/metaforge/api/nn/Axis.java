package dev.metaforge.api.nn;

/**
 * What one axis of a parameter indexes, so that graph views, permutation checks and interval
 * bounds read a parameter's meaning from data rather than from the module's class.
 */
public enum Axis {
    /** The layer's input neurons or channels (a row of a Linear weight [in, out]; axis 1 of a conv weight). */
    IN,
    /** The layer's output neurons or channels; a bias or a normalisation scale has only this axis. */
    OUT,
    /** A spatial kernel offset (axes 2 and 3 of a conv weight). */
    KERNEL,
    /** An index that is no neuron: an embedding's vocabulary entry, a position. */
    INDEX,
    /** Anything else (a scalar, a free-form tensor). */
    OTHER
}
