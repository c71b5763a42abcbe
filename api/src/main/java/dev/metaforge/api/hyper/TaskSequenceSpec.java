package dev.metaforge.api.hyper;

import dev.metaforge.api.spec.Spec;
import dev.metaforge.api.train.BuildContext;

/**
 * JSON description of a {@link TaskSequence}, e.g. {@code {"type": "split-blobs", "tasks": 5}}. A spec
 * that reads files (a dataset) implements {@link #build(BuildContext)}, which resolves paths against the
 * spec file; a self-contained one implements {@link #build()}.
 */
public interface TaskSequenceSpec extends Spec {
    /** The sequence, for specs that need nothing from the build context. */
    default TaskSequence build() {
        throw new UnsupportedOperationException("this task sequence reads data: build it with build(BuildContext)");
    }

    /** The sequence, with the build context's base directory for relative paths; {@link #build()} by default. */
    default TaskSequence build(BuildContext context) {
        return build();
    }
}
