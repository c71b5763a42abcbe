package dev.metaforge.api.nn;

/** Whether a module call trains (dropout active, batch statistics updated) or evaluates. */
public enum Mode {
    TRAIN, EVAL
}
