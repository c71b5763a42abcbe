package dev.metaforge.plugins.core;

import java.util.List;

/** Checks shared by the pooling specs. */
final class PoolFields {
    private PoolFields() {
    }

    /** As in PyTorch, padding may be at most half the window, so every window holds a real entry. */
    static void checkPadding(List<Integer> kernel, List<Integer> padding) {
        for (int i = 0; i < 2; i++) {
            if (2 * padding.get(i) > kernel.get(i)) {
                throw new IllegalArgumentException("field 'padding' must be at most half the kernel " + kernel + ", got " + padding);
            }
        }
    }
}
