package dev.metaforge.spi;

import static java.util.Objects.requireNonNull;

/**
 * New parameter and momentum buffer from {@link Kernels#sgdUpdateForeach}; both owned by the
 * caller. {@code buffer} is null when the step has no momentum.
 */
public record SgdResult(NativeArray param, NativeArray buffer) {
    public SgdResult {
        requireNonNull(param, "param is null");
    }
}
