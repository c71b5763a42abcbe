package dev.metaforge.plugins.hyper.ghn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DecoderSizeTest {
    @Test
    void countsMatchHandCountedLayers() {
        // embed 32 -> hidden 64 -> 64x64x3x3 = 36864 outputs: 32*64+64 + 64*36864+36864 (counted by hand).
        DecoderSize d = new DecoderSize(32, 64, 64, 64, 3);
        assertEquals(2048 + 64 + 2359296 + 36864, d.full());
        // rank 4, per tap A 64x4 + B 64x4 = 512, 9 taps = 4608 outputs: 2112 + 64*4608 + 4608.
        assertEquals(2112 + 294912 + 4608, d.lowRank(4));
        // The output layers differ by 64·64 / (4·(64 + 64)) = 8x per tap.
        assertTrue(d.lowRank(4) * 7 < d.full(), "LoGAH must be far smaller for wide layers");
    }

    @Test
    void badSizesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new DecoderSize(0, 1, 1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new DecoderSize(1, 1, 1, 1, 1).lowRank(0));
    }
}
