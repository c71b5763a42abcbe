package dev.metaforge.plugins.core;

import dev.metaforge.api.data.ElementType;
import dev.metaforge.api.data.Idx;
import dev.metaforge.api.data.IdxArray;
import dev.metaforge.api.random.RandomStream;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Small generated IDX image sets for tests (never the real data): class {@code c} of
 * {@code classes} lights up horizontal band {@code c} of a {@code side × side} ubyte image, over
 * uniform noise, so a small MLP separates the classes quickly.
 */
final class TestImages {
    private TestImages() {
    }

    /** Writes {@code prefix-images-idx3-ubyte.gz} and {@code prefix-labels-idx1-ubyte.gz} into {@code dir}; labels cycle 0..classes-1. */
    static void write(Path dir, String prefix, int count, int classes, int side, long seed) throws IOException {
        RandomStream rng = RandomStream.of(seed);
        double[] pixels = new double[count * side * side];
        double[] labels = new double[count];
        int band = side / classes;
        for (int i = 0; i < count; i++) {
            int c = i % classes;
            labels[i] = c;
            for (int y = 0; y < side; y++) {
                for (int x = 0; x < side; x++) {
                    boolean lit = y >= c * band && y < (c + 1) * band;
                    pixels[(i * side + y) * side + x] = Math.floor((lit ? 150 : 0) + 100 * rng.nextDouble());
                }
            }
        }
        Idx.write(dir.resolve(prefix + "-images-idx3-ubyte.gz"), IdxArray.of(ElementType.UBYTE, new int[] {count, side, side}, pixels));
        Idx.write(dir.resolve(prefix + "-labels-idx1-ubyte.gz"), IdxArray.of(ElementType.UBYTE, new int[] {count}, labels));
    }
}
